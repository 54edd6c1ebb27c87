/* The refresh memo: one fetch per document, shared by parallel readers, errors included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rdsbk/error.h"
#include "resources/resources_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_fetches;

/* A slow fetch (so that readers overlap); "missing" is not found, anything else is its policy. */
static int s_fetch(char **text_out, struct rdsbk_client *client, const char *what) {
    (void)client;
    pthread_mutex_lock(&s_lock);
    s_fetches++;
    pthread_mutex_unlock(&s_lock);
    usleep(50000);
    if (strcmp(what, "missing") == 0)
        return rdsbk_error_set_aws(RDSBK_ENOTFOUND, 404, "ResourceNotFoundException", "req-1",
                                   "Function not found: missing");
    return rdsbk_strfmt(text_out, "{\"policy of\":\"%s\"}", what);
}

struct s_reader {
    struct rdsbk_res_memo *memo;
    const char *what;
    int rc;
    char *text;
    char aws_code[128];
};

static void *s_read(void *arg) {
    struct s_reader *r = arg;
    char key[64];

    snprintf(key, sizeof(key), "111111111111/eu-west-1/lambda:GetPolicy/%s", r->what);
    r->rc = rdsbk_res_memo_text(&r->text, r->memo, s_fetch, NULL, r->what, key);
    snprintf(r->aws_code, sizeof(r->aws_code), "%s", rdsbk_error_last()->aws_code);
    return NULL;
}

static void test_memo_shares_one_fetch(void **state) {
    static const char *const names[] = {"share", "share", "copy", "share", "missing", "missing"};
    struct s_reader readers[6];
    pthread_t threads[6];
    struct rdsbk_res_memo *memo = rdsbk_res_memo_new();
    (void)state;

    assert_non_null(memo);
    s_fetches = 0;
    for (size_t i = 0; i < 6; i++) {
        memset(&readers[i], 0, sizeof(readers[i]));
        readers[i].memo = memo;
        readers[i].what = names[i];
        assert_int_equal(pthread_create(&threads[i], NULL, s_read, &readers[i]), 0);
    }
    for (size_t i = 0; i < 6; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(s_fetches, 3); /* share, copy, missing: once each */
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(names[i], "missing") == 0) {
            /* every reader gets the fetch's error, AWS code included */
            assert_int_equal(readers[i].rc, RDSBK_ENOTFOUND);
            assert_string_equal(readers[i].aws_code, "ResourceNotFoundException");
            assert_null(readers[i].text);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "{\"policy of\":\"%s\"}", names[i]);
            assert_int_equal(readers[i].rc, 0);
            assert_string_equal(readers[i].text, want); /* each its own copy */
            free(readers[i].text);
        }
    }
    rdsbk_res_memo_free(memo);
}

static void test_memo_null_fetches_every_time(void **state) {
    char *text = NULL;
    (void)state;

    s_fetches = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rdsbk_res_memo_text(&text, NULL, s_fetch, NULL, "copy", "k"), 0);
        free(text);
    }
    assert_int_equal(s_fetches, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_shares_one_fetch),
        cmocka_unit_test(test_memo_null_fetches_every_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
