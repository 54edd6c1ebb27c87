#ifndef RDSBK_TESTS_EMU_HARNESS_H
#define RDSBK_TESTS_EMU_HARNESS_H

/*
 * The local AWS emulator (tests/emulator/server.py) as a child process of a C test.
 *
 *   struct emu_harness *h = NULL;
 *   struct emu_harness_options o = {.iam_propagation_ms = 1500};
 *   emu_harness_start(&h, &o);                      // NULL options: the defaults
 *   emu_harness_client(&client, h, "111111111111", "eu-west-1");
 *   ... rdsbk calls through the client ...
 *   emu_harness_reset(h);                           // empty every service between cases
 *   emu_harness_stop(h);                            // SIGTERM, wait, remove the temp files
 *
 * Starting sets, for this process, AWS_SHARED_CREDENTIALS_FILE (the emulator's credentials, one
 * profile per account id), AWS_CONFIG_FILE (an empty file), AWS_EC2_METADATA_DISABLED=true and
 * no_proxy for 127.0.0.1, and unsets the environment's own AWS credentials and profile, so that
 * nothing reaches real AWS. One harness per process at a time (the environment is global).
 * Not thread-safe to start or stop; the clients it makes are as thread-safe as any.
 */

#include "rdsbk/client.h"

#include <cjson/cJSON.h>

#define EMU_ACCOUNT_A "111111111111"
#define EMU_ACCOUNT_B "222222222222"

struct emu_harness_options {
    const char *accounts;          /* comma-separated; NULL: EMU_ACCOUNT_A "," EMU_ACCOUNT_B */
    long iam_propagation_ms;       /* --iam-propagation-ms; 0: none */
    long sqs_name_reuse_wait_s;    /* --sqs-name-reuse-wait-s (AWS: 60); 0: none */
    const char *const *extra_args; /* more server arguments, NULL-terminated; may be NULL */
};

struct emu_harness;

/* Starts the emulator (/usr/bin/python3, or RDSBK_PYTHON when defined at compile time, running
 * RDSBK_SOURCE_DIR/tests/emulator/server.py --port 0) and waits up to 30 s for its "ready URL"
 * line. Returns 0 and *out (stop with emu_harness_stop), or -1 with a message on stderr. */
int emu_harness_start(struct emu_harness **out, const struct emu_harness_options *opts);

/* Stops it (SIGTERM, then SIGKILL after 10 s), removes the temp files, frees everything. NULL is
 * a no-op. Clients made by emu_harness_client must be freed first. */
void emu_harness_stop(struct emu_harness *h);

/* "http://127.0.0.1:PORT". Borrowed. */
const char *emu_harness_url(const struct emu_harness *h);

/* The path of the credentials file the emulator wrote. Borrowed. */
const char *emu_harness_credentials_file(const struct emu_harness *h);

/* A client for `account` (the profile of that name) in `region`, every endpoint pointing at the
 * emulator, over the harness's shared transport. Returns 0 and *out (rdsbk_client_free), or the
 * rdsbk error of rdsbk_client_new. */
int emu_harness_client(struct rdsbk_client **out, struct emu_harness *h, const char *account,
                       const char *region);

/* Calls the control API: `method` `path` (e.g. "POST", "/_emu/reset") with `body` (may be NULL)
 * as JSON. Returns the HTTP status (or -1 when the call failed); *out (may be NULL) receives the
 * parsed reply (cJSON_Delete; NULL when not JSON). */
int emu_harness_control(cJSON **out, struct emu_harness *h, const char *method, const char *path,
                        const cJSON *body);

/* POST /_emu/reset. Returns 0 or -1. */
int emu_harness_reset(struct emu_harness *h);

/* GET /_emu/requests: the "requests" array (caller deletes), or NULL. */
cJSON *emu_harness_requests(struct emu_harness *h);

/* DELETE /_emu/requests (empties the request log). Returns 0 or -1. */
int emu_harness_clear_requests(struct emu_harness *h);

/* GET /_emu/inventory: the "resources" array (caller deletes), or NULL. */
cJSON *emu_harness_inventory(struct emu_harness *h);

#endif
