#include "credentials_private.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"
#include "rdsbk/services/sts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The provider resolves the chain once (on the first get) into a small tree of sources:
 *
 *   role (topology role_arn)            <- optional, assumed on top
 *     `- role (profile role_arn)         <- zero or more, following source_profile
 *          `- static | process | web identity | container | IMDS
 *
 * Each node caches the credentials it last produced; a get walks down only as far as a node whose
 * cache is stale. One mutex per provider serialises resolution and refresh; callers get copies.
 */

enum s_kind { S_STATIC, S_PROCESS, S_CONTAINER, S_IMDS, S_ROLE, S_WEB_IDENTITY };

struct s_source {
    enum s_kind kind;
    struct rdsbk_credentials creds; /* the cache; fixed for S_STATIC */
    bool have;
    char *command;  /* S_PROCESS */
    char *role_arn; /* S_ROLE, S_WEB_IDENTITY */
    char *session_name;
    char *external_id;
    int duration_seconds;
    char *token_file;      /* S_WEB_IDENTITY */
    struct s_source *base; /* S_ROLE: whose credentials sign the AssumeRole */
    struct rdsbk_credentials_provider *owner;
};

struct rdsbk_credentials_provider {
    pthread_mutex_t lock;
    char *profile; /* explicit, or NULL */
    char *region;
    char *role_arn;
    char *session_name;
    char *external_id;
    char *sts_url;
    const char *sts_signing_region; /* static, or borrowed from `region` */
    struct rdsbk_http *http;
    rdsbk_aws_send_fn send;
    struct s_source *root;
    char *description;
    unsigned fetches;
};

/* The two shared files, and the merged view botocore has of a profile (credentials file values
 * override the config file's). */
struct s_files {
    struct rdsbk_ini config;
    struct rdsbk_ini creds;
};

static int s_dup(char **out, const char *s) {
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : rdsbk_error_oom();
}

static void s_source_free(struct s_source *src) {
    if (!src)
        return;
    s_source_free(src->base);
    rdsbk_credentials_clean_up(&src->creds);
    free(src->command);
    free(src->role_arn);
    free(src->session_name);
    free(src->external_id);
    free(src->token_file);
    free(src);
}

static struct s_source *s_source_new(struct rdsbk_credentials_provider *owner, enum s_kind kind) {
    struct s_source *src = calloc(1, sizeof(*src));

    if (!src) {
        rdsbk_error_oom();
        return NULL;
    }
    src->kind = kind;
    src->owner = owner;
    return src;
}

/* ---- fetching ---- */

static int s_source_get(struct rdsbk_credentials *out, struct s_source *src);

/* The rdsbk_credentials_fn that signs a role's AssumeRole with its base's credentials. Runs with
 * the provider lock already held by this thread (rdsbk_credentials_provider_get). */
static int s_base_credentials(struct rdsbk_credentials *out, void *payload) {
    return s_source_get(out, payload);
}

static void s_sts_ctx(struct rdsbk_service_ctx *ctx, struct rdsbk_credentials_provider *p,
                      struct s_source *signer) {
    memset(ctx, 0, sizeof(*ctx));
    ctx->http = p->http;
    ctx->endpoint = p->sts_url;
    ctx->signing.region = p->sts_signing_region;
    ctx->signing.service = "sts";
    ctx->signing.get_credentials = signer ? s_base_credentials : NULL;
    ctx->signing.payload = signer;
    ctx->send = p->send;
}

static int s_fetch(struct rdsbk_credentials *out, struct s_source *src) {
    struct rdsbk_service_ctx ctx;
    struct rdsbk_sts_assume_role_input in = {0};
    char *token = NULL;
    int result = RDSBK_ERROR;

    memset(out, 0, sizeof(*out));
    switch (src->kind) {
    case S_STATIC:
        result = rdsbk_credentials_copy(out, &src->creds);
        break;
    case S_PROCESS:
        result = rdsbk_credentials_from_process(out, src->command);
        break;
    case S_CONTAINER:
        result = rdsbk_credentials_from_container(out, src->owner->http);
        break;
    case S_IMDS:
        result = rdsbk_credentials_from_imds(out, src->owner->http);
        break;
    case S_ROLE:
        s_sts_ctx(&ctx, src->owner, src->base);
        in.role_arn = src->role_arn;
        in.session_name = src->session_name;
        in.external_id = src->external_id;
        in.duration_seconds = src->duration_seconds;
        result = rdsbk_sts_assume_role_at(out, NULL, &ctx, &in);
        break;
    case S_WEB_IDENTITY:
        /* The token file is read anew each time: the platform rotates it. */
        result = rdsbk_credentials_read_token_file(&token, src->token_file);
        if (result)
            break;
        s_sts_ctx(&ctx, src->owner, NULL);
        result = rdsbk_sts_assume_role_with_web_identity_at(out, NULL, &ctx, src->role_arn,
                                                            src->session_name, token);
        break;
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    return result;
}

static bool s_fresh(const struct s_source *src, time_t now) {
    return src->have && (src->creds.expiration == 0 ||
                         src->creds.expiration - now > RDSBK_CREDENTIALS_REFRESH_SECONDS);
}

static int s_source_get(struct rdsbk_credentials *out, struct s_source *src) {
    struct rdsbk_credentials fresh = {0};
    /* expirations are AWS's time: a skewed local clock, once seen, is corrected here too */
    time_t now = time(NULL) + rdsbk_aws_clock_offset_s();
    int result = 0;

    memset(out, 0, sizeof(*out));
    if (!s_fresh(src, now)) {
        result = s_fetch(&fresh, src);
        if (result == 0) {
            src->owner->fetches++;
            rdsbk_credentials_clean_up(&src->creds);
            src->creds = fresh;
            src->have = true;
        } else if (src->have && src->creds.expiration > now + 60) {
            /* Credentials still valid for a while beat a failed refresh (botocore's advisory
             * refresh). */
            rdsbk_log_warn("refreshing credentials failed (%s); using the current ones until "
                           "they expire",
                           rdsbk_error_last()->message);
            result = 0;
        }
    }
    if (result == 0)
        result = rdsbk_credentials_copy(out, &src->creds);
    return result;
}

/* ---- resolution ---- */

static const char *s_get(const struct s_files *f, const char *profile, const char *key) {
    const char *v = rdsbk_ini_get(rdsbk_ini_section(&f->creds, profile), key);

    return v ? v : rdsbk_ini_get(rdsbk_ini_section(&f->config, profile), key);
}

static bool s_exists(const struct s_files *f, const char *profile) {
    return rdsbk_ini_section(&f->creds, profile) || rdsbk_ini_section(&f->config, profile);
}

static int s_new_static(struct s_source **out, struct rdsbk_credentials_provider *p, const char *ak,
                        const char *sk, const char *token, const char *where) {
    struct s_source *src = NULL;
    int result;

    *out = NULL;
    if (!ak || !*ak || !sk || !*sk) {
        result = rdsbk_error_set(RDSBK_EAUTH, "partial credentials in %s: %s missing", where,
                                 ak && *ak ? "the secret access key" : "the access key id");
        goto cleanup;
    }
    src = s_source_new(p, S_STATIC);
    if (!src) {
        result = RDSBK_ENOMEM;
        goto cleanup;
    }
    result = s_dup(&src->creds.access_key_id, ak);
    if (result == 0)
        result = s_dup(&src->creds.secret_access_key, sk);
    if (result == 0 && token && *token)
        result = s_dup(&src->creds.session_token, token);
    if (result)
        goto cleanup;
    src->have = true;
    *out = src;
    src = NULL;

cleanup:
    s_source_free(src);
    return result;
}

/* Static keys of a profile in one file, if any (a lone key is an error). */
static int s_static_in(struct s_source **out, struct rdsbk_credentials_provider *p,
                       const struct rdsbk_ini *ini, const char *profile, const char *where) {
    const struct rdsbk_ini_section *sec = rdsbk_ini_section(ini, profile);
    const char *ak = rdsbk_ini_get(sec, "aws_access_key_id");
    const char *sk = rdsbk_ini_get(sec, "aws_secret_access_key");

    *out = NULL;
    if (!ak && !sk)
        return 0;
    const char *token = rdsbk_ini_get(sec, "aws_security_token");

    /* botocore takes the legacy aws_security_token first. */
    if (!token || !*token)
        token = rdsbk_ini_get(sec, "aws_session_token");
    return s_new_static(out, p, ak, sk, token, where);
}

static bool s_has_static(const struct s_files *f, const char *profile) {
    return s_get(f, profile, "aws_access_key_id") && s_get(f, profile, "aws_secret_access_key");
}

static int s_new_env(struct s_source **out, struct rdsbk_credentials_provider *p) {
    const char *ak = getenv("AWS_ACCESS_KEY_ID");
    const char *sk = getenv("AWS_SECRET_ACCESS_KEY");

    *out = NULL;
    if ((!ak || !*ak) && (!sk || !*sk))
        return 0;
    const char *token = getenv("AWS_SECURITY_TOKEN");

    /* botocore takes the legacy AWS_SECURITY_TOKEN first. */
    if (!token || !*token)
        token = getenv("AWS_SESSION_TOKEN");
    return s_new_static(out, p, ak, sk, token, "the environment");
}

static void s_default_session_name(char *buf, size_t size) {
    snprintf(buf, size, "rdsbk-%lld", (long long)time(NULL));
}

static int s_new_role(struct s_source **out, struct rdsbk_credentials_provider *p,
                      const char *role_arn, const char *session_name, const char *external_id,
                      int duration, struct s_source *base) {
    struct s_source *src = s_source_new(p, S_ROLE);
    int result = RDSBK_ENOMEM;

    *out = NULL;
    if (!src)
        goto cleanup;
    /* From here `base` belongs to `src`. */
    src->base = base;
    base = NULL;
    src->duration_seconds = duration;
    result = s_dup(&src->role_arn, role_arn);
    if (result == 0)
        result = s_dup(&src->session_name, session_name);
    if (result == 0)
        result = s_dup(&src->external_id, external_id);
    if (result)
        goto cleanup;
    *out = src;
    src = NULL;

cleanup:
    s_source_free(src);
    s_source_free(base);
    return result;
}

static int s_new_web_identity(struct s_source **out, struct rdsbk_credentials_provider *p,
                              const char *role_arn, const char *token_file,
                              const char *session_name) {
    struct s_source *src = s_source_new(p, S_WEB_IDENTITY);
    char name[64];
    int result = RDSBK_ENOMEM;

    *out = NULL;
    if (!src)
        goto cleanup;
    s_default_session_name(name, sizeof(name));
    result = s_dup(&src->role_arn, role_arn);
    if (result == 0)
        result = s_dup(&src->token_file, token_file);
    if (result == 0)
        result = s_dup(&src->session_name, session_name && *session_name ? session_name : name);
    if (result)
        goto cleanup;
    *out = src;
    src = NULL;

cleanup:
    s_source_free(src);
    return result;
}

static int s_new_process(struct s_source **out, struct rdsbk_credentials_provider *p,
                         const char *command) {
    struct s_source *src = s_source_new(p, S_PROCESS);
    int result = RDSBK_ENOMEM;

    *out = NULL;
    if (!src)
        goto cleanup;
    result = s_dup(&src->command, command);
    if (result)
        goto cleanup;
    *out = src;
    src = NULL;

cleanup:
    s_source_free(src);
    return result;
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer */
static int s_credential_source(struct s_source **out, struct rdsbk_credentials_provider *p,
                               const char *profile, const char *name) {
    int result = 0;

    *out = NULL;
    if (strcmp(name, "Environment") == 0) {
        result = s_new_env(out, p);
        if (result == 0 && !*out)
            result = rdsbk_error_set(RDSBK_EAUTH,
                                     "profile %s: credential_source Environment, but "
                                     "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
                                     profile);
    } else if (strcmp(name, "Ec2InstanceMetadata") == 0) {
        *out = s_source_new(p, S_IMDS);
        result = *out ? 0 : RDSBK_ENOMEM;
    } else if (strcmp(name, "EcsContainer") == 0) {
        *out = s_source_new(p, S_CONTAINER);
        result = *out ? 0 : RDSBK_ENOMEM;
    } else {
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "profile %s: unsupported credential_source %s (expected "
                                 "Environment, Ec2InstanceMetadata or EcsContainer)",
                                 profile, name);
    }
    return result;
}

#define S_MAX_CHAIN 16

static int s_profile_role(struct s_source **out, struct rdsbk_credentials_provider *p,
                          const struct s_files *f, const char *profile, const char **visited,
                          size_t n_visited);

/* A source profile that is not itself a role: static keys, web identity or credential_process
 * (botocore's profile providers, the environment excluded). */
static int s_profile_plain(struct s_source **out, struct rdsbk_credentials_provider *p,
                           const struct s_files *f, const char *profile) {
    const char *token_file = s_get(f, profile, "web_identity_token_file");
    const char *role_arn = s_get(f, profile, "role_arn");
    const char *process = s_get(f, profile, "credential_process");
    int result;

    *out = NULL;
    if (s_has_static(f, profile)) {
        result = s_static_in(out, p, &f->creds, profile, "the shared credentials file");
        if (result == 0 && !*out)
            result = s_static_in(out, p, &f->config, profile, "the config file");
    } else if (token_file && role_arn) {
        result = s_new_web_identity(out, p, role_arn, token_file,
                                    s_get(f, profile, "role_session_name"));
    } else if (process) {
        result = s_new_process(out, p, process);
    } else {
        result =
            rdsbk_error_set(RDSBK_EAUTH, "the source profile %s must have credentials", profile);
    }
    return result;
}

/* The credentials behind `source_profile` of a role profile: loops refused (botocore's
 * InfiniteLoopConfigError), a role chained further, or a plain profile. */
static int s_source_profile(struct s_source **out, struct rdsbk_credentials_provider *p,
                            const struct s_files *f, const char *profile,
                            const char *source_profile, const char **visited, size_t n_visited) {
    bool seen = false;
    int result;

    *out = NULL;
    for (size_t i = 0; i < n_visited; i++)
        seen = seen || strcmp(visited[i], source_profile) == 0;
    /* A profile may name itself as its source to use its own keys; any other repeat is a loop. */
    if (seen && !(strcmp(source_profile, profile) == 0 && s_has_static(f, profile))) {
        result =
            rdsbk_error_set(RDSBK_EINVALID, "infinite loop in the profile configuration: %s -> %s",
                            profile, source_profile);
    } else if (n_visited >= S_MAX_CHAIN) {
        result = rdsbk_error_set(RDSBK_EINVALID, "role chain longer than %d profiles", S_MAX_CHAIN);
    } else if (!s_exists(f, source_profile)) {
        result = rdsbk_error_set(RDSBK_EAUTH, "profile %s: source_profile %s not found", profile,
                                 source_profile);
    } else if (s_has_static(f, source_profile) || !s_get(f, source_profile, "role_arn")) {
        /* Keys win over a role_arn in the source profile, as in botocore. */
        result = s_profile_plain(out, p, f, source_profile);
    } else {
        visited[n_visited] = source_profile;
        result = s_profile_role(out, p, f, source_profile, visited, n_visited + 1);
    }
    return result;
}

static int s_profile_role(struct s_source **out, struct rdsbk_credentials_provider *p,
                          const struct s_files *f, const char *profile, const char **visited,
                          size_t n_visited) {
    const char *role_arn = s_get(f, profile, "role_arn");
    const char *source_profile = s_get(f, profile, "source_profile");
    const char *credential_source = s_get(f, profile, "credential_source");
    const char *duration = s_get(f, profile, "duration_seconds");
    const char *session = s_get(f, profile, "role_session_name");
    struct s_source *base = NULL;
    char name[64];
    int result;

    *out = NULL;
    if (source_profile && credential_source)
        result = rdsbk_error_set(
            RDSBK_EINVALID, "profile %s has both source_profile and credential_source", profile);
    else if (!source_profile && !credential_source)
        result = rdsbk_error_set(RDSBK_EINVALID,
                                 "profile %s has role_arn but neither source_profile nor "
                                 "credential_source",
                                 profile);
    else if (credential_source)
        result = s_credential_source(&base, p, profile, credential_source);
    else
        result = s_source_profile(&base, p, f, profile, source_profile, visited, n_visited);
    if (result == 0) {
        s_default_session_name(name, sizeof(name));
        /* s_new_role takes `base` over, on failure too. */
        result = s_new_role(out, p, role_arn, session ? session : name,
                            s_get(f, profile, "external_id"), duration ? atoi(duration) : 0, base);
        base = NULL;
    }
    s_source_free(base);
    return result;
}

static int s_load_files(struct s_files *f) {
    const char *home = getenv("HOME");
    const char *config = getenv("AWS_CONFIG_FILE");
    const char *creds = getenv("AWS_SHARED_CREDENTIALS_FILE");
    char path[4096];
    int rc;

    memset(f, 0, sizeof(*f));
    /* "~/" at the start is the home directory, as in botocore. */
    if (config && *config)
        snprintf(path, sizeof(path), "%s%s", config[0] == '~' && home ? home : "",
                 config[0] == '~' && home ? config + 1 : config);
    else
        snprintf(path, sizeof(path), "%s/.aws/config", home ? home : "");
    rc = rdsbk_ini_load(&f->config, path, true);
    if (rc)
        return rc;
    if (creds && *creds)
        snprintf(path, sizeof(path), "%s%s", creds[0] == '~' && home ? home : "",
                 creds[0] == '~' && home ? creds + 1 : creds);
    else
        snprintf(path, sizeof(path), "%s/.aws/credentials", home ? home : "");
    rc = rdsbk_ini_load(&f->creds, path, false);
    if (rc)
        rdsbk_ini_clean_up(&f->config);
    return rc;
}

static int s_set_description(struct rdsbk_credentials_provider *p, const char *prefix,
                             const char *arg) {
    struct rdsbk_buf b = RDSBK_BUF_INIT;
    int rc = rdsbk_buf_printf(&b, "%s%s", prefix, arg);

    if (rc)
        return rc;
    free(p->description);
    p->description = rdsbk_buf_detach(&b);
    return p->description ? 0 : RDSBK_ENOMEM;
}

/* The chain of the header comment, steps 1 to 8. */
static int s_resolve_chain(struct s_source **out, struct rdsbk_credentials_provider *p,
                           const struct s_files *f, const char *profile, bool named) {
    const char *visited[S_MAX_CHAIN + 1];
    const char *env_role = getenv("AWS_ROLE_ARN");
    const char *env_token = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *relative_uri = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full_uri = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *role_arn = s_get(f, profile, "role_arn");
    const char *token_file = s_get(f, profile, "web_identity_token_file");
    const char *process = s_get(f, profile, "credential_process");
    const char *prefix = "profile "; /* the description: prefix + arg */
    const char *arg = profile;
    int result = 0;

    *out = NULL;
    /* 1. environment, unless a profile was named explicitly */
    if (!p->profile) {
        result = s_new_env(out, p);
        if (result || *out) {
            prefix = "the environment (AWS_ACCESS_KEY_ID)";
            arg = "";
            goto done;
        }
    }
    /* 2. role profile */
    if (role_arn && !token_file) {
        visited[0] = profile;
        result = s_profile_role(out, p, f, profile, visited, 1);
        goto done;
    }
    /* 3. web identity: the environment's, then the profile's */
    if (env_role && *env_role && env_token && *env_token) {
        result = s_new_web_identity(out, p, env_role, env_token, getenv("AWS_ROLE_SESSION_NAME"));
        prefix = "web identity role ";
        arg = env_role;
        goto done;
    }
    if (role_arn && token_file) {
        result = s_new_web_identity(out, p, role_arn, token_file,
                                    s_get(f, profile, "role_session_name"));
        goto done;
    }
    /* (botocore's SSO provider comes here; we do not read the SSO token cache) */
    if (s_get(f, profile, "sso_start_url") || s_get(f, profile, "sso_session")) {
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "profile %s uses IAM Identity Center (SSO), which rdsbk-provision "
                                 "does not read; add credential_process = aws configure "
                                 "export-credentials --profile %s --format process to a profile "
                                 "and use that one",
                                 profile, profile);
        goto done;
    }
    /* 4. shared credentials file */
    result = s_static_in(out, p, &f->creds, profile, "the shared credentials file");
    if (result || *out)
        goto done;
    /* 5. credential_process */
    if (process) {
        result = s_new_process(out, p, process);
        goto done;
    }
    /* 6. config file */
    result = s_static_in(out, p, &f->config, profile, "the config file");
    if (result || *out)
        goto done;
    arg = "";
    if ((relative_uri && *relative_uri) || (full_uri && *full_uri)) {
        /* 7. container */
        *out = s_source_new(p, S_CONTAINER);
        prefix = "container credentials";
        result = *out ? 0 : RDSBK_ENOMEM;
    } else if (!rdsbk_credentials_imds_disabled()) {
        /* 8. instance metadata; the last resort, so its failure means "no credentials" */
        *out = s_source_new(p, S_IMDS);
        prefix = "EC2 instance metadata";
        result = *out ? 0 : RDSBK_ENOMEM;
    } else {
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "no AWS credentials found%s%s (looked in the environment, the "
                                 "shared files, container credentials; instance metadata is "
                                 "disabled)",
                                 named ? " for profile " : "", named ? profile : "");
    }

done:
    if (result == 0)
        result = s_set_description(p, prefix, arg);
    return result;
}

static int s_resolve(struct rdsbk_credentials_provider *p) {
    struct s_files files;
    /* botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE. */
    const char *env_default = getenv("AWS_DEFAULT_PROFILE");
    const char *env_profile = env_default && *env_default ? env_default : getenv("AWS_PROFILE");
    const char *profile = p->profile;
    struct s_source *root = NULL;
    bool named = true;
    int result;

    if (!profile && env_profile && *env_profile)
        profile = env_profile;
    if (!profile) {
        profile = "default";
        named = false;
    }
    result = s_load_files(&files);
    if (result)
        return result;
    /* A profile asked for by name must exist (botocore: ProfileNotFound). */
    if (named && !s_exists(&files, profile)) {
        result =
            rdsbk_error_set(RDSBK_EAUTH, "the config profile (%s) could not be found", profile);
        goto cleanup;
    }
    result = s_resolve_chain(&root, p, &files, profile, named);
    if (result)
        goto cleanup;
    if (p->role_arn) {
        char *base_desc = p->description;
        struct rdsbk_buf b = RDSBK_BUF_INIT;

        result = s_new_role(&root, p, p->role_arn, p->session_name, p->external_id, 0, root);
        if (result)
            goto cleanup;
        p->description = NULL;
        if (rdsbk_buf_printf(&b, "role %s assumed with %s", p->role_arn,
                             base_desc ? base_desc : "?") == 0)
            p->description = rdsbk_buf_detach(&b);
        free(base_desc);
    }
    p->root = root;
    root = NULL;
    rdsbk_log_debug("credentials: %s", rdsbk_credentials_provider_describe(p));

cleanup:
    s_source_free(root);
    rdsbk_ini_clean_up(&files.config);
    rdsbk_ini_clean_up(&files.creds);
    return result;
}

/* ---- public API ---- */

int rdsbk_credentials_provider_new(struct rdsbk_credentials_provider **out,
                                   const struct rdsbk_credentials_options *opts) {
    struct rdsbk_credentials_provider *p = calloc(1, sizeof(*p));
    const char *region = opts->region ? opts->region : "us-east-1";
    int result = RDSBK_ENOMEM;

    *out = NULL;
    if (!p)
        return rdsbk_error_oom();
    pthread_mutex_init(&p->lock, NULL);
    p->http = opts->http;
    p->send = opts->send;
    if (s_dup(&p->profile, opts->profile) || s_dup(&p->region, region) ||
        s_dup(&p->role_arn, opts->role_arn) ||
        s_dup(&p->session_name, opts->session_name ? opts->session_name : "rdsbk") ||
        s_dup(&p->external_id, opts->external_id))
        goto cleanup;
    result = rdsbk_endpoint_resolve(&p->sts_url, &p->sts_signing_region, opts->endpoints, "sts",
                                    p->region);
    if (result)
        goto cleanup;
    *out = p;
    p = NULL;

cleanup:
    rdsbk_credentials_provider_free(p);
    return result;
}

void rdsbk_credentials_provider_free(struct rdsbk_credentials_provider *p) {
    if (!p)
        return;
    s_source_free(p->root);
    pthread_mutex_destroy(&p->lock);
    free(p->profile);
    free(p->region);
    free(p->role_arn);
    free(p->session_name);
    free(p->external_id);
    free(p->sts_url);
    free(p->description);
    free(p);
}

int rdsbk_credentials_provider_get(struct rdsbk_credentials *out, void *payload) {
    struct rdsbk_credentials_provider *p = payload;
    int result = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    if (!p->root)
        result = s_resolve(p);
    if (result == 0)
        result = s_source_get(out, p->root);
    /* Instance metadata is the chain's last resort: when it has never answered, the problem is
     * that there are no credentials at all. */
    if (result && p->root && p->root->kind == S_IMDS && !p->root->have) {
        char why[sizeof(rdsbk_error_last()->message)];
        snprintf(why, sizeof(why), "%s", rdsbk_error_last()->message);
        result = rdsbk_error_set(RDSBK_EAUTH,
                                 "no AWS credentials found (looked in the environment, the shared "
                                 "files, container credentials and EC2 instance metadata: %s)",
                                 why);
    }
    pthread_mutex_unlock(&p->lock);
    return result;
}

const char *rdsbk_credentials_provider_describe(const struct rdsbk_credentials_provider *p) {
    return p->description ? p->description : "unresolved";
}

unsigned rdsbk_credentials_provider_fetches(const struct rdsbk_credentials_provider *p) {
    return p->fetches;
}
