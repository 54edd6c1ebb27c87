/* plan, apply and destroy from start to end, and saved plans. */
#include "engine_internal.h"
#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/pool.h"
#include "rdsbk/services/rds.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int rdsbk_engine_topology_digest(char out[65], const char *path) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned char chunk[65536];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = fopen(path, "rb");
    size_t n;
    int result = 0;

    if (!f || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        result = f ? rdsbk_error_set(RDSBK_ERROR, "SHA-256 unavailable")
                   : rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        EVP_DigestUpdate(ctx, chunk, n);
    EVP_DigestFinal_ex(ctx, digest, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);

cleanup:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return result;
}

/* The actions of a plan as {"address": "action"}, for saved plans. */
static cJSON *s_actions(const struct rdsbk_engine *e) {
    cJSON *o = cJSON_CreateObject();

    for (size_t i = 0; o && i < e->n_changes; i++)
        if (e->changes[i].action != RDSBK_ACTION_NOOP)
            cJSON_AddStringToObject(o, e->changes[i].address,
                                    rdsbk_action_name(e->changes[i].action));
    return o;
}

int rdsbk_planfile_write(const struct rdsbk_engine *e, const char *path) {
    cJSON *root = cJSON_CreateObject();
    char digest[65];
    char *text = NULL;
    int fd = -1;
    int result;

    result = rdsbk_engine_topology_digest(digest, e->topo->path);
    if (result)
        goto cleanup;
    cJSON_AddNumberToObject(root, "format_version", 1);
    cJSON_AddStringToObject(root, "stack", e->topo->stack);
    /* a plan made before any state exists expects none at apply time */
    cJSON_AddStringToObject(root, "lineage", e->state->loaded_serial < 0 ? "" : e->state->lineage);
    cJSON_AddNumberToObject(root, "serial", (double)e->state->loaded_serial);
    cJSON_AddStringToObject(root, "topology_sha256", digest);
    cJSON_AddItemToObject(root, "actions", s_actions(e));
    text = cJSON_Print(root);
    if (!text) {
        result = rdsbk_error_oom();
        goto cleanup;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) != 0) {
        result = rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    result = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    free(text);
    cJSON_Delete(root);
    return result;
}

int rdsbk_planfile_check(const struct rdsbk_engine *e, const char *path) {
    struct rdsbk_buf text = RDSBK_BUF_INIT;
    cJSON *root = NULL;
    cJSON *now = NULL;
    char digest[65];
    char chunk[4096];
    FILE *f = fopen(path, "rb");
    const cJSON *v;
    size_t n;
    int result = RDSBK_EINVALID;

    if (!f)
        return rdsbk_error_set(RDSBK_EIO, "%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rdsbk_buf_add(&text, chunk, n);
    fclose(f);
    root = cJSON_Parse(rdsbk_buf_cstr(&text));
    if (!root || !cJSON_IsString(cJSON_GetObjectItem(root, "lineage"))) {
        rdsbk_error_set(RDSBK_EINVALID, "%s is not a saved plan", path);
        goto cleanup;
    }
    v = cJSON_GetObjectItem(root, "stack");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, e->topo->stack) != 0) {
        rdsbk_error_set(RDSBK_EINVALID, "%s is a plan for another stack", path);
        goto cleanup;
    }
    if (strcmp(cJSON_GetObjectItem(root, "lineage")->valuestring,
               e->state->loaded_serial < 0 ? "" : e->state->lineage) != 0 ||
        !cJSON_IsNumber(cJSON_GetObjectItem(root, "serial")) ||
        (long)cJSON_GetObjectItem(root, "serial")->valuedouble != e->state->loaded_serial) {
        rdsbk_error_set(RDSBK_ECONFLICT,
                        "%s is stale: the state changed since it was made (serial %ld now); run "
                        "plan again",
                        path, e->state->serial);
        result = RDSBK_ECONFLICT;
        goto cleanup;
    }
    result = rdsbk_engine_topology_digest(digest, e->topo->path);
    if (result)
        goto cleanup;
    v = cJSON_GetObjectItem(root, "topology_sha256");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, digest) != 0) {
        result = rdsbk_error_set(RDSBK_ECONFLICT,
                                 "%s is stale: %s changed since it was made; run "
                                 "plan again",
                                 path, e->topo->path);
        goto cleanup;
    }
    now = s_actions(e);
    if (!now || !cJSON_Compare(now, cJSON_GetObjectItem(root, "actions"), 1)) {
        result = rdsbk_error_set(RDSBK_ECONFLICT,
                                 "%s is stale: AWS changed since it was made, and applying now "
                                 "would do something else; run plan again",
                                 path);
        goto cleanup;
    }
    result = 0;

cleanup:
    rdsbk_buf_clean_up(&text);
    cJSON_Delete(root);
    cJSON_Delete(now);
    return result;
}

static bool s_has_changes(const struct rdsbk_engine *e) {
    struct rdsbk_plan_counts n = rdsbk_engine_count(e);
    return n.add || n.change || n.destroy || n.adopt || n.forget;
}

static int s_print(const struct rdsbk_engine *e, bool destroy) {
    if (e->opts->json) {
        char *json = rdsbk_engine_plan_json(e);
        if (!json)
            return rdsbk_error_oom();
        printf("%s\n", json);
        free(json);
    } else {
        rdsbk_engine_print_plan(e, stdout, destroy);
    }
    fflush(stdout);
    return 0;
}

int rdsbk_engine_plan(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts,
                      bool *has_changes_out) {
    struct rdsbk_engine e;
    int rc;

    *has_changes_out = false;
    rc = rdsbk_engine_open(&e, topo, opts, "plan", false);
    if (!rc)
        rc = rdsbk_engine_compute(&e, false);
    if (!rc)
        rc = s_print(&e, false);
    if (!rc && opts->plan_out) {
        rc = rdsbk_planfile_write(&e, opts->plan_out);
        if (!rc && !opts->json)
            printf("\nSaved the plan to %s; 'rdsbk-provision apply %s' carries out exactly these "
                   "actions.\n",
                   opts->plan_out, opts->plan_out);
    }
    if (!rc)
        *has_changes_out = s_has_changes(&e);
    rdsbk_engine_close(&e);
    return rc;
}

/* Asks for "yes" on a terminal; refuses without one. */
static int s_confirm(const struct rdsbk_engine *e, const char *what) {
    char line[16];

    if (e->opts->auto_approve || e->opts->plan_in)
        return 0;
    if (!isatty(STDIN_FILENO))
        return rdsbk_error_set(RDSBK_EUSAGE,
                               "standard input is not a terminal, so %s cannot ask "
                               "for confirmation; pass --auto-approve",
                               what);
    printf("\nDo you want to %s? Only 'yes' is accepted: ", what);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0)
        return rdsbk_error_set(RDSBK_ERROR, "%s cancelled", what);
    return 0;
}

struct s_guard;
static int s_check_key(struct rdsbk_engine *e, struct s_guard *guard);

int rdsbk_engine_apply(const struct rdsbk_topology *topo, const struct rdsbk_engine_options *opts) {
    struct rdsbk_engine e;
    int rc;

    rc = rdsbk_engine_open(&e, topo, opts, "apply", false);
    if (!rc)
        rc = rdsbk_engine_compute(&e, false);
    if (!rc && opts->plan_in)
        rc = rdsbk_planfile_check(&e, opts->plan_in);
    if (!rc && !opts->plan_in)
        rc = s_print(&e, false);
    if (!rc)
        rc = s_check_key(&e, NULL); /* a replaced key is a deleted key */
    if (!rc && s_has_changes(&e)) {
        rc = s_confirm(&e, "apply these changes");
        if (!rc)
            rc = rdsbk_engine_execute(&e);
    }
    rdsbk_engine_close(&e);
    return rc;
}

/* Snapshots in Region-B encrypted with the key, per account: the DB snapshots and the cluster
 * snapshots of every account, all read in parallel (task 2i: account i's DB snapshots, 2i + 1 its
 * cluster snapshots). */
struct s_key_use {
    struct rdsbk_engine *e;
    const char *key_arn;
    const char **accounts;
    int *counts;
    char (*examples)[512];
};

static int s_count_encrypted(size_t task, void *payload) {
    struct s_key_use *u = payload;
    size_t i = task / 2;
    struct rdsbk_client *client = NULL;
    struct rdsbk_rds_snapshot_query q = {NULL, NULL, "manual", false, NULL, 0};
    struct rdsbk_rds_snapshot *snaps = NULL;
    size_t n = 0;
    int rc;

    rc = rdsbk_engine_client(&client, u->e, u->accounts[i], u->e->topo->backup.region);
    if (rc)
        return rc;
    rc = task % 2 ? rdsbk_rds_describe_db_cluster_snapshots(&snaps, &n, client, &q)
                  : rdsbk_rds_describe_db_snapshots(&snaps, &n, client, &q);
    for (size_t k = 0; !rc && k < n; k++) {
        if (!snaps[k].kms_key_id || strcmp(snaps[k].kms_key_id, u->key_arn) != 0)
            continue;
        if (!u->counts[task]++)
            snprintf(u->examples[task], sizeof(u->examples[task]), "%s",
                     snaps[k].arn ? snaps[k].arn : snaps[k].id);
    }
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

/* How many snapshots of the topology's accounts in Region-B the key encrypts; one of them.
 * `threads` > 0: at most that many reads at once (alongside other work), else up to
 * --parallelism per account. */
static int s_key_in_use(int *count, char *example, size_t example_size, struct rdsbk_engine *e,
                        const char *key_arn, int threads) {
    size_t n = e->topo->n_sources + 1;
    const char **accounts = calloc(n, sizeof(*accounts));
    int *counts = calloc(2 * n, sizeof(*counts));
    char(*examples)[512] = calloc(2 * n, sizeof(*examples));
    struct rdsbk_task_result *results = calloc(2 * n, sizeof(*results));
    struct s_key_use u = {e, key_arn, accounts, counts, examples};
    struct rdsbk_pool_tasks tasks = {0};
    int *own = NULL;
    int rc;

    *count = 0;
    if (!accounts || !counts || !examples || !results) {
        rc = rdsbk_error_oom();
        goto cleanup;
    }
    for (size_t i = 0; i < e->topo->n_sources; i++)
        accounts[i] = e->topo->sources[i].account;
    accounts[n - 1] = e->topo->backup.account;
    tasks.n = 2 * n;
    tasks.max_threads = rdsbk_engine_max_threads(e);
    if (threads <= 0) {
        /* every read its own group: all at once, each account well under its --parallelism */
        own = rdsbk_pool_own_groups(2 * n);
        if (!own) {
            rc = RDSBK_ENOMEM;
            goto cleanup;
        }
        tasks.group_of = own;
        tasks.n_groups = (int)(2 * n);
        threads = e->opts->parallelism;
    }
    rc = rdsbk_pool_run(results, &tasks, threads, false, s_count_encrypted, &u);
    for (size_t i = 0; !rc && i < 2 * n; i++) {
        if (counts[i] && !*count)
            snprintf(example, example_size, "%s", examples[i]);
        *count += counts[i];
    }

cleanup:
    free(own);
    free(accounts);
    free(counts);
    free(examples);
    free(results);
    return rc;
}

/*
 * The key guard's reads made while destroy refreshes, for the key the state records: they are
 * known to be needed and take a round of calls that would otherwise come between the refresh and
 * the first deletion. Beside a refresh of everything (--refresh) at most S_GUARD_THREADS at once;
 * otherwise the refresh reads only what the state lacks, and they all go at once.
 */
#define S_GUARD_THREADS 8

struct s_guard {
    struct rdsbk_engine *e;
    struct rdsbk_job job;
    char key_arn[2048];
    int count;
    char example[512];
};

static int s_guard_reads(void *arg) {
    struct s_guard *g = arg;

    return s_key_in_use(&g->count, g->example, sizeof(g->example), g->e, g->key_arn,
                        g->e->opts->refresh_known ? S_GUARD_THREADS : 0);
}

/* Starts the guard's reads when the state records a key and they will be needed. */
static void s_guard_start(struct s_guard *g, struct rdsbk_engine *e) {
    memset(g, 0, sizeof(*g));
    g->e = e;
    if (e->opts->force_key_deletion)
        return;
    for (size_t i = 0; i < e->state->n_resources; i++) {
        const struct rdsbk_state_resource *r = &e->state->resources[i];
        const char *arn = cJSON_GetStringValue(cJSON_GetObjectItem(r->attributes, "arn"));
        if (strcmp(r->type, "kms_key") == 0 && arn && strlen(arn) < sizeof(g->key_arn)) {
            snprintf(g->key_arn, sizeof(g->key_arn), "%s", arn);
            rdsbk_job_start(&g->job, s_guard_reads, g);
            return;
        }
    }
}

/* Waits for the guard's reads; true when they were made for `key_arn`. */
static bool s_guard_join(struct s_guard *g, const char *key_arn) {
    if (!g || !g->job.fn)
        return false;
    rdsbk_job_join(&g->job);
    return key_arn && strcmp(g->key_arn, key_arn) == 0;
}

/*
 * The key is scheduled for deletion only when allowed: not with key.prevent_destroy, and not while
 * backup copies are encrypted with it, unless --force-key-deletion. Says when it will be gone.
 * `guard`: the reads made during the refresh (NULL: none).
 */
static int s_check_key(struct rdsbk_engine *e, struct s_guard *guard) {
    for (size_t i = 0; i < e->n_changes; i++) {
        struct rdsbk_change *c = &e->changes[i];
        const cJSON *known;
        const cJSON *window;
        const char *key_arn;
        char example[512] = "";
        int count = 0;
        int days;
        time_t when;
        char date[32];
        int rc;

        if (c->type != RDSBK_RT_KMS_KEY ||
            (c->action != RDSBK_ACTION_DELETE && c->action != RDSBK_ACTION_REPLACE))
            continue;
        known = c->prior ? c->prior : c->hint;
        if (cJSON_IsTrue(cJSON_GetObjectItem(known, "prevent_destroy")) &&
            !e->opts->force_key_deletion)
            return rdsbk_error_set(RDSBK_EINVALID,
                                   "the topology sets key.prevent_destroy: destroy will not "
                                   "schedule the deletion of %s; pass --force-key-deletion to "
                                   "delete it anyway",
                                   c->id ? c->id : c->name);
        key_arn = cJSON_GetStringValue(cJSON_GetObjectItem(c->actual, "arn"));
        if (s_guard_join(guard, key_arn)) {
            if (guard->job.rc) {
                rdsbk_error_restore(&guard->job.error);
                return guard->job.rc;
            }
            count = guard->count;
            snprintf(example, sizeof(example), "%s", guard->example);
        } else if (key_arn && !e->opts->force_key_deletion) {
            rc = s_key_in_use(&count, example, sizeof(example), e, key_arn, 0);
            if (rc)
                return rc;
        }
        if (count)
            return rdsbk_error_set(RDSBK_EINVALID,
                                   "%d snapshot%s (such as %s) %s encrypted with the shared key "
                                   "%s: once the key is deleted they cannot be restored. Delete "
                                   "or re-encrypt them first, or pass --force-key-deletion",
                                   count, count == 1 ? "" : "s", example, count == 1 ? "is" : "are",
                                   key_arn);
        window = cJSON_GetObjectItem(known, "deletion_window_days");
        days = cJSON_IsNumber(window) ? window->valueint : 30;
        when = time(NULL) + (time_t)days * 86400;
        strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&when));
        fprintf(e->opts->json ? stderr : stdout,
                "\nThe shared key %s will be scheduled for deletion on %s (in %d days). Every "
                "backup copy encrypted with it becomes unrestorable then; cancel with 'aws kms "
                "cancel-key-deletion' before that date if you need them.\n",
                c->id ? c->id : c->name, date, days);
    }
    return 0;
}

int rdsbk_engine_destroy(const struct rdsbk_topology *topo,
                         const struct rdsbk_engine_options *opts) {
    struct rdsbk_engine e;
    struct s_guard guard;
    int rc;

    memset(&guard, 0, sizeof(guard));
    rc = rdsbk_engine_open(&e, topo, opts, "destroy", false);
    if (!rc && !opts->discover && e.state->loaded_serial < 0) {
        printf("Nothing to destroy: %s does not exist (use --discover to find the stack's "
               "resources without a state).\n",
               opts->state_path);
        rdsbk_engine_close(&e);
        return 0;
    }
    if (!rc)
        s_guard_start(&guard, &e);
    if (!rc)
        rc = rdsbk_engine_compute(&e, true);
    if (!rc)
        rc = s_print(&e, true);
    if (!rc)
        rc = s_check_key(&e, &guard);
    s_guard_join(&guard, NULL); /* when the run stopped before the check */
    if (!rc && s_has_changes(&e)) {
        rc = s_confirm(&e, "destroy every resource of the stack");
        if (!rc)
            rc = rdsbk_engine_execute(&e);
    }
    rdsbk_engine_close(&e);
    return rc;
}
