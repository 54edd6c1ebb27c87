#include "rdsbk/http.h"

#include "aws/http_private.h"
#include "rdsbk/env.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"

#include <curl/curl.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef RDSBK_VERSION
#define RDSBK_VERSION "0"
#endif

#define S_USER_AGENT "rdsbk-provision/" RDSBK_VERSION

/*
 * One struct rdsbk_http per process. What is shared between threads and what is not:
 *   - DNS cache and TLS sessions: in the curl share handle, one mutex per curl_lock_data;
 *   - connections: in the easy handles, each used by one request at a time. The share handle
 *     deliberately does not hold the connection cache: CURLSHOPT_SHARE(3) says "it is not
 *     supported to share connections between multiple concurrent threads", and curl/curl#4544
 *     and #13347 (closed as known and documented) are the crashes that follow;
 *   - easy handles: a request takes an idle one from `handles` (under `handles_lock`), one whose
 *     last request went to the same host when there is one, so that its connection is reused,
 *     and gives it back when done. There are as many as requests were ever in flight at once,
 *     and their connections outlive the threads of one stage of a run (refresh, apply).
 */
struct s_handle {
    CURL *easy;
    bool busy;
    char host[256]; /* "scheme://host:port" of its last request: where its connection goes */
};

struct rdsbk_http {
    struct rdsbk_http_options opts;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t handles_lock;
    struct s_handle **handles; /* idle ones last given back at the end */
    size_t n_handles;
    rdsbk_http_transport_fn transport;
    void *transport_payload;
};

static pthread_once_t s_global_once = PTHREAD_ONCE_INIT;
static CURLcode s_global_rc = CURLE_FAILED_INIT;

static void s_global_init(void) {
    s_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void rdsbk_http_response_clean_up(struct rdsbk_http_response *resp) {
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    rdsbk_buf_clean_up(&resp->body);
    memset(resp, 0, sizeof(*resp));
}

const char *rdsbk_http_response_header(const struct rdsbk_http_response *resp, const char *name) {
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

static void s_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *payload) {
    struct rdsbk_http *http = payload;
    (void)easy;
    (void)access;
    pthread_mutex_lock(&http->share_locks[data]);
}

static void s_unlock(CURL *easy, curl_lock_data data, void *payload) {
    struct rdsbk_http *http = payload;
    (void)easy;
    pthread_mutex_unlock(&http->share_locks[data]);
}

/*
 * Environment overrides for options the caller left at 0 (tests shorten timeouts and retry
 * delays with them; explicit options win): RDSBK_HTTP_TIMEOUT_MS, RDSBK_RETRY_MAX_ATTEMPTS,
 * RDSBK_RETRY_BASE_DELAY_MS, at most a day each.
 */
#define S_ENV_MAX 86400000L

int rdsbk_http_new(struct rdsbk_http **out, const struct rdsbk_http_options *opts) {
    struct rdsbk_http *http = NULL;
    int result;

    *out = NULL;
    pthread_once(&s_global_once, s_global_init);
    if (s_global_rc != CURLE_OK) {
        result = rdsbk_error_set(RDSBK_ERROR, "libcurl initialisation failed: %s",
                                 curl_easy_strerror(s_global_rc));
        goto cleanup;
    }
    http = calloc(1, sizeof(*http));
    if (!http) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    if (opts)
        http->opts = *opts;
    if (http->opts.timeout_ms <= 0)
        http->opts.timeout_ms = rdsbk_env_positive("RDSBK_HTTP_TIMEOUT_MS", S_ENV_MAX);
    if (http->opts.max_attempts <= 0)
        http->opts.max_attempts = (int)rdsbk_env_positive("RDSBK_RETRY_MAX_ATTEMPTS", S_ENV_MAX);
    if (http->opts.base_delay_ms <= 0)
        http->opts.base_delay_ms = rdsbk_env_positive("RDSBK_RETRY_BASE_DELAY_MS", S_ENV_MAX);
    if (http->opts.connect_timeout_ms <= 0)
        http->opts.connect_timeout_ms = 10000;
    if (http->opts.timeout_ms <= 0)
        http->opts.timeout_ms = 60000;
    if (http->opts.max_attempts <= 0)
        http->opts.max_attempts = 8;
    if (http->opts.base_delay_ms <= 0)
        http->opts.base_delay_ms = 1000;
    if (http->opts.max_delay_ms <= 0)
        http->opts.max_delay_ms = 20000;
    if (http->opts.max_body_bytes == 0)
        http->opts.max_body_bytes = (size_t)64 * 1024 * 1024;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&http->share_locks[i], NULL);
    pthread_mutex_init(&http->handles_lock, NULL);

    http->share = curl_share_init();
    if (!http->share || curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, s_lock) ||
        curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, s_unlock) ||
        curl_share_setopt(http->share, CURLSHOPT_USERDATA, http) ||
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION)) {
        result = rdsbk_error_set(RDSBK_ERROR, "cannot set up the libcurl share handle");
        goto cleanup;
    }
    *out = http;
    http = NULL;
    result = 0;

cleanup:
    rdsbk_http_free(http);
    return result;
}

void rdsbk_http_free(struct rdsbk_http *http) {
    if (!http)
        return;
    /* easy handles first: they hold references into the share */
    for (size_t i = 0; i < http->n_handles; i++) {
        curl_easy_cleanup(http->handles[i]->easy);
        free(http->handles[i]);
    }
    free(http->handles);
    if (http->share)
        curl_share_cleanup(http->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&http->share_locks[i]);
    pthread_mutex_destroy(&http->handles_lock);
    free(http);
}

const struct rdsbk_http_options *rdsbk_http_options_of(const struct rdsbk_http *http) {
    return &http->opts;
}

void rdsbk_http_set_transport(struct rdsbk_http *http, rdsbk_http_transport_fn fn, void *payload) {
    http->transport = fn;
    http->transport_payload = payload;
}

/* The "scheme://authority" part of a URL, cut to fit `out`. */
static void s_host_of(char *out, size_t size, const char *url) {
    const char *start = strstr(url, "://");
    const char *end = start ? strchr(start + 3, '/') : NULL;
    size_t n = end ? (size_t)(end - url) : strlen(url);

    if (n >= size)
        n = size - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

/*
 * An idle easy handle for a request to `url`, marked busy: the one last used for the same host
 * when there is one (its connection is still open), else the most recently given back, else a
 * new one. NULL when out of memory (error set).
 */
static struct s_handle *s_take_handle(struct rdsbk_http *http, const char *url) {
    char host[sizeof(((struct s_handle *)0)->host)];
    struct s_handle *found = NULL;
    struct s_handle *idle = NULL;

    s_host_of(host, sizeof(host), url);
    pthread_mutex_lock(&http->handles_lock);
    for (size_t i = http->n_handles; i-- > 0;) {
        struct s_handle *h = http->handles[i];
        if (h->busy)
            continue;
        if (strcmp(h->host, host) == 0) {
            found = h;
            break;
        }
        if (!idle)
            idle = h;
    }
    if (!found)
        found = idle;
    if (!found) {
        struct s_handle **grown = realloc(http->handles, (http->n_handles + 1) * sizeof(*grown));
        struct s_handle *h = calloc(1, sizeof(*h));
        if (grown)
            http->handles = grown;
        if (grown && h && (h->easy = curl_easy_init()) != NULL) {
            http->handles[http->n_handles++] = h;
            found = h;
        } else {
            free(h);
        }
    }
    if (found) {
        found->busy = true;
        memcpy(found->host, host, sizeof(host));
    }
    pthread_mutex_unlock(&http->handles_lock);
    if (!found)
        rdsbk_error_set(RDSBK_ENOMEM, "out of memory (libcurl handle)");
    return found;
}

/* Gives a handle back, last in the list: the next request takes the warmest connection. */
static void s_give_back(struct rdsbk_http *http, struct s_handle *h) {
    pthread_mutex_lock(&http->handles_lock);
    h->busy = false;
    for (size_t i = 0; i + 1 < http->n_handles; i++) {
        if (http->handles[i] == h) {
            memmove(&http->handles[i], &http->handles[i + 1],
                    (http->n_handles - i - 1) * sizeof(*http->handles));
            http->handles[http->n_handles - 1] = h;
            break;
        }
    }
    pthread_mutex_unlock(&http->handles_lock);
}

struct s_receive {
    struct rdsbk_http_response *resp;
    size_t max_body;
    bool too_big;
    bool nomem;
};

static size_t s_on_body(char *data, size_t size, size_t nmemb, void *payload) {
    struct s_receive *rx = payload;
    size_t len = size * nmemb;

    if (rx->resp->body.len + len > rx->max_body) {
        rx->too_big = true;
        return 0;
    }
    if (rdsbk_buf_add(&rx->resp->body, data, len) != 0) {
        rx->nomem = true;
        return 0;
    }
    return len;
}

static void s_drop_headers(struct rdsbk_http_response *resp) {
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    resp->n_headers = 0;
}

static size_t s_on_header(char *data, size_t size, size_t nmemb, void *payload) {
    struct s_receive *rx = payload;
    size_t len = size * nmemb;
    const char *colon;
    size_t name_len;
    const char *v;
    const char *end = data + len;
    struct rdsbk_header *grown;

    /* A new status line (after 100 Continue or a proxy's CONNECT reply): start over. */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        s_drop_headers(rx->resp);
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon)
        return len; /* the blank line, or a folded line: ignored */
    name_len = (size_t)(colon - data);
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    grown = realloc(rx->resp->headers, (rx->resp->n_headers + 1) * sizeof(*grown));
    if (!grown) {
        rx->nomem = true;
        return 0;
    }
    rx->resp->headers = grown;
    grown[rx->resp->n_headers].name = strndup(data, name_len);
    grown[rx->resp->n_headers].value = strndup(v, (size_t)(end - v));
    rx->resp->n_headers++;
    if (!grown[rx->resp->n_headers - 1].name || !grown[rx->resp->n_headers - 1].value) {
        rx->nomem = true;
        return 0;
    }
    return len;
}

/* The request headers as curl wants them; an empty value needs "Name;". */
static int s_header_list(struct curl_slist **out, const struct rdsbk_http_request *req) {
    struct curl_slist *list = NULL;
    struct curl_slist *next;
    struct rdsbk_buf line = RDSBK_BUF_INIT;
    int result = 0;

    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    next = curl_slist_append(list, "Expect:");
    if (!next)
        goto nomem;
    list = next;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *value = req->headers[i].value ? req->headers[i].value : "";
        rdsbk_buf_reset(&line);
        if (*value)
            result = rdsbk_buf_printf(&line, "%s: %s", req->headers[i].name, value);
        else
            result = rdsbk_buf_printf(&line, "%s;", req->headers[i].name);
        if (result)
            goto cleanup;
        next = curl_slist_append(list, line.ptr);
        if (!next)
            goto nomem;
        list = next;
    }
    *out = list;
    list = NULL;
    goto cleanup;

nomem:
    result = rdsbk_error_oom();
cleanup:
    curl_slist_free_all(list);
    rdsbk_buf_clean_up_secure(&line); /* held the Authorization and token lines */
    return result;
}

/* Maps a libcurl failure to our codes: transient network failures are RDSBK_EIO (retryable). */
static int s_curl_error(CURLcode rc, const char *errbuf, const char *url_host) {
    const char *what = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);

    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return rdsbk_error_set(RDSBK_ETIMEOUT, "%s: timed out: %s", url_host, what);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", url_host, what);
    case CURLE_OUT_OF_MEMORY:
        return rdsbk_error_set(RDSBK_ENOMEM, "out of memory (libcurl)");
    default:
        return rdsbk_error_set(RDSBK_ERROR, "%s: %s", url_host, what);
    }
}

static int s_curl_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                       const struct rdsbk_http_request *req) {
    struct s_receive rx = {resp, http->opts.max_body_bytes, false, false};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE];
    struct s_handle *handle;
    CURL *easy;
    CURLcode rc;
    long status = 0;
    int result;

    errbuf[0] = '\0';
    handle = s_take_handle(http, req->url);
    if (!handle)
        return RDSBK_ENOMEM;
    easy = handle->easy;
    result = s_header_list(&headers, req);
    if (result)
        goto cleanup;
    /* curl_easy_reset keeps the handle's live connections and caches, drops every option. */
    curl_easy_reset(easy);
    rc = curl_easy_setopt(easy, CURLOPT_URL, req->url);
    /* The receive buffer libcurl allocates for each transfer (16 KB by default, freed when the
     * transfer ends): 4 KB takes most replies in one read, and at 94 requests in flight the
     * 12 KB saved on each are 1.1 MB of a 50-source run's peak. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 4096L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_SHARE, http->share);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* TLS verification is always on; nothing can turn it off. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, http->opts.connect_timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, http->opts.timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_USERAGENT, S_USER_AGENT);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, s_on_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_WRITEDATA, &rx);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, s_on_header);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_HEADERDATA, &rx);
    if (rc == CURLE_OK && req->fresh_connection)
        rc = curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    /* Method and body */
    if (rc == CURLE_OK) {
        if (strcmp(req->method, "GET") == 0 && req->body_len == 0) {
            rc = curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(req->method, "HEAD") == 0) {
            rc = curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        } else {
            if (req->body_len > 0 || strcmp(req->method, "POST") == 0 ||
                strcmp(req->method, "PUT") == 0) {
                rc = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
                if (rc == CURLE_OK)
                    rc = curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                                          req->body ? (const char *)req->body : "");
            }
            if (rc == CURLE_OK && strcmp(req->method, "POST") != 0)
                rc = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    if (rc != CURLE_OK) {
        result = rdsbk_error_set(RDSBK_ERROR, "libcurl option refused: %s", curl_easy_strerror(rc));
        goto cleanup;
    }

    rdsbk_buf_init(&resp->body, http->opts.max_body_bytes + 1);
    rc = curl_easy_perform(easy);
    /* the handle must not keep pointers to this frame's data */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
    if (rx.too_big) {
        result = rdsbk_error_set(RDSBK_ENOMEM, "response body over the %zu-byte cap",
                                 http->opts.max_body_bytes);
        goto cleanup;
    }
    if (rx.nomem) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    if (rc != CURLE_OK) {
        char *host = NULL;
        CURLU *u = curl_url();
        if (u && curl_url_set(u, CURLUPART_URL, req->url, 0) == CURLUE_OK)
            curl_url_get(u, CURLUPART_HOST, &host, 0);
        result = s_curl_error(rc, errbuf, host ? host : "request");
        curl_free(host);
        curl_url_cleanup(u);
        goto cleanup;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    result = 0;

cleanup:
    s_give_back(http, handle);
    curl_slist_free_all(headers);
    if (result)
        rdsbk_http_response_clean_up(resp);
    return result;
}

int rdsbk_http_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                    const struct rdsbk_http_request *req) {
    int result;

    memset(resp, 0, sizeof(*resp));
    if (!req->method || !req->url) {
        result = rdsbk_error_set(RDSBK_EINVALID, "request without a method or URL");
        goto cleanup;
    }
    if (http->transport) {
        rdsbk_buf_init(&resp->body, http->opts.max_body_bytes + 1);
        result = http->transport(resp, req, http->transport_payload);
        if (result == 0 && resp->body.len > http->opts.max_body_bytes)
            result = rdsbk_error_set(RDSBK_ENOMEM, "response body over the %zu-byte cap",
                                     http->opts.max_body_bytes);
        if (result)
            rdsbk_http_response_clean_up(resp);
        goto cleanup;
    }
    result = s_curl_send(resp, http, req);

cleanup:
    return result;
}
