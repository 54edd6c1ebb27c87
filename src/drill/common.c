/*
 * What status and drill share: durations, the pipeline's snapshot names, clients per account and
 * Region, and the databases of a source with their newest system snapshot.
 */
#include "drill_internal.h"
#include "rdsbk/client_set.h"
#include "rdsbk/error.h"
#include "rdsbk/model.h"
#include "rdsbk/http.h"
#include "rdsbk/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names -------------------------------------------------------------------------------- */

bool rdsbk_db_pattern_match(const char *pattern, const char *db) {
    size_t len = strlen(pattern);

    if (len > 0 && pattern[len - 1] == '*')
        return strncasecmp(pattern, db, len - 1) == 0;
    return strcasecmp(pattern, db) == 0;
}

/* "YYYY-MM-DD-HH-MM" at p (exactly 16 characters available). */
static bool s_is_stamp(const char *p) {
    static const char shape[] = "dddd-dd-dd-dd-dd";

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)p[i]) : p[i] != '-')
            return false;
    }
    return true;
}

int rdsbk_snapshot_name_parse(struct rdsbk_snapshot_name *out, const char *id) {
    const char *p = id;
    size_t len;
    size_t db_len;

    memset(out, 0, sizeof(*out));
    if (!id)
        return RDSBK_EINVALID;
    if (strncasecmp(p, "rds:", 4) == 0) {
        out->automated = true;
        p += 4;
    }
    len = strlen(p);
    /* the backup form: ...-<stamp>-<12 digits> */
    if (!out->automated && len > 17 + 13 && p[len - 13] == '-') {
        bool digits = true;
        for (size_t i = len - 12; i < len; i++)
            digits &= isdigit((unsigned char)p[i]) != 0;
        if (digits && s_is_stamp(p + len - 13 - 16) && p[len - 13 - 17] == '-') {
            memcpy(out->account, p + len - 12, 12);
            len -= 13;
        }
    }
    if (len < 18 || p[len - 17] != '-' || !s_is_stamp(p + len - 16)) {
        memset(out, 0, sizeof(*out));
        return RDSBK_EINVALID;
    }
    db_len = len - 17;
    if (db_len >= sizeof(out->db)) {
        memset(out, 0, sizeof(*out));
        return RDSBK_EINVALID;
    }
    for (size_t i = 0; i < db_len; i++)
        out->db[i] = (char)tolower((unsigned char)p[i]);
    memcpy(out->stamp, p + len - 16, 16);
    return 0;
}

const char *rdsbk_drill_tag(const struct rdsbk_rds_snapshot *s, const char *key) {
    for (size_t i = 0; i < s->n_tags; i++)
        if (s->tags[i].key && strcmp(s->tags[i].key, key) == 0)
            return s->tags[i].value ? s->tags[i].value : "";
    return NULL;
}

size_t rdsbk_drill_patterns(char *const **patterns_out, const struct rdsbk_source *source,
                            enum rdsbk_db_kind kind) {
    if (patterns_out)
        *patterns_out = kind == RDSBK_DB_CLUSTER ? source->clusters : source->instances;
    return kind == RDSBK_DB_CLUSTER ? source->n_clusters : source->n_instances;
}

int rdsbk_drill_describe_snapshots(struct rdsbk_rds_snapshot **out, size_t *n_out,
                                   struct rdsbk_client *client, enum rdsbk_db_kind kind,
                                   const struct rdsbk_rds_snapshot_query *q) {
    return kind == RDSBK_DB_CLUSTER ? rdsbk_rds_describe_db_cluster_snapshots(out, n_out, client, q)
                                    : rdsbk_rds_describe_db_snapshots(out, n_out, client, q);
}

bool rdsbk_drill_newer(const struct rdsbk_rds_snapshot *cand,
                       const struct rdsbk_rds_snapshot *have) {
    return !have || !have->id || cand->create_time > have->create_time ||
           (cand->create_time == have->create_time && strcmp(cand->id, have->id) > 0);
}

/* arn:PARTITION:rds:REGION:ACCOUNT:TYPE:ID -> region, account, resource id (borrowed from the
 * scratch copy `buf`). */
static bool s_split_arn(char *buf, const char **region, const char **account, const char **id) {
    char *parts[7];
    char *p = buf;

    for (int i = 0; i < 6; i++) {
        char *colon = strchr(p, ':');
        if (!colon)
            return false;
        *colon = '\0';
        parts[i] = p;
        p = colon + 1;
    }
    parts[6] = p;
    if (strcmp(parts[0], "arn") != 0 || strcmp(parts[2], "rds") != 0)
        return false;
    *region = parts[3];
    *account = parts[4];
    *id = parts[6];
    return true;
}

void rdsbk_drill_copy_base(char out[RDSBK_COPY_BASE_MAX + 1], const struct rdsbk_topology *topo,
                           const struct rdsbk_source *source, enum rdsbk_db_kind kind,
                           const char *db) {
    bool named = rdsbk_model_region_named(topo, source, kind == RDSBK_DB_CLUSTER, db);

    rdsbk_copy_base(out, db, named ? source->region : NULL);
}

bool rdsbk_drill_is_region_copy(const struct rdsbk_rds_snapshot *s, const char *base,
                                const char *account, const char *source_region) {
    struct rdsbk_snapshot_name name;
    const char *tag = rdsbk_drill_tag(s, RDSBK_TAG_SOURCE_SNAPSHOT);

    if (!s->id || rdsbk_snapshot_name_parse(&name, s->id) != 0 || name.automated ||
        name.account[0] || strcasecmp(name.db, base) != 0)
        return false;
    if (tag) {
        /* the copy names its source: it must be this account's snapshot in this Region */
        char buf[512];
        const char *region;
        const char *acct;
        const char *id;

        snprintf(buf, sizeof(buf), "%s", tag);
        if (!s_split_arn(buf, &region, &acct, &id))
            return false;
        return strcmp(region, source_region) == 0 && strcmp(acct, account) == 0;
    }
    return true;
}

bool rdsbk_drill_is_backup_copy(const struct rdsbk_rds_snapshot *s, const char *base,
                                const char *account) {
    struct rdsbk_snapshot_name name;
    const char *tag = rdsbk_drill_tag(s, RDSBK_TAG_SOURCE_ACCOUNT);

    if (!s->id || rdsbk_snapshot_name_parse(&name, s->id) != 0 || name.automated ||
        strcmp(name.account, account) != 0 || strcasecmp(name.db, base) != 0)
        return false;
    return !tag || strcmp(tag, account) == 0;
}

/* ---- clients ------------------------------------------------------------------------------ */

/* The client set's way to an account the topology does not name: an OU's member account. */
static bool s_member(const char *account, const char **profile, const char **role_arn,
                     void *payload) {
    const struct rdsbk_drill_clients *c = payload;

    for (size_t i = 0; i < c->n_members; i++) {
        if (strcmp(c->members[i].account, account) == 0) {
            *profile = c->members[i].profile;
            *role_arn = c->members[i].role_arn;
            return true;
        }
    }
    return false;
}

int rdsbk_drill_add_member(struct rdsbk_drill_clients *c, const struct rdsbk_source *ou,
                           const char *account) {
    struct rdsbk_drill_member *grown;
    struct rdsbk_drill_member *m;

    for (size_t i = 0; i < c->n_members; i++)
        if (strcmp(c->members[i].account, account) == 0)
            return 0;
    grown = realloc(c->members, (c->n_members + 1) * sizeof(*grown));
    if (!grown)
        return rdsbk_error_oom();
    c->members = grown;
    m = memset(&grown[c->n_members], 0, sizeof(*m));
    snprintf(m->account, sizeof(m->account), "%s", account);
    m->profile = ou->profile;
    if (rdsbk_strfmt(&m->role_arn, "arn:%s:iam::%s:role/%s",
                     rdsbk_region_partition(c->topo->backup.region), account, ou->member_role))
        return RDSBK_ENOMEM;
    c->n_members++;
    return 0;
}

int rdsbk_drill_clients_init(struct rdsbk_drill_clients *c, const struct rdsbk_topology *topo) {
    int rc;

    memset(c, 0, sizeof(*c));
    c->topo = topo;
    RDSBK_TRY(rdsbk_http_new(&c->http, NULL));
    rc = rdsbk_client_set_new(&c->set, topo, c->http, s_member, c);

cleanup:
    if (rc)
        rdsbk_drill_clients_clean_up(c);
    return rc;
}

void rdsbk_drill_clients_clean_up(struct rdsbk_drill_clients *c) {
    rdsbk_client_set_free(c->set);
    free(c->verified);
    for (size_t i = 0; i < c->n_members; i++)
        free(c->members[i].role_arn);
    free(c->members);
    rdsbk_http_free(c->http);
    memset(c, 0, sizeof(*c));
}

/* Each account is proven once (GetCallerIdentity) before its first use. */
static int s_verify(struct rdsbk_drill_clients *c, struct rdsbk_client *client,
                    const char *account) {
    int rc;

    for (size_t i = 0; i < c->n_verified; i++)
        if (strcmp(c->verified[i], account) == 0)
            return 0;
    rc = rdsbk_client_verify_account(client, account, NULL);
    if (rc == 0) {
        char(*grown)[RDSBK_ACCOUNT_LEN + 1] =
            realloc(c->verified, (c->n_verified + 1) * sizeof(*grown));
        if (!grown)
            return rdsbk_error_oom();
        c->verified = grown;
        snprintf(c->verified[c->n_verified++], RDSBK_ACCOUNT_LEN + 1, "%s", account);
    }
    return rc;
}

int rdsbk_drill_client(struct rdsbk_client **out, struct rdsbk_drill_clients *c,
                       const char *account, const char *region) {
    int rc = rdsbk_client_set_get(out, c->set, account, region);

    if (rc == 0)
        rc = s_verify(c, *out, account);
    if (rc)
        *out = NULL;
    return rc;
}

/* ---- databases ---------------------------------------------------------------------------- */

void rdsbk_drill_dbs_free(struct rdsbk_drill_db *dbs, size_t n) {
    if (!dbs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(dbs[i].database);
        rdsbk_rds_snapshot_clean_up(&dbs[i].newest);
    }
    free(dbs);
}

/* The databases of one source, as they are found. */
struct s_dbs {
    struct rdsbk_drill_db *items;
    size_t n;
};

/* The row of `database` (kind), appended when new; NULL when out of memory (error set). */
static struct rdsbk_drill_db *s_db(struct s_dbs *d, const struct rdsbk_source *source,
                                   const char *database, enum rdsbk_db_kind kind) {
    struct rdsbk_drill_db *grown;
    struct rdsbk_drill_db *db;

    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].kind == kind && strcasecmp(d->items[i].database, database) == 0)
            return &d->items[i];
    grown = realloc(d->items, (d->n + 1) * sizeof(*grown));
    if (!grown) {
        rdsbk_error_oom();
        return NULL;
    }
    d->items = grown;
    db = memset(&grown[d->n], 0, sizeof(*db));
    if (rdsbk_strdup_into(&db->database, database))
        return NULL;
    for (char *p = db->database; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    db->kind = kind;
    db->source = source;
    d->n++;
    return db;
}

/* A row for every pattern of `kind`: exact names in topology order, and for a prefix every
 * database of the automated snapshots `snaps` it matches, or the pattern itself when it matches
 * none. */
static int s_add_rows(struct s_dbs *d, const struct rdsbk_source *source, enum rdsbk_db_kind kind,
                      const struct rdsbk_rds_snapshot *snaps, size_t n) {
    char *const *patterns;
    size_t n_patterns = rdsbk_drill_patterns(&patterns, source, kind);

    for (size_t p = 0; p < n_patterns; p++) {
        size_t len = strlen(patterns[p]);
        bool prefix = len > 0 && patterns[p][len - 1] == '*';
        bool matched = false;

        for (size_t i = 0; i < n; i++) {
            if (!snaps[i].source_id || !rdsbk_db_pattern_match(patterns[p], snaps[i].source_id))
                continue;
            matched = true;
            if (!s_db(d, source, snaps[i].source_id, kind))
                return RDSBK_ENOMEM;
        }
        if ((!prefix || !matched) && !s_db(d, source, patterns[p], kind))
            return RDSBK_ENOMEM;
    }
    return 0;
}

/* Moves each snapshot of `snaps` that is newer than its row's newest into the row. */
static void s_keep_newest(struct s_dbs *d, const struct rdsbk_source *source,
                          enum rdsbk_db_kind kind, struct rdsbk_rds_snapshot *snaps, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!snaps[i].source_id || !snaps[i].id)
            continue;
        for (size_t j = 0; j < d->n; j++) {
            struct rdsbk_drill_db *db = &d->items[j];
            if (db->kind != kind || db->source != source ||
                strcasecmp(db->database, snaps[i].source_id) != 0)
                continue;
            if (rdsbk_drill_newer(&snaps[i], &db->newest)) {
                rdsbk_rds_snapshot_clean_up(&db->newest);
                db->newest = snaps[i];
                memset(&snaps[i], 0, sizeof(snaps[i]));
            }
            break;
        }
    }
}

static int s_find_kind(struct s_dbs *d, struct rdsbk_client *client,
                       const struct rdsbk_source *source, enum rdsbk_db_kind kind) {
    struct rdsbk_rds_snapshot_query q = {.snapshot_type = "automated"};
    struct rdsbk_rds_snapshot *snaps = NULL;
    size_t n = 0;
    int rc;

    if (rdsbk_drill_patterns(NULL, source, kind) == 0)
        return 0;
    RDSBK_TRY(rdsbk_drill_describe_snapshots(&snaps, &n, client, kind, &q));
    RDSBK_TRY(s_add_rows(d, source, kind, snaps, n));
    s_keep_newest(d, source, kind, snaps, n);

cleanup:
    rdsbk_rds_snapshots_free(snaps, n);
    return rc;
}

int rdsbk_drill_find_dbs(struct rdsbk_drill_db **out, size_t *n_out,
                         struct rdsbk_drill_clients *clients, const struct rdsbk_source *source) {
    struct s_dbs d = {NULL, 0};
    struct rdsbk_client *client = NULL;
    int rc;

    *out = NULL;
    *n_out = 0;
    RDSBK_TRY(rdsbk_drill_client(&client, clients, source->account, source->region));
    RDSBK_TRY(s_find_kind(&d, client, source, RDSBK_DB_INSTANCE));
    RDSBK_TRY(s_find_kind(&d, client, source, RDSBK_DB_CLUSTER));
    *out = d.items;
    *n_out = d.n;
    d.items = NULL;
    d.n = 0;

cleanup:
    rdsbk_drill_dbs_free(d.items, d.n);
    return rc;
}
