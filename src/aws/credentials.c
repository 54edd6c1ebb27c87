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
#include "credentials_private.h"

#include "rdsbk/endpoints.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"
#include "rdsbk/log.h"
#include "rdsbk/services/sts.h"
#include "rdsbk/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* What a source is made of besides its kind; every string is copied (NULL: none). */
struct s_spec {
    const char *access_key_id; /* S_STATIC */
    const char *secret_access_key;
    const char *session_token;
    const char *command;  /* S_PROCESS */
    const char *role_arn; /* S_ROLE, S_WEB_IDENTITY */
    const char *session_name;
    const char *external_id;
    int duration_seconds;
    const char *token_file; /* S_WEB_IDENTITY */
};

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

/* A new source of `kind` made of `spec` (NULL: nothing but its kind). A static source has its
 * credentials from the start. */
static int s_source_new(struct s_source **out, struct rdsbk_credentials_provider *owner,
                        enum s_kind kind, const struct s_spec *spec) {
    static const struct s_spec none = {0};
    struct s_source *src = calloc(1, sizeof(*src));
    int rc;

    *out = NULL;
    RDSBK_CHECK_ALLOC(src);
    if (!spec)
        spec = &none;
    src->kind = kind;
    src->owner = owner;
    src->have = kind == S_STATIC;
    src->duration_seconds = spec->duration_seconds;
    RDSBK_TRY(rdsbk_strdup_into(&src->creds.access_key_id, spec->access_key_id));
    RDSBK_TRY(rdsbk_strdup_into(&src->creds.secret_access_key, spec->secret_access_key));
    RDSBK_TRY(rdsbk_strdup_into(&src->creds.session_token, spec->session_token));
    RDSBK_TRY(rdsbk_strdup_into(&src->command, spec->command));
    RDSBK_TRY(rdsbk_strdup_into(&src->role_arn, spec->role_arn));
    RDSBK_TRY(rdsbk_strdup_into(&src->session_name, spec->session_name));
    RDSBK_TRY(rdsbk_strdup_into(&src->external_id, spec->external_id));
    RDSBK_TRY(rdsbk_strdup_into(&src->token_file, spec->token_file));
    *out = src;
    src = NULL;

cleanup:
    s_source_free(src);
    return rc;
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
    *ctx = (struct rdsbk_service_ctx){
        .http = p->http,
        .endpoint = p->sts_url,
        .signing = {.region = p->sts_signing_region,
                    .service = "sts",
                    .get_credentials = signer ? s_base_credentials : NULL,
                    .payload = signer},
        .send = p->send,
    };
}

/* S_ROLE: STS AssumeRole, signed with the credentials of the role's base. */
static int s_assume_role(struct rdsbk_credentials *out, struct s_source *src) {
    struct rdsbk_sts_assume_role_input in = {.role_arn = src->role_arn,
                                             .session_name = src->session_name,
                                             .external_id = src->external_id,
                                             .duration_seconds = src->duration_seconds};
    struct rdsbk_service_ctx ctx;

    s_sts_ctx(&ctx, src->owner, src->base);
    return rdsbk_sts_assume_role_at(out, NULL, &ctx, &in);
}

/* S_WEB_IDENTITY: STS AssumeRoleWithWebIdentity, unsigned, with the token of the token file. */
static int s_assume_web_identity(struct rdsbk_credentials *out, struct s_source *src) {
    struct rdsbk_service_ctx ctx;
    char *token = NULL;
    int rc;

    /* The token file is read anew each time: the platform rotates it. */
    rc = rdsbk_credentials_read_token_file(&token, src->token_file);
    if (rc == 0) {
        s_sts_ctx(&ctx, src->owner, NULL);
        rc = rdsbk_sts_assume_role_with_web_identity_at(out, NULL, &ctx, src->role_arn,
                                                        src->session_name, token);
    }
    rdsbk_credentials_free_secret(token);
    return rc;
}

static int s_fetch(struct rdsbk_credentials *out, struct s_source *src) {
    memset(out, 0, sizeof(*out));
    switch (src->kind) {
    case S_STATIC:
        return rdsbk_credentials_copy(out, &src->creds);
    case S_PROCESS:
        return rdsbk_credentials_from_process(out, src->command);
    case S_CONTAINER:
        return rdsbk_credentials_from_container(out, src->owner->http);
    case S_IMDS:
        return rdsbk_credentials_from_imds(out, src->owner->http);
    case S_ROLE:
        return s_assume_role(out, src);
    case S_WEB_IDENTITY:
        return s_assume_web_identity(out, src);
    }
    return rdsbk_error_set(RDSBK_ERROR, "unknown credentials source");
}

static bool s_fresh(const struct s_source *src, time_t now) {
    return src->have && (src->creds.expiration == 0 ||
                         src->creds.expiration - now > RDSBK_CREDENTIALS_REFRESH_SECONDS);
}

static int s_source_get(struct rdsbk_credentials *out, struct s_source *src) {
    struct rdsbk_credentials fresh = {0};
    /* expirations are AWS's time: a skewed local clock, once seen, is corrected here too */
    time_t now = time(NULL) + rdsbk_aws_clock_offset_s();
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!s_fresh(src, now)) {
        rc = s_fetch(&fresh, src);
        if (rc == 0) {
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
            rc = 0;
        }
    }
    if (rc == 0)
        rc = rdsbk_credentials_copy(out, &src->creds);
    return rc;
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
    *out = NULL;
    if (!ak || !*ak || !sk || !*sk)
        return rdsbk_error_set(RDSBK_EAUTH, "partial credentials in %s: %s missing", where,
                               ak && *ak ? "the secret access key" : "the access key id");
    return s_source_new(out, p, S_STATIC,
                        &(struct s_spec){.access_key_id = ak,
                                         .secret_access_key = sk,
                                         .session_token = token && *token ? token : NULL});
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

/* A role assumed with the credentials of `base`, which it takes over (freed on failure too). */
static int s_new_role(struct s_source **out, struct rdsbk_credentials_provider *p,
                      const struct s_spec *spec, struct s_source *base) {
    int rc = s_source_new(out, p, S_ROLE, spec);

    if (rc == 0)
        (*out)->base = base;
    else
        s_source_free(base);
    return rc;
}

static int s_new_web_identity(struct s_source **out, struct rdsbk_credentials_provider *p,
                              const char *role_arn, const char *token_file,
                              const char *session_name) {
    char name[64];

    s_default_session_name(name, sizeof(name));
    return s_source_new(
        out, p, S_WEB_IDENTITY,
        &(struct s_spec){.role_arn = role_arn,
                         .token_file = token_file,
                         .session_name = session_name && *session_name ? session_name : name});
}

static int s_new_process(struct s_source **out, struct rdsbk_credentials_provider *p,
                         const char *command) {
    return s_source_new(out, p, S_PROCESS, &(struct s_spec){.command = command});
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer */
static int s_credential_source(struct s_source **out, struct rdsbk_credentials_provider *p,
                               const char *profile, const char *name) {
    int rc;

    *out = NULL;
    if (strcmp(name, "Ec2InstanceMetadata") == 0)
        return s_source_new(out, p, S_IMDS, NULL);
    if (strcmp(name, "EcsContainer") == 0)
        return s_source_new(out, p, S_CONTAINER, NULL);
    if (strcmp(name, "Environment") != 0)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "profile %s: unsupported credential_source %s (expected "
                               "Environment, Ec2InstanceMetadata or EcsContainer)",
                               profile, name);
    rc = s_new_env(out, p);
    if (rc == 0 && !*out)
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "profile %s: credential_source Environment, but "
                             "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
                             profile);
    return rc;
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
    int rc;

    *out = NULL;
    if (s_has_static(f, profile)) {
        rc = s_static_in(out, p, &f->creds, profile, "the shared credentials file");
        if (rc == 0 && !*out)
            rc = s_static_in(out, p, &f->config, profile, "the config file");
    } else if (token_file && role_arn) {
        rc = s_new_web_identity(out, p, role_arn, token_file,
                                s_get(f, profile, "role_session_name"));
    } else if (process) {
        rc = s_new_process(out, p, process);
    } else {
        rc = rdsbk_error_set(RDSBK_EAUTH, "the source profile %s must have credentials", profile);
    }
    return rc;
}

/* The credentials behind `source_profile` of a role profile: loops refused (botocore's
 * InfiniteLoopConfigError), a role chained further, or a plain profile. */
static int s_source_profile(struct s_source **out, struct rdsbk_credentials_provider *p,
                            const struct s_files *f, const char *profile,
                            const char *source_profile, const char **visited, size_t n_visited) {
    bool seen = false;

    *out = NULL;
    for (size_t i = 0; i < n_visited; i++)
        seen = seen || strcmp(visited[i], source_profile) == 0;
    /* A profile may name itself as its source to use its own keys; any other repeat is a loop. */
    if (seen && !(strcmp(source_profile, profile) == 0 && s_has_static(f, profile)))
        return rdsbk_error_set(RDSBK_EINVALID,
                               "infinite loop in the profile configuration: %s -> %s", profile,
                               source_profile);
    if (n_visited >= S_MAX_CHAIN)
        return rdsbk_error_set(RDSBK_EINVALID, "role chain longer than %d profiles", S_MAX_CHAIN);
    if (!s_exists(f, source_profile))
        return rdsbk_error_set(RDSBK_EAUTH, "profile %s: source_profile %s not found", profile,
                               source_profile);
    /* Keys win over a role_arn in the source profile, as in botocore. */
    if (s_has_static(f, source_profile) || !s_get(f, source_profile, "role_arn"))
        return s_profile_plain(out, p, f, source_profile);
    visited[n_visited] = source_profile;
    return s_profile_role(out, p, f, source_profile, visited, n_visited + 1);
}

static int s_profile_role(struct s_source **out, struct rdsbk_credentials_provider *p,
                          const struct s_files *f, const char *profile, const char **visited,
                          size_t n_visited) {
    const char *source_profile = s_get(f, profile, "source_profile");
    const char *credential_source = s_get(f, profile, "credential_source");
    const char *duration = s_get(f, profile, "duration_seconds");
    const char *session = s_get(f, profile, "role_session_name");
    struct s_source *base = NULL;
    char name[64];
    int rc;

    *out = NULL;
    if (source_profile && credential_source)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "profile %s has both source_profile and credential_source", profile);
    if (!source_profile && !credential_source)
        return rdsbk_error_set(RDSBK_EINVALID,
                               "profile %s has role_arn but neither source_profile nor "
                               "credential_source",
                               profile);
    if (credential_source)
        rc = s_credential_source(&base, p, profile, credential_source);
    else
        rc = s_source_profile(&base, p, f, profile, source_profile, visited, n_visited);
    if (rc)
        return rc;
    s_default_session_name(name, sizeof(name));
    return s_new_role(out, p,
                      &(struct s_spec){.role_arn = s_get(f, profile, "role_arn"),
                                       .session_name = session ? session : name,
                                       .external_id = s_get(f, profile, "external_id"),
                                       .duration_seconds = duration ? atoi(duration) : 0},
                      base);
}

/* The path of a shared file: $<env> ("~/" at the start is the home directory, as in botocore),
 * else ~/.aws/<name>. */
static void s_file_path(char *path, size_t size, const char *env, const char *name) {
    const char *home = getenv("HOME");
    const char *set = getenv(env);

    if (set && *set)
        snprintf(path, size, "%s%s", set[0] == '~' && home ? home : "",
                 set[0] == '~' && home ? set + 1 : set);
    else
        snprintf(path, size, "%s/.aws/%s", home ? home : "", name);
}

static void s_files_clean_up(struct s_files *f) {
    rdsbk_ini_clean_up(&f->config);
    rdsbk_ini_clean_up(&f->creds);
}

static int s_load_files(struct s_files *f) {
    char path[4096];
    int rc;

    memset(f, 0, sizeof(*f));
    s_file_path(path, sizeof(path), "AWS_CONFIG_FILE", "config");
    RDSBK_TRY(rdsbk_ini_load(&f->config, path, true));
    s_file_path(path, sizeof(path), "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    RDSBK_TRY(rdsbk_ini_load(&f->creds, path, false));

cleanup:
    if (rc)
        s_files_clean_up(f);
    return rc;
}

/* Replaces the provider's description (taken over). */
static void s_set_description(struct rdsbk_credentials_provider *p, char *description) {
    free(p->description);
    p->description = description;
}

/*
 * The chain of credentials.h, one step a function. A step makes the source it finds (0, *out
 * set), finds nothing (0, *out NULL: the next step is tried) or fails; the step that finds one
 * says how to describe it in `prefix` and `arg` (by default "profile <name>").
 */
struct s_chain {
    struct rdsbk_credentials_provider *p;
    const struct s_files *f;
    const char *profile;
    bool named; /* asked for by name, not the "default" of nothing asked */
    const char *prefix;
    const char *arg;
};

typedef int (*s_step_fn)(struct s_source **out, struct s_chain *c);

/* 1. environment, unless a profile was named explicitly */
static int s_step_env(struct s_source **out, struct s_chain *c) {
    c->prefix = "the environment (AWS_ACCESS_KEY_ID)";
    c->arg = "";
    return c->p->profile ? 0 : s_new_env(out, c->p);
}

/* 2. role profile */
static int s_step_role(struct s_source **out, struct s_chain *c) {
    const char *visited[S_MAX_CHAIN + 1] = {c->profile};

    if (!s_get(c->f, c->profile, "role_arn") || s_get(c->f, c->profile, "web_identity_token_file"))
        return 0;
    return s_profile_role(out, c->p, c->f, c->profile, visited, 1);
}

/* 3. web identity: the environment's, ... */
static int s_step_env_web_identity(struct s_source **out, struct s_chain *c) {
    const char *role = getenv("AWS_ROLE_ARN");
    const char *token = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");

    if (!role || !*role || !token || !*token)
        return 0;
    c->prefix = "web identity role ";
    c->arg = role;
    return s_new_web_identity(out, c->p, role, token, getenv("AWS_ROLE_SESSION_NAME"));
}

/* ... then the profile's */
static int s_step_profile_web_identity(struct s_source **out, struct s_chain *c) {
    const char *role_arn = s_get(c->f, c->profile, "role_arn");
    const char *token_file = s_get(c->f, c->profile, "web_identity_token_file");

    if (!role_arn || !token_file)
        return 0;
    return s_new_web_identity(out, c->p, role_arn, token_file,
                              s_get(c->f, c->profile, "role_session_name"));
}

/* (botocore's SSO provider comes here; we do not read the SSO token cache) */
static int s_step_sso(struct s_source **out, struct s_chain *c) {
    (void)out;
    if (!s_get(c->f, c->profile, "sso_start_url") && !s_get(c->f, c->profile, "sso_session"))
        return 0;
    return rdsbk_error_set(RDSBK_EAUTH,
                           "profile %s uses IAM Identity Center (SSO), which rdsbk-provision "
                           "does not read; add credential_process = aws configure "
                           "export-credentials --profile %s --format process to a profile "
                           "and use that one",
                           c->profile, c->profile);
}

/* 4. shared credentials file */
static int s_step_credentials_file(struct s_source **out, struct s_chain *c) {
    return s_static_in(out, c->p, &c->f->creds, c->profile, "the shared credentials file");
}

/* 5. credential_process */
static int s_step_process(struct s_source **out, struct s_chain *c) {
    const char *process = s_get(c->f, c->profile, "credential_process");

    return process ? s_new_process(out, c->p, process) : 0;
}

/* 6. config file */
static int s_step_config_file(struct s_source **out, struct s_chain *c) {
    return s_static_in(out, c->p, &c->f->config, c->profile, "the config file");
}

/* 7. container */
static int s_step_container(struct s_source **out, struct s_chain *c) {
    const char *relative_uri = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full_uri = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");

    if ((!relative_uri || !*relative_uri) && (!full_uri || !*full_uri))
        return 0;
    c->prefix = "container credentials";
    c->arg = "";
    return s_source_new(out, c->p, S_CONTAINER, NULL);
}

/* 8. instance metadata; the last resort, so its failure means "no credentials" */
static int s_step_imds(struct s_source **out, struct s_chain *c) {
    if (rdsbk_credentials_imds_disabled())
        return rdsbk_error_set(RDSBK_EAUTH,
                               "no AWS credentials found%s%s (looked in the environment, the "
                               "shared files, container credentials; instance metadata is "
                               "disabled)",
                               c->named ? " for profile " : "", c->named ? c->profile : "");
    c->prefix = "EC2 instance metadata";
    c->arg = "";
    return s_source_new(out, c->p, S_IMDS, NULL);
}

static const s_step_fn s_chain_steps[] = {
    s_step_env,
    s_step_role,
    s_step_env_web_identity,
    s_step_profile_web_identity,
    s_step_sso,
    s_step_credentials_file,
    s_step_process,
    s_step_config_file,
    s_step_container,
    s_step_imds,
};

/* The first source of the chain for `profile`, and the provider's description of it. */
static int s_resolve_chain(struct s_source **out, struct rdsbk_credentials_provider *p,
                           const struct s_files *f, const char *profile, bool named) {
    struct s_chain c = {p, f, profile, named, NULL, NULL};
    size_t n_steps = sizeof(s_chain_steps) / sizeof(s_chain_steps[0]);
    char *description = NULL;
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; rc == 0 && !*out && i < n_steps; i++) {
        c.prefix = "profile ";
        c.arg = profile;
        rc = s_chain_steps[i](out, &c);
    }
    /* the last step finds a source or fails */
    if (rc == 0)
        rc = rdsbk_strfmt(&description, "%s%s", c.prefix, c.arg);
    if (rc == 0)
        s_set_description(p, description);
    return rc;
}

/* The topology's role, assumed on top of what the chain found (`*root`, taken over). */
static int s_role_on_top(struct s_source **root, struct rdsbk_credentials_provider *p) {
    char *description = NULL;
    int rc = s_new_role(root, p,
                        &(struct s_spec){.role_arn = p->role_arn,
                                         .session_name = p->session_name,
                                         .external_id = p->external_id},
                        *root);

    if (rc == 0)
        rc = rdsbk_strfmt(&description, "role %s assumed with %s", p->role_arn,
                          p->description ? p->description : "?");
    if (rc == 0)
        s_set_description(p, description);
    return rc;
}

static int s_resolve(struct rdsbk_credentials_provider *p) {
    struct s_files files;
    /* botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE. */
    const char *env_default = getenv("AWS_DEFAULT_PROFILE");
    const char *env_profile = env_default && *env_default ? env_default : getenv("AWS_PROFILE");
    const char *profile = p->profile;
    struct s_source *root = NULL;
    bool named = true;
    int rc;

    if (!profile && env_profile && *env_profile)
        profile = env_profile;
    if (!profile) {
        profile = "default";
        named = false;
    }
    rc = s_load_files(&files);
    if (rc)
        return rc;
    /* A profile asked for by name must exist (botocore: ProfileNotFound). */
    if (named && !s_exists(&files, profile)) {
        rc = rdsbk_error_set(RDSBK_EAUTH, "the config profile (%s) could not be found", profile);
        goto cleanup;
    }
    RDSBK_TRY(s_resolve_chain(&root, p, &files, profile, named));
    if (p->role_arn)
        RDSBK_TRY(s_role_on_top(&root, p));
    p->root = root;
    root = NULL;
    rdsbk_log_debug("credentials: %s", rdsbk_credentials_provider_describe(p));

cleanup:
    s_source_free(root);
    s_files_clean_up(&files);
    return rc;
}

/* ---- public API ---- */

int rdsbk_credentials_provider_new(struct rdsbk_credentials_provider **out,
                                   const struct rdsbk_credentials_options *opts) {
    struct rdsbk_credentials_provider *p = calloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    if (!p)
        return rdsbk_error_oom();
    pthread_mutex_init(&p->lock, NULL);
    p->http = opts->http;
    p->send = opts->send;
    RDSBK_TRY(rdsbk_strdup_into(&p->profile, opts->profile));
    RDSBK_TRY(rdsbk_strdup_into(&p->region, opts->region ? opts->region : "us-east-1"));
    RDSBK_TRY(rdsbk_strdup_into(&p->role_arn, opts->role_arn));
    RDSBK_TRY(
        rdsbk_strdup_into(&p->session_name, opts->session_name ? opts->session_name : "rdsbk"));
    RDSBK_TRY(rdsbk_strdup_into(&p->external_id, opts->external_id));
    RDSBK_TRY(rdsbk_endpoint_resolve(&p->sts_url, &p->sts_signing_region, opts->endpoints, "sts",
                                     p->region));
    *out = p;
    p = NULL;

cleanup:
    rdsbk_credentials_provider_free(p);
    return rc;
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
    int rc = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    if (!p->root)
        rc = s_resolve(p);
    if (rc == 0)
        rc = s_source_get(out, p->root);
    /* Instance metadata is the chain's last resort: when it has never answered, the problem is
     * that there are no credentials at all. */
    if (rc && p->root && p->root->kind == S_IMDS && !p->root->have) {
        char why[sizeof(rdsbk_error_last()->message)];
        snprintf(why, sizeof(why), "%s", rdsbk_error_last()->message);
        rc = rdsbk_error_set(RDSBK_EAUTH,
                             "no AWS credentials found (looked in the environment, the shared "
                             "files, container credentials and EC2 instance metadata: %s)",
                             why);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

const char *rdsbk_credentials_provider_describe(const struct rdsbk_credentials_provider *p) {
    return p->description ? p->description : "unresolved";
}

unsigned rdsbk_credentials_provider_fetches(const struct rdsbk_credentials_provider *p) {
    return p->fetches;
}
