/* The emulator as a child process; see emu_harness.h. */
#include "emu_harness.h"

#include "rdsbk/buf.h"
#include "rdsbk/config.h"
#include "rdsbk/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef RDSBK_PYTHON
#define RDSBK_PYTHON "/usr/bin/python3"
#endif

#define S_READY_TIMEOUT_MS 30000
#define S_STOP_TIMEOUT_MS 10000

struct emu_harness {
    pid_t pid;
    int out_fd; /* the child's stdout: kept open so a late write cannot SIGPIPE it */
    char url[128];
    char dir[PATH_MAX - 64];
    char credentials[PATH_MAX];
    char config[PATH_MAX];
    struct rdsbk_http *http;
    struct rdsbk_endpoints endpoints;
};

static long s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The environment every rdsbk client of this process will see. */
static int s_set_environment(const struct emu_harness *h) {
    static const char *const unset[] = {"AWS_ACCESS_KEY_ID",
                                        "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_PROFILE",
                                        "AWS_DEFAULT_PROFILE",
                                        "AWS_ROLE_ARN",
                                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                        "AWS_ENDPOINT_URL"};
    int rc = 0;

    for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
        rc |= unsetenv(unset[i]);
    rc |= setenv("AWS_SHARED_CREDENTIALS_FILE", h->credentials, 1);
    rc |= setenv("AWS_CONFIG_FILE", h->config, 1);
    rc |= setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    rc |= setenv("no_proxy", "127.0.0.1,localhost", 1);
    rc |= setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    return rc ? -1 : 0;
}

/* Reads the child's "ready URL" line. */
static int s_wait_ready(struct emu_harness *h) {
    char line[256];
    size_t len = 0;
    long deadline = s_now_ms() + S_READY_TIMEOUT_MS;
    int result = -1;

    while (len < sizeof(line) - 1) {
        struct pollfd p = {.fd = h->out_fd, .events = POLLIN};
        long left = deadline - s_now_ms();
        ssize_t n;
        if (left <= 0) {
            fprintf(stderr, "emu_harness: no ready line within %d ms\n", S_READY_TIMEOUT_MS);
            goto cleanup;
        }
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        n = read(h->out_fd, line + len, 1);
        if (n <= 0) {
            fprintf(stderr, "emu_harness: the emulator exited before it was ready\n");
            goto cleanup;
        }
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    if (strncmp(line, "ready ", 6) != 0 || len - 6 >= sizeof(h->url)) {
        fprintf(stderr, "emu_harness: unexpected first line: %s\n", line);
        goto cleanup;
    }
    memcpy(h->url, line + 6, len - 6 + 1);
    result = 0;

cleanup:
    return result;
}

static int s_spawn(struct emu_harness *h, const struct emu_harness_options *opts) {
    char server[PATH_MAX];
    char propagation[32];
    char reuse[32];
    const char *argv[64];
    size_t argc = 0;
    int pipe_fd[2] = {-1, -1};
    int result = -1;

    snprintf(server, sizeof(server), "%s/tests/emulator/server.py", RDSBK_SOURCE_DIR);
    snprintf(propagation, sizeof(propagation), "%ld", opts ? opts->iam_propagation_ms : 0L);
    snprintf(reuse, sizeof(reuse), "%ld", opts ? opts->sqs_name_reuse_wait_s : 0L);
    argv[argc++] = RDSBK_PYTHON;
    argv[argc++] = server;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--accounts";
    argv[argc++] = opts && opts->accounts ? opts->accounts : EMU_ACCOUNT_A "," EMU_ACCOUNT_B;
    argv[argc++] = "--credentials-file";
    argv[argc++] = h->credentials;
    argv[argc++] = "--iam-propagation-ms";
    argv[argc++] = propagation;
    argv[argc++] = "--sqs-name-reuse-wait-s";
    argv[argc++] = reuse;
    for (size_t i = 0; opts && opts->extra_args && opts->extra_args[i] && argc < 63; i++)
        argv[argc++] = opts->extra_args[i];
    argv[argc] = NULL;

    if (pipe(pipe_fd) != 0) {
        perror("emu_harness: pipe");
        goto cleanup;
    }
    fflush(NULL);
    h->pid = fork();
    if (h->pid < 0) {
        perror("emu_harness: fork");
        goto cleanup;
    }
    if (h->pid == 0) {
#ifdef __linux__
        /* a test that dies must not leave the emulator running */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        dup2(pipe_fd[1], STDOUT_FILENO);
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        execv(argv[0], (char *const *)argv);
        perror("emu_harness: exec");
        _exit(127);
    }
    h->out_fd = pipe_fd[0];
    pipe_fd[0] = -1;
    result = s_wait_ready(h);

cleanup:
    if (pipe_fd[0] >= 0)
        close(pipe_fd[0]);
    if (pipe_fd[1] >= 0)
        close(pipe_fd[1]);
    return result;
}

int emu_harness_start(struct emu_harness **out, const struct emu_harness_options *opts) {
    struct emu_harness *h = calloc(1, sizeof(*h));
    const char *tmp = getenv("TMPDIR");
    int result = -1;
    int fd;

    *out = NULL;
    if (!h)
        goto cleanup;
    h->pid = -1;
    h->out_fd = -1;
    snprintf(h->dir, sizeof(h->dir), "%s/rdsbk-emu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(h->dir)) {
        perror("emu_harness: mkdtemp");
        h->dir[0] = '\0';
        goto cleanup;
    }
    snprintf(h->credentials, sizeof(h->credentials), "%s/credentials", h->dir);
    snprintf(h->config, sizeof(h->config), "%s/config", h->dir);
    fd = open(h->config, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("emu_harness: config file");
        goto cleanup;
    }
    close(fd);
    if (s_set_environment(h) != 0 || s_spawn(h, opts) != 0)
        goto cleanup;
    if (rdsbk_http_new(&h->http, NULL) != 0) {
        fprintf(stderr, "emu_harness: rdsbk_http_new failed\n");
        goto cleanup;
    }
    h->endpoints.default_url = h->url;
    *out = h;
    h = NULL;
    result = 0;

cleanup:
    emu_harness_stop(h);
    return result;
}

void emu_harness_stop(struct emu_harness *h) {
    if (!h)
        return;
    if (h->pid > 0) {
        long deadline = s_now_ms() + S_STOP_TIMEOUT_MS;
        int status;
        kill(h->pid, SIGTERM);
        while (waitpid(h->pid, &status, WNOHANG) == 0) {
            struct timespec ts = {0, 20 * 1000000L};
            if (s_now_ms() > deadline) {
                fprintf(stderr, "emu_harness: the emulator ignored SIGTERM; killing it\n");
                kill(h->pid, SIGKILL);
                waitpid(h->pid, &status, 0);
                break;
            }
            nanosleep(&ts, NULL);
        }
    }
    if (h->out_fd >= 0)
        close(h->out_fd);
    rdsbk_http_free(h->http);
    if (h->dir[0]) {
        unlink(h->credentials);
        unlink(h->config);
        rmdir(h->dir);
    }
    free(h);
}

const char *emu_harness_url(const struct emu_harness *h) {
    return h->url;
}

const char *emu_harness_credentials_file(const struct emu_harness *h) {
    return h->credentials;
}

int emu_harness_client(struct rdsbk_client **out, struct emu_harness *h, const char *account,
                       const char *region) {
    struct rdsbk_client_options o = {0};

    o.region = region;
    o.profile = account;
    o.endpoints = &h->endpoints;
    o.http = h->http;
    return rdsbk_client_new(out, &o);
}

static size_t s_collect(char *data, size_t size, size_t n, void *payload) {
    struct rdsbk_buf *b = payload;
    return rdsbk_buf_add(b, data, size * n) == 0 ? size * n : 0;
}

int emu_harness_control(cJSON **out, struct emu_harness *h, const char *method, const char *path,
                        const cJSON *body) {
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    struct rdsbk_buf reply = RDSBK_BUF_INIT;
    char url[512];
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    long status = -1;

    if (out)
        *out = NULL;
    if (!curl)
        goto cleanup;
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    if (text || strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text ? text : "{}");
    }
    if (curl_easy_perform(curl) != CURLE_OK)
        goto cleanup;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (out && reply.len)
        *out = cJSON_ParseWithLength(reply.ptr, reply.len);

cleanup:
    if (status < 0)
        fprintf(stderr, "emu_harness: %s %s failed\n", method, path);
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    rdsbk_buf_clean_up(&reply);
    cJSON_free(text);
    return (int)status;
}

int emu_harness_reset(struct emu_harness *h) {
    return emu_harness_control(NULL, h, "POST", "/_emu/reset", NULL) == 200 ? 0 : -1;
}

/* The array member `field` of the reply to GET `path`, detached (caller deletes), or NULL. */
static cJSON *s_get_array(struct emu_harness *h, const char *path, const char *field) {
    cJSON *reply = NULL;
    cJSON *items = NULL;

    if (emu_harness_control(&reply, h, "GET", path, NULL) == 200)
        items = cJSON_DetachItemFromObjectCaseSensitive(reply, field);
    cJSON_Delete(reply);
    if (items && !cJSON_IsArray(items)) {
        cJSON_Delete(items);
        items = NULL;
    }
    return items;
}

cJSON *emu_harness_requests(struct emu_harness *h) {
    return s_get_array(h, "/_emu/requests", "requests");
}

int emu_harness_clear_requests(struct emu_harness *h) {
    return emu_harness_control(NULL, h, "DELETE", "/_emu/requests", NULL) == 200 ? 0 : -1;
}

cJSON *emu_harness_inventory(struct emu_harness *h) {
    return s_get_array(h, "/_emu/inventory", "resources");
}
