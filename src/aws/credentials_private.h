#ifndef RDSBK_AWS_CREDENTIALS_PRIVATE_H
#define RDSBK_AWS_CREDENTIALS_PRIVATE_H

/* Sources of the credentials chain, shared between the files of src/aws/credentials*.c. Each
 * fills `out` (the caller cleans it up) and returns 0, or a negative code with the error set. */

#include "rdsbk/buf.h"
#include "rdsbk/credentials.h"

#include <stdbool.h>
#include <stdio.h>

/* Runs `command` with /bin/sh and parses its stdout (credential_process). */
int rdsbk_credentials_from_process(struct rdsbk_credentials *out, const char *command);

/* The container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*). */
int rdsbk_credentials_from_container(struct rdsbk_credentials *out, struct rdsbk_http *http);

/*
 * The URL to fetch container credentials from (*out, caller frees): `relative`
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) when set, a path put after http://169.254.170.2; else
 * `full` (AWS_CONTAINER_CREDENTIALS_FULL_URI), https:// to any host or http:// to a loopback
 * address or a container agent, as botocore allows. No user info, and the host libcurl reads
 * must be the host written. Returns 0 or RDSBK_EAUTH naming the variable.
 */
int rdsbk_credentials_container_url(char **out, const char *relative, const char *full);

/* IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254. */
int rdsbk_credentials_from_imds(struct rdsbk_credentials *out, struct rdsbk_http *http);

/* True when AWS_EC2_METADATA_DISABLED=true. */
bool rdsbk_credentials_imds_disabled(void);

/* Reads a token file (trailing newline removed); *out is the caller's (a secret). */
int rdsbk_credentials_read_token_file(char **out, const char *path);

/* Reads what is left of `f` into `text` (emptied first, capped at 1 MiB; always a string, "" for
 * nothing read). Returns 0 or RDSBK_ENOMEM. What these files and commands hold is secret: clean
 * `text` up with rdsbk_buf_clean_up_secure. */
int rdsbk_credentials_read_all(struct rdsbk_buf *text, FILE *f);

/* Wipes a secret string, then frees it; NULL is a no-op. */
void rdsbk_credentials_free_secret(char *secret);

#endif
