/* The state file and its lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/error.h"
#include "rdsbk/state.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char s_dir[64];
static char s_path[128];

static int s_setup(void **state) {
    (void)state;
    snprintf(s_dir, sizeof(s_dir), "/tmp/rdsbk-state-test.XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    snprintf(s_path, sizeof(s_path), "%s/s.state.json", s_dir);
    return 0;
}

static int s_teardown(void **state) {
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s_dir);
    return system(cmd);
}

static void s_write(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip_and_backup(void **state) {
    struct rdsbk_state *st = NULL;
    struct rdsbk_state *again = NULL;
    cJSON *attrs = cJSON_Parse("{\"arn\": \"arn:aws:iam::111111111111:role/x\"}");
    char *deps[] = {"b.one"};
    struct stat sb;
    char backup[160];
    (void)state;

    assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_ENOTFOUND);
    assert_int_equal(rdsbk_state_new(&st, "s"), 0);
    assert_int_equal(strlen(st->lineage), 36);
    assert_int_equal(
        rdsbk_state_put(st, "z.last", "iam_role", "111111111111", "eu-west-1", "x", attrs, deps, 1),
        0);
    assert_int_equal(
        rdsbk_state_put(st, "a.first", "kms_key", "222222222222", "eu-west-1", "k", NULL, NULL, 0),
        0);
    assert_int_equal(rdsbk_state_save(st, s_path), 0);
    assert_int_equal(st->serial, 1);
    assert_int_equal(stat(s_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(backup, sizeof(backup), "%s.backup", s_path);
    assert_int_not_equal(stat(backup, &sb), 0); /* nothing to keep on the first save */

    assert_int_equal(rdsbk_state_save(st, s_path), 0);
    assert_int_equal(stat(backup, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(rdsbk_state_load(&again, s_path, "s"), 0);
    assert_int_equal(again->serial, 2);
    assert_string_equal(again->lineage, st->lineage);
    assert_int_equal(again->n_resources, 2);
    assert_string_equal(again->resources[0].address, "a.first"); /* sorted */
    assert_string_equal(again->resources[1].deps[0], "b.one");
    assert_string_equal(cJSON_GetObjectItem(again->resources[1].attributes, "arn")->valuestring,
                        "arn:aws:iam::111111111111:role/x");
    assert_int_equal(rdsbk_state_remove(again, "a.first"), 0);
    assert_int_equal(rdsbk_state_remove(again, "a.first"), RDSBK_ENOTFOUND);

    /* st still thinks serial 2 is on disk; again saves 3; st must now be refused */
    assert_int_equal(rdsbk_state_save(again, s_path), 0);
    assert_int_equal(rdsbk_state_save(st, s_path), RDSBK_ECONFLICT);
    assert_non_null(strstr(rdsbk_error_last()->message, "changed by another run"));

    cJSON_Delete(attrs);
    rdsbk_state_free(st);
    rdsbk_state_free(again);
}

static const struct {
    const char *name;
    const char *text;
    const char *message;
} s_bad[] = {
    {"empty", "", "damaged (it is empty)"},
    {"truncated", "{\"format_version\": 1, \"serial\": 3, \"lin", "damaged (not valid JSON)"},
    {"newer", "{\"format_version\": 2, \"stack\": \"s\", \"tool_version\": \"9.0\"}",
     "state format 2 is newer"},
    {"other stack",
     "{\"format_version\": 1, \"stack\": \"prod\", \"serial\": 1, \"lineage\": "
     "\"00000000-0000-4000-8000-000000000000\", \"resources\": []}",
     "belongs to stack 'prod', not 's'"},
    {"no lineage", "{\"format_version\": 1, \"stack\": \"s\", \"serial\": 1, \"resources\": []}",
     "no serial or lineage"},
    {"bad resource",
     "{\"format_version\": 1, \"stack\": \"s\", \"serial\": 1, \"lineage\": "
     "\"00000000-0000-4000-8000-000000000000\", \"resources\": [{\"address\": \"x\"}]}",
     "resources[0] (x) has no \"type\""},
};

static void test_refusals(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_bad) / sizeof(s_bad[0]); i++) {
        struct rdsbk_state *st = NULL;
        s_write(s_path, s_bad[i].text);
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
        assert_null(st);
        if (!strstr(rdsbk_error_last()->message, s_bad[i].message))
            fail_msg("%s: message '%s' lacks '%s'", s_bad[i].name, rdsbk_error_last()->message,
                     s_bad[i].message);
    }
    /* a damaged state names its backup */
    s_write(s_path, "{");
    {
        struct rdsbk_state *st = NULL;
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
        assert_non_null(strstr(rdsbk_error_last()->message, ".backup"));
    }
}

/* A resource missing one of the fields the engine relies on is damage, refused at load with one
 * line naming the resource and the field. A missing region used to load, and a destroy of that
 * resource then passed NULL on (UBSan stopped the run, leaving the lock). */
#define S_HEADER                                                                                   \
    "{\"format_version\": 1, \"stack\": \"s\", \"serial\": 4, \"lineage\": "                       \
    "\"00000000-0000-4000-8000-000000000000\", \"resources\": [\n"
#define S_GOOD                                                                                     \
    "{\"address\": \"a.ok\", \"type\": \"iam_role\", \"account\": \"111111111111\", "              \
    "\"region\": \"eu-west-1\", \"id\": \"r\", \"attributes\": {}}"

static const struct {
    const char *resource; /* resources[1] */
    const char *message;
} s_damaged_resources[] = {
    {"{\"type\": \"kms_key\", \"account\": \"222222222222\", \"region\": \"eu-west-1\", \"id\": "
     "\"k\", "
     "\"attributes\": {}}",
     "resources[1] has no \"address\""},
    {"{\"address\": \"b.key\", \"account\": \"222222222222\", \"region\": \"eu-west-1\", \"id\": "
     "\"k\", \"attributes\": {}}",
     "resources[1] (b.key) has no \"type\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"region\": \"eu-west-1\", \"id\": \"k\", "
     "\"attributes\": {}}",
     "resources[1] (b.key) has no \"account\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"222222222222\", \"id\": "
     "\"k\", "
     "\"attributes\": {}}",
     "resources[1] (b.key) has no \"region\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"222222222222\", \"region\": "
     "\"eu-west-1\", \"attributes\": {}}",
     "resources[1] (b.key) has no \"id\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"222222222222\", \"region\": "
     "\"\", \"id\": \"k\", \"attributes\": {}}",
     "resources[1] (b.key) has an empty \"region\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"222222222222\", \"region\": "
     "null, \"id\": \"k\", \"attributes\": {}}",
     "resources[1] (b.key) has a bad \"region\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"22222222222x\", \"region\": "
     "\"eu-west-1\", \"id\": \"k\", \"attributes\": {}}",
     "resources[1] (b.key) has an \"account\" that is not 12 digits"},
    {"{\"address\": \"b.\\u001b[2Jkey\", \"type\": \"kms_key\", \"account\": \"222222222222\", "
     "\"id\": \"k\", \"attributes\": {}}",
     "resources[1] (b.\\x1B[2Jkey) has no \"region\""},
    {"{\"address\": \"b.key\", \"type\": \"kms_key\", \"account\": \"222222222222\", \"region\": "
     "\"eu-west-1\", \"id\": \"k\"}",
     "resources[1] (b.key) has no \"attributes\""},
    {S_GOOD, "resources[1] (a.ok) is listed twice"},
};

static void test_damaged_resources(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(s_damaged_resources) / sizeof(s_damaged_resources[0]); i++) {
        struct rdsbk_state *st = NULL;
        char text[1024];
        const char *message;

        snprintf(text, sizeof(text), "%s%s,\n%s]}", S_HEADER, S_GOOD,
                 s_damaged_resources[i].resource);
        s_write(s_path, text);
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
        assert_null(st);
        message = rdsbk_error_last()->message;
        if (!strstr(message, s_damaged_resources[i].message) || !strstr(message, ".backup") ||
            strchr(message, '\n'))
            fail_msg("case %zu: message '%s' lacks '%s' (or is not one line naming the backup)", i,
                     message, s_damaged_resources[i].message);
    }
    /* an empty id is a resource known by its name: it loads */
    {
        struct rdsbk_state *st = NULL;
        char text[1024];
        snprintf(text, sizeof(text), "%s%s]}", S_HEADER,
                 "{\"address\": \"a.ok\", \"type\": \"iam_role\", \"account\": \"111111111111\", "
                 "\"region\": \"eu-west-1\", \"id\": \"\", \"attributes\": {}}");
        s_write(s_path, text);
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), 0);
        rdsbk_state_free(st);
    }
}

/* A state with one resource, saved at `path`. */
static void s_save_new(const char *path) {
    struct rdsbk_state *st = NULL;

    assert_int_equal(rdsbk_state_new(&st, "s"), 0);
    assert_int_equal(
        rdsbk_state_put(st, "a.one", "iam_role", "111111111111", "eu-west-1", "x", NULL, NULL, 0),
        0);
    assert_int_equal(rdsbk_state_save(st, path), 0);
    rdsbk_state_free(st);
}

static void s_assert_file(const char *path, const char *text) {
    char got[4096] = "";
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    got[fread(got, 1, sizeof(got) - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(got, text);
}

/* The temporary file has a predictable name (PATH.tmp.PID): a symbolic link planted there must
 * not carry the state into its target. The link is removed, the target left alone. */
static void test_temp_file_link(void **state) {
    char victim[160];
    char tmp[160];
    struct stat sb;
    (void)state;

    snprintf(victim, sizeof(victim), "%s/victim", s_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", s_path, (long)getpid());
    s_write(victim, "precious\n");
    assert_int_equal(symlink(victim, tmp), 0);
    s_save_new(s_path);
    s_assert_file(victim, "precious\n");
    assert_int_equal(lstat(s_path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_not_equal(lstat(tmp, &sb), 0); /* renamed into place */

    /* a leftover regular temporary file (a killed run of the same pid) is replaced too */
    s_write(tmp, "leftover");
    chmod(tmp, 0644);
    {
        struct rdsbk_state *st = NULL;
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), 0);
        assert_int_equal(rdsbk_state_save(st, s_path), 0);
        rdsbk_state_free(st);
    }
    assert_int_equal(stat(s_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* A state path that is a symbolic link is refused by lock, load and save alike (the lock, backup
 * and temporary file are named after the path: through a link they would not guard the file). */
static void test_state_link_refused(void **state) {
    struct rdsbk_state *st = NULL;
    struct rdsbk_state_lock *lock = NULL;
    char real[160];
    char before[4096];
    char lock_path[160];
    FILE *f;
    size_t n;
    (void)state;

    snprintf(real, sizeof(real), "%s/real.state.json", s_dir);
    s_save_new(real);
    f = fopen(real, "r");
    n = fread(before, 1, sizeof(before) - 1, f);
    before[n] = '\0';
    fclose(f);
    assert_int_equal(symlink(real, s_path), 0);

    assert_int_equal(rdsbk_state_lock(&lock, s_path, "apply", 0), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message, "is a symbolic link (to "));
    assert_non_null(strstr(rdsbk_error_last()->message, "point --state at the state file"));
    snprintf(lock_path, sizeof(lock_path), "%s.lock", s_path);
    assert_int_not_equal(access(lock_path, F_OK), 0);
    assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
    assert_non_null(strstr(rdsbk_error_last()->message, "is a symbolic link"));

    /* loaded from the file itself, saved through the link: refused, the file as it was */
    assert_int_equal(rdsbk_state_load(&st, real, "s"), 0);
    assert_int_equal(rdsbk_state_save(st, s_path), RDSBK_EINVALID);
    rdsbk_state_free(st);
    s_assert_file(real, before);

    /* a dangling link is not "no state yet" */
    unlink(s_path);
    assert_int_equal(symlink("/nonexistent/rdsbk.state.json", s_path), 0);
    assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
    assert_int_equal(rdsbk_state_lock(&lock, s_path, "apply", 0), RDSBK_EINVALID);
}

/* rdsbk_state_lock in a child stopped by an alarm after 10 s: a lock path that cannot be read
 * without blocking must be refused at once (exit 0), whatever the lock timeout. */
static void s_assert_lock_refused(const char *what) {
    pid_t child = fork();
    int status;

    if (child == 0) {
        struct rdsbk_state_lock *l = NULL;
        int rc;
        alarm(10);
        rc = rdsbk_state_lock(&l, s_path, "apply", 5);
        _exit(rc == RDSBK_EINVALID && strstr(rdsbk_error_last()->message, what) &&
                      strstr(rdsbk_error_last()->message, "not a regular file")
                  ? 0
                  : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("lock over %s: %s", what,
                 WIFSIGNALED(status) ? "hung (killed by the alarm)" : "not refused");
}

static void test_lock_not_regular(void **state) {
    char lock_path[160];
    char holder[160];
    time_t start = time(NULL);
    (void)state;

    snprintf(lock_path, sizeof(lock_path), "%s.lock", s_path);
    assert_int_equal(mkfifo(lock_path, 0600), 0);
    s_assert_lock_refused("a FIFO");
    unlink(lock_path);
    assert_int_equal(mkdir(lock_path, 0700), 0);
    s_assert_lock_refused("a directory");
    rmdir(lock_path);
    snprintf(holder, sizeof(holder), "%s/holder", s_dir);
    s_write(holder, "{\"holder\": \"x\", \"pid\": 1, \"host\": \"h\", \"operation\": \"apply\"}");
    assert_int_equal(symlink(holder, lock_path), 0);
    s_assert_lock_refused("a symbolic link");
    assert_true(time(NULL) - start < 5); /* refused at once, not after the lock timeout */
    unlink(lock_path);

    /* a state path that is a FIFO is refused too, by lock and load */
    assert_int_equal(mkfifo(s_path, 0600), 0);
    {
        struct rdsbk_state *st = NULL;
        struct rdsbk_state_lock *l = NULL;
        assert_int_equal(rdsbk_state_lock(&l, s_path, "apply", 0), RDSBK_EINVALID);
        assert_int_equal(rdsbk_state_load(&st, s_path, "s"), RDSBK_EINVALID);
        assert_non_null(strstr(rdsbk_error_last()->message, "is a FIFO"));
    }
}

static void test_lock(void **state) {
    struct rdsbk_state_lock *lock = NULL;
    struct rdsbk_state_lock *second = NULL;
    char lock_path[160];
    pid_t child;
    int status;
    (void)state;

    assert_int_equal(rdsbk_state_lock(&lock, s_path, "apply", 0), 0);
    /* another process cannot take it and is told who holds it */
    child = fork();
    if (child == 0) {
        struct rdsbk_state_lock *l = NULL;
        int rc = rdsbk_state_lock(&l, s_path, "apply", 0);
        _exit(rc == RDSBK_ELOCKED && strstr(rdsbk_error_last()->message, "locked by") &&
                      strstr(rdsbk_error_last()->message, "apply since")
                  ? 0
                  : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    rdsbk_state_unlock(lock);
    assert_int_equal(rdsbk_state_force_unlock(s_path), RDSBK_ENOTFOUND);

    /* a lock left by a dead process of this host is stale and taken over */
    child = fork();
    if (child == 0) {
        struct rdsbk_state_lock *l = NULL;
        _exit(rdsbk_state_lock(&l, s_path, "apply", 0) == 0 ? 0 : 1); /* dies holding it */
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(WEXITSTATUS(status), 0);
    snprintf(lock_path, sizeof(lock_path), "%s.lock", s_path);
    assert_int_equal(access(lock_path, F_OK), 0);
    assert_int_equal(rdsbk_state_lock(&second, s_path, "plan", 0), 0);
    rdsbk_state_unlock(second);
    assert_int_not_equal(access(lock_path, F_OK), 0);

    /* state unlock removes a lock whoever holds it */
    assert_int_equal(rdsbk_state_lock(&lock, s_path, "apply", 0), 0);
    assert_int_equal(rdsbk_state_force_unlock(s_path), 0);
    rdsbk_state_unlock(lock); /* its file is gone already: unlinking again is harmless */
}

/* Two runs that find the same stale lock must never hold it at the same time. 200 rounds: the
 * code before the fix let both take it over in some of them (measured). Each holder marks its
 * hold with an O_EXCL file: finding the mark means two holders at once. Both may succeed one
 * after the other (the second starting after the first let go, on a loaded machine), and at
 * least one must. */
static void test_stale_lock_race(void **state) {
    char mark[PATH_MAX];
    (void)state;

    snprintf(mark, sizeof(mark), "%s.held", s_path);
    for (int round = 0; round < 200; round++) {
        pid_t dead = fork();
        pid_t racers[2];
        int winners = 0;
        int overlaps = 0;
        int status;

        if (dead == 0) {
            struct rdsbk_state_lock *l = NULL;
            _exit(rdsbk_state_lock(&l, s_path, "apply", 0) == 0 ? 0 : 1); /* dies holding it */
        }
        assert_int_equal(waitpid(dead, &status, 0), dead);
        for (int i = 0; i < 2; i++) {
            racers[i] = fork();
            if (racers[i] == 0) {
                struct rdsbk_state_lock *l = NULL;
                int fd;
                if (rdsbk_state_lock(&l, s_path, "apply", 0) != 0)
                    _exit(1);
                fd = open(mark, O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd < 0)
                    _exit(2); /* the other one holds it too */
                close(fd);
                usleep(30 * 1000); /* hold it while the other one tries */
                unlink(mark);
                rdsbk_state_unlock(l);
                _exit(0);
            }
        }
        for (int i = 0; i < 2; i++) {
            assert_int_equal(waitpid(racers[i], &status, 0), racers[i]);
            winners += WIFEXITED(status) && WEXITSTATUS(status) == 0;
            overlaps += WIFEXITED(status) && WEXITSTATUS(status) == 2;
        }
        if (overlaps || winners == 0)
            fail_msg("round %d: %s", round,
                     overlaps ? "2 runs held the lock at once" : "no run took the stale lock");
        unlink(mark);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_backup, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_resources, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_temp_file_link, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_link_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lock_not_regular, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_lock_race, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
