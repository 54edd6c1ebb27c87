/* The HTTP transport: libcurl handles shared between threads, one attempt of a request. */
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

/* Frees the headers of `resp`, keeping the array. */
static void s_drop_headers(struct rdsbk_http_response *resp) {
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    resp->n_headers = 0;
}

void rdsbk_http_response_clean_up(struct rdsbk_http_response *resp) {
    s_drop_headers(resp);
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

/* Fills the options left at 0: from the environment, then with the defaults of http.h. */
static void s_fill_options(struct rdsbk_http_options *o) {
    if (o->timeout_ms <= 0)
        o->timeout_ms = rdsbk_env_positive("RDSBK_HTTP_TIMEOUT_MS", S_ENV_MAX);
    if (o->max_attempts <= 0)
        o->max_attempts = (int)rdsbk_env_positive("RDSBK_RETRY_MAX_ATTEMPTS", S_ENV_MAX);
    if (o->base_delay_ms <= 0)
        o->base_delay_ms = rdsbk_env_positive("RDSBK_RETRY_BASE_DELAY_MS", S_ENV_MAX);
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 10000;
    if (o->timeout_ms <= 0)
        o->timeout_ms = 60000;
    if (o->max_attempts <= 0)
        o->max_attempts = 8;
    if (o->base_delay_ms <= 0)
        o->base_delay_ms = 1000;
    if (o->max_delay_ms <= 0)
        o->max_delay_ms = 20000;
    if (o->max_body_bytes == 0)
        o->max_body_bytes = (size_t)64 * 1024 * 1024;
}

/* The share handle: DNS cache and TLS sessions, under the transport's locks. */
static int s_share_init(struct rdsbk_http *http) {
    http->share = curl_share_init();
    if (!http->share || curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, s_lock) ||
        curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, s_unlock) ||
        curl_share_setopt(http->share, CURLSHOPT_USERDATA, http) ||
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))
        return rdsbk_error_set(RDSBK_ERROR, "cannot set up the libcurl share handle");
    return 0;
}

int rdsbk_http_new(struct rdsbk_http **out, const struct rdsbk_http_options *opts) {
    struct rdsbk_http *http = NULL;
    int rc;

    *out = NULL;
    pthread_once(&s_global_once, s_global_init);
    if (s_global_rc != CURLE_OK)
        return rdsbk_error_set(RDSBK_ERROR, "libcurl initialisation failed: %s",
                               curl_easy_strerror(s_global_rc));
    http = calloc(1, sizeof(*http));
    RDSBK_CHECK_ALLOC(http);
    if (opts)
        http->opts = *opts;
    s_fill_options(&http->opts);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&http->share_locks[i], NULL);
    pthread_mutex_init(&http->handles_lock, NULL);
    RDSBK_TRY(s_share_init(http));
    *out = http;
    http = NULL;

cleanup:
    rdsbk_http_free(http);
    return rc;
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

/* The idle handle last used for `host` (its connection is still open), else the one given back
 * last; NULL when every handle is busy. Under handles_lock. */
static struct s_handle *s_idle_handle(struct rdsbk_http *http, const char *host) {
    struct s_handle *idle = NULL;

    for (size_t i = http->n_handles; i-- > 0;) {
        struct s_handle *h = http->handles[i];
        if (h->busy)
            continue;
        if (strcmp(h->host, host) == 0)
            return h;
        if (!idle)
            idle = h;
    }
    return idle;
}

/* A new handle at the end of the list, or NULL when out of memory. Under handles_lock. */
static struct s_handle *s_add_handle(struct rdsbk_http *http) {
    struct s_handle **grown = realloc(http->handles, (http->n_handles + 1) * sizeof(*grown));
    struct s_handle *h;

    if (!grown)
        return NULL;
    http->handles = grown;
    h = calloc(1, sizeof(*h));
    if (h)
        h->easy = curl_easy_init();
    if (!h || !h->easy) {
        free(h);
        return NULL;
    }
    http->handles[http->n_handles++] = h;
    return h;
}

/* *out = an idle easy handle for a request to `url`, marked busy (s_idle_handle, else a new
 * one). Returns 0 or RDSBK_ENOMEM. */
static int s_take_handle(struct s_handle **out, struct rdsbk_http *http, const char *url) {
    char host[sizeof(((struct s_handle *)0)->host)];
    struct s_handle *h;

    s_host_of(host, sizeof(host), url);
    pthread_mutex_lock(&http->handles_lock);
    h = s_idle_handle(http, host);
    if (!h)
        h = s_add_handle(http);
    if (h) {
        h->busy = true;
        memcpy(h->host, host, sizeof(host));
    }
    pthread_mutex_unlock(&http->handles_lock);
    *out = h;
    return h ? 0 : rdsbk_error_oom();
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

    if (rdsbk_buf_len(&rx->resp->body) + len > rx->max_body) {
        rx->too_big = true;
        return 0;
    }
    if (rdsbk_buf_add(&rx->resp->body, data, len) != 0) {
        rx->nomem = true;
        return 0;
    }
    return len;
}

/* Appends the header `name` (name_len bytes) with `value` (value_len bytes) to `resp`; false
 * when out of memory. */
static bool s_add_header(struct rdsbk_http_response *resp, const char *name, size_t name_len,
                         const char *value, size_t value_len) {
    struct rdsbk_header *grown = realloc(resp->headers, (resp->n_headers + 1) * sizeof(*grown));

    if (!grown)
        return false;
    resp->headers = grown;
    grown[resp->n_headers].name = strndup(name, name_len);
    grown[resp->n_headers].value = strndup(value, value_len);
    resp->n_headers++;
    return grown[resp->n_headers - 1].name && grown[resp->n_headers - 1].value;
}

static size_t s_on_header(char *data, size_t size, size_t nmemb, void *payload) {
    struct s_receive *rx = payload;
    size_t len = size * nmemb;
    const char *end = data + len;
    const char *colon;
    const char *v;

    /* A new status line (after 100 Continue or a proxy's CONNECT reply): start over. */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        s_drop_headers(rx->resp);
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon)
        return len; /* the blank line, or a folded line: ignored */
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    if (!s_add_header(rx->resp, data, (size_t)(colon - data), v, (size_t)(end - v))) {
        rx->nomem = true;
        return 0;
    }
    return len;
}

/* Appends `line` to the header list *list. */
static int s_list_add(struct curl_slist **list, const char *line) {
    struct curl_slist *next = curl_slist_append(*list, line);

    if (!next)
        return rdsbk_error_oom();
    *list = next;
    return 0;
}

/* The request headers as curl wants them; an empty value needs "Name;". */
static int s_header_list(struct curl_slist **out, const struct rdsbk_http_request *req) {
    struct curl_slist *list = NULL;
    struct rdsbk_buf line = RDSBK_BUF_INIT;
    int rc;

    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    RDSBK_TRY(s_list_add(&list, "Expect:"));
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *value = req->headers[i].value ? req->headers[i].value : "";
        rdsbk_buf_reset(&line);
        if (*value)
            RDSBK_TRY(rdsbk_buf_printf(&line, "%s: %s", req->headers[i].name, value));
        else
            RDSBK_TRY(rdsbk_buf_printf(&line, "%s;", req->headers[i].name));
        RDSBK_TRY(s_list_add(&list, rdsbk_buf_cstr(&line)));
    }
    *out = list;
    list = NULL;

cleanup:
    curl_slist_free_all(list);
    rdsbk_buf_clean_up_secure(&line); /* held the Authorization and token lines */
    return rc;
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

/* Sets one option of `easy`, leaving the function with libcurl's code when the option is refused
 * (as RDSBK_TRY leaves with ours). */
#define S_SETOPT(easy, option, value)                                                              \
    do {                                                                                           \
        CURLcode setopt_rc = curl_easy_setopt(easy, option, value);                                \
        if (setopt_rc != CURLE_OK)                                                                 \
            return setopt_rc;                                                                      \
    } while (0)

/* Method and body: GET, HEAD, or any other with the body (POST and PUT always carry one). */
static CURLcode s_set_method(CURL *easy, const struct rdsbk_http_request *req) {
    if (strcmp(req->method, "GET") == 0 && req->body_len == 0)
        return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    if (strcmp(req->method, "HEAD") == 0)
        return curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    if (req->body_len > 0 || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        S_SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        S_SETOPT(easy, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    }
    if (strcmp(req->method, "POST") != 0)
        S_SETOPT(easy, CURLOPT_CUSTOMREQUEST, req->method);
    return CURLE_OK;
}

/* Every option of one transfer, on a handle just reset; the header list, error buffer and
 * receiver are the caller's frame's. */
static CURLcode s_set_options(CURL *easy, const struct rdsbk_http *http,
                              const struct rdsbk_http_request *req, struct curl_slist *headers,
                              char *errbuf, struct s_receive *rx) {
    S_SETOPT(easy, CURLOPT_URL, req->url);
    /* The receive buffer libcurl allocates for each transfer (16 KB by default, freed when the
     * transfer ends): 4 KB takes most replies in one read, and at 94 requests in flight the
     * 12 KB saved on each are 1.1 MB of a 50-source run's peak. */
    S_SETOPT(easy, CURLOPT_BUFFERSIZE, 4096L);
    S_SETOPT(easy, CURLOPT_SHARE, http->share);
    S_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    S_SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    S_SETOPT(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* TLS verification is always on; nothing can turn it off. */
    S_SETOPT(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    S_SETOPT(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    S_SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
    S_SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, http->opts.connect_timeout_ms);
    S_SETOPT(easy, CURLOPT_TIMEOUT_MS, http->opts.timeout_ms);
    S_SETOPT(easy, CURLOPT_USERAGENT, S_USER_AGENT);
    S_SETOPT(easy, CURLOPT_HTTPHEADER, headers);
    S_SETOPT(easy, CURLOPT_ERRORBUFFER, errbuf);
    S_SETOPT(easy, CURLOPT_WRITEFUNCTION, s_on_body);
    S_SETOPT(easy, CURLOPT_WRITEDATA, rx);
    S_SETOPT(easy, CURLOPT_HEADERFUNCTION, s_on_header);
    S_SETOPT(easy, CURLOPT_HEADERDATA, rx);
    if (req->fresh_connection)
        S_SETOPT(easy, CURLOPT_FRESH_CONNECT, 1L);
    return s_set_method(easy, req);
}

/* The error of a transfer that failed (curl's code `rc`), named by the URL's host. */
static int s_transfer_error(CURLcode rc, const char *errbuf, const char *url) {
    CURLU *u = curl_url();
    char *host = NULL;
    int error;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    error = s_curl_error(rc, errbuf, host ? host : "request");
    curl_free(host);
    curl_url_cleanup(u);
    return error;
}

static int s_curl_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                       const struct rdsbk_http_request *req) {
    struct s_receive rx = {resp, http->opts.max_body_bytes, false, false};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct s_handle *handle = NULL;
    CURLcode done;
    int rc;

    RDSBK_TRY(s_take_handle(&handle, http, req->url));
    RDSBK_TRY(s_header_list(&headers, req));
    /* curl_easy_reset keeps the handle's live connections and caches, drops every option. */
    curl_easy_reset(handle->easy);
    done = s_set_options(handle->easy, http, req, headers, errbuf, &rx);
    if (done != CURLE_OK) {
        rc = rdsbk_error_set(RDSBK_ERROR, "libcurl option refused: %s", curl_easy_strerror(done));
        goto cleanup;
    }
    rdsbk_buf_init(&resp->body, http->opts.max_body_bytes + 1);
    done = curl_easy_perform(handle->easy);
    /* the handle must not keep pointers to this frame's data */
    curl_easy_setopt(handle->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(handle->easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(handle->easy, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(handle->easy, CURLOPT_HEADERDATA, NULL);
    if (rx.too_big)
        rc = rdsbk_error_set(RDSBK_ENOMEM, "response body over the %zu-byte cap",
                             http->opts.max_body_bytes);
    else if (rx.nomem)
        rc = rdsbk_error_oom();
    else if (done != CURLE_OK)
        rc = s_transfer_error(done, errbuf, req->url);
    else
        curl_easy_getinfo(handle->easy, CURLINFO_RESPONSE_CODE, &resp->status);

cleanup:
    if (handle)
        s_give_back(http, handle);
    curl_slist_free_all(headers);
    if (rc)
        rdsbk_http_response_clean_up(resp);
    return rc;
}

/* The transport of rdsbk_http_set_transport in place of libcurl. */
static int s_hook_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                       const struct rdsbk_http_request *req) {
    int rc;

    rdsbk_buf_init(&resp->body, http->opts.max_body_bytes + 1);
    rc = http->transport(resp, req, http->transport_payload);
    if (rc == 0 && rdsbk_buf_len(&resp->body) > http->opts.max_body_bytes)
        rc = rdsbk_error_set(RDSBK_ENOMEM, "response body over the %zu-byte cap",
                             http->opts.max_body_bytes);
    if (rc)
        rdsbk_http_response_clean_up(resp);
    return rc;
}

int rdsbk_http_send(struct rdsbk_http_response *resp, struct rdsbk_http *http,
                    const struct rdsbk_http_request *req) {
    memset(resp, 0, sizeof(*resp));
    if (!req->method || !req->url)
        return rdsbk_error_set(RDSBK_EINVALID, "request without a method or URL");
    return http->transport ? s_hook_send(resp, http, req) : s_curl_send(resp, http, req);
}
