#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"
#include "rdsbk/templates.h"
#include "rdsbk/zip.h"

/* A minimal reader, independent of the writer, for checking what it wrote. */
struct s_entry {
    char name[256];
    unsigned made_by;
    unsigned method;
    unsigned flags;
    unsigned time;
    unsigned date;
    uint32_t crc;
    uint32_t csize;
    uint32_t usize;
    uint32_t external;
    unsigned extra_len;
    unsigned comment_len;
    const unsigned char *data; /* compressed bytes, inside the zip */
};

static unsigned s_u16(const unsigned char *p) {
    return (unsigned)p[0] | ((unsigned)p[1] << 8);
}

static uint32_t s_u32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Parses the central directory and each entry's local header; returns the entry count. */
static size_t s_parse(const struct rdsbk_buf *zip, struct s_entry *out, size_t max) {
    const unsigned char *z = (const unsigned char *)rdsbk_buf_cstr(zip);
    const unsigned char *end;
    const unsigned char *cd;
    size_t count;

    assert_true(rdsbk_buf_len(zip) >= 22);
    end = z + rdsbk_buf_len(zip) - 22;
    assert_int_equal(s_u32(end), 0x06054b50);
    assert_int_equal(s_u16(end + 20), 0); /* no archive comment */
    count = s_u16(end + 10);
    assert_int_equal(s_u16(end + 8), count);
    assert_true(count <= max);
    cd = z + s_u32(end + 16);
    assert_int_equal((size_t)(end - cd), s_u32(end + 12));
    for (size_t i = 0; i < count; i++) {
        struct s_entry *e = &out[i];
        const unsigned char *lh;
        unsigned name_len;

        assert_int_equal(s_u32(cd), 0x02014b50);
        e->made_by = s_u16(cd + 4);
        e->flags = s_u16(cd + 8);
        e->method = s_u16(cd + 10);
        e->time = s_u16(cd + 12);
        e->date = s_u16(cd + 14);
        e->crc = s_u32(cd + 16);
        e->csize = s_u32(cd + 20);
        e->usize = s_u32(cd + 24);
        name_len = s_u16(cd + 28);
        e->extra_len = s_u16(cd + 30);
        e->comment_len = s_u16(cd + 32);
        e->external = s_u32(cd + 38);
        assert_true(name_len < sizeof(e->name));
        memcpy(e->name, cd + 46, name_len);
        e->name[name_len] = '\0';
        /* The local header repeats the same fields. */
        lh = z + s_u32(cd + 42);
        assert_int_equal(s_u32(lh), 0x04034b50);
        assert_int_equal(s_u16(lh + 6), e->flags);
        assert_int_equal(s_u16(lh + 8), e->method);
        assert_int_equal(s_u16(lh + 10), e->time);
        assert_int_equal(s_u16(lh + 12), e->date);
        assert_int_equal(s_u32(lh + 14), e->crc);
        assert_int_equal(s_u32(lh + 18), e->csize);
        assert_int_equal(s_u32(lh + 22), e->usize);
        assert_int_equal(s_u16(lh + 26), name_len);
        assert_int_equal(s_u16(lh + 28), 0); /* no extra field */
        assert_memory_equal(lh + 30, e->name, name_len);
        e->data = lh + 30 + name_len;
        cd += 46 + name_len + e->extra_len + e->comment_len;
    }
    return count;
}

/* Inflates an entry and compares it with `expected`. */
static void s_assert_content(const struct s_entry *e, const void *expected, size_t len) {
    unsigned char *plain = malloc(len + 1);
    z_stream zs;

    assert_non_null(plain);
    assert_int_equal(e->usize, len);
    assert_int_equal(e->crc, (uint32_t)crc32(crc32(0L, Z_NULL, 0), expected, (uInt)len));
    if (e->method == 0) {
        assert_int_equal(e->csize, len);
        assert_memory_equal(e->data, expected, len);
    } else {
        assert_int_equal(e->method, 8);
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(inflateInit2(&zs, -15), Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)e->data;
        zs.avail_in = e->csize;
        zs.next_out = plain;
        zs.avail_out = (uInt)len + 1;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, len);
        assert_int_equal(zs.total_in, e->csize);
        inflateEnd(&zs);
        assert_memory_equal(plain, expected, len);
    }
    free(plain);
}

static const char s_text[] = "import json\n\n# a compressible file, repeated repeated repeated\n"
                             "def handler(event, context):\n    return json.dumps(event)\n"
                             "def handler(event, context):\n    return json.dumps(event)\n";

static void test_identical_bytes_every_build(void **state) {
    const struct rdsbk_zip_entry forward[] = {
        {"a.py", s_text, sizeof(s_text) - 1},
        {"pkg/b.py", "x = 1\n", 6},
        {"z.py", "", 0},
    };
    const struct rdsbk_zip_entry backward[] = {
        {"z.py", "", 0},
        {"pkg/b.py", "x = 1\n", 6},
        {"a.py", s_text, sizeof(s_text) - 1},
    };
    struct rdsbk_buf one = RDSBK_BUF_INIT;
    struct rdsbk_buf two = RDSBK_BUF_INIT;
    struct rdsbk_buf three = RDSBK_BUF_INIT;

    (void)state;
    assert_int_equal(rdsbk_zip_build(&one, forward, 3), 0);
    assert_int_equal(rdsbk_zip_build(&two, forward, 3), 0);
    assert_int_equal(rdsbk_zip_build(&three, backward, 3), 0);
    assert_true(rdsbk_buf_len(&one) > 0);
    assert_int_equal(rdsbk_buf_len(&one), rdsbk_buf_len(&two));
    assert_memory_equal(rdsbk_buf_cstr(&one), rdsbk_buf_cstr(&two), rdsbk_buf_len(&one));
    assert_int_equal(rdsbk_buf_len(&one), rdsbk_buf_len(&three));
    assert_memory_equal(rdsbk_buf_cstr(&one), rdsbk_buf_cstr(&three), rdsbk_buf_len(&one));
    /* Building into a buffer that already holds something replaces it. */
    assert_int_equal(rdsbk_zip_build(&two, forward, 3), 0);
    assert_int_equal(rdsbk_buf_len(&one), rdsbk_buf_len(&two));
    assert_memory_equal(rdsbk_buf_cstr(&one), rdsbk_buf_cstr(&two), rdsbk_buf_len(&one));
    rdsbk_buf_clean_up(&one);
    rdsbk_buf_clean_up(&two);
    rdsbk_buf_clean_up(&three);
}

/* The expected value was computed from a zip assembled field by field with Python's struct. */
static void test_known_answer_tiny_zip(void **state) {
    const struct rdsbk_zip_entry entries[] = {
        {"dir/b.txt", "hi\n", 3},
        {"a.txt", "", 0},
    };
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];

    (void)state;
    assert_int_equal(rdsbk_zip_build(&zip, entries, 2), 0);
    assert_int_equal(rdsbk_buf_len(&zip), 205);
    assert_int_equal(rdsbk_lambda_code_sha256(sha, rdsbk_buf_cstr(&zip), rdsbk_buf_len(&zip)), 0);
    assert_string_equal(sha, "aIKX9ssFDy9uHtRHxFdhnty+aJCecN9BoDsdj4aFZQU=");
    rdsbk_buf_clean_up(&zip);
}

static void test_entries_sorted_with_fixed_metadata(void **state) {
    const struct rdsbk_zip_entry entries[] = {
        {"share.py", s_text, sizeof(s_text) - 1},
        {"B.py", "upper\n", 6},
        {"rdsbk_common.py", s_text, 40},
        {"a/z.py", "", 0},
        {"a.py", "a\n", 2},
    };
    const char *expected[] = {"B.py", "a.py", "a/z.py", "rdsbk_common.py", "share.py"};
    struct s_entry parsed[8];
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    size_t n;

    (void)state;
    assert_int_equal(rdsbk_zip_build(&zip, entries, 5), 0);
    n = s_parse(&zip, parsed, 8);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(parsed[i].name, expected[i]);
        assert_int_equal(parsed[i].made_by >> 8, 3); /* Unix */
        assert_int_equal(parsed[i].flags, 0);        /* no data descriptor */
        assert_int_equal(parsed[i].time, 0);
        assert_int_equal(parsed[i].date, (1 << 5) | 1);
        assert_int_equal(parsed[i].external, 0100644u << 16);
        assert_int_equal(parsed[i].extra_len, 0);
        assert_int_equal(parsed[i].comment_len, 0);
    }
    /* Compressible text is deflated, tiny and empty files are stored; all read back intact. */
    assert_int_equal(parsed[4].method, 8);
    assert_true(parsed[4].csize < parsed[4].usize);
    assert_int_equal(parsed[2].method, 0);
    s_assert_content(&parsed[0], "upper\n", 6);
    s_assert_content(&parsed[1], "a\n", 2);
    s_assert_content(&parsed[2], "", 0);
    s_assert_content(&parsed[3], s_text, 40);
    s_assert_content(&parsed[4], s_text, sizeof(s_text) - 1);
    rdsbk_buf_clean_up(&zip);
}

static void test_empty_zip(void **state) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    struct s_entry parsed[1];

    (void)state;
    assert_int_equal(rdsbk_zip_build(&zip, NULL, 0), 0);
    assert_int_equal(rdsbk_buf_len(&zip), 22);
    assert_int_equal(s_parse(&zip, parsed, 1), 0);
    rdsbk_buf_clean_up(&zip);
}

static void test_rejects_bad_input(void **state) {
    static const struct {
        const char *name;
        const char *first;
        const char *second;
    } cases[] = {
        {"duplicate", "a.py", "a.py"},  {"empty name", "", "b.py"},
        {"absolute", "/etc/x", "b.py"}, {"dot-dot", "a/../b.py", "c.py"},
        {"empty part", "a//b.py", "c"}, {"trailing slash", "dir/", "c"},
        {"dot part", "./a.py", "c.py"}, {"dot-dot alone", "..", "c.py"},
    };
    struct rdsbk_buf zip = RDSBK_BUF_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rdsbk_zip_entry entries[] = {{cases[i].first, "1", 1},
                                                  {cases[i].second, "2", 1}};
        assert_int_equal(rdsbk_buf_adds(&zip, "stale"), 0);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(rdsbk_zip_build(&zip, entries, 2), RDSBK_EINVALID);
        assert_int_equal(rdsbk_buf_len(&zip), 0);
        assert_int_equal(rdsbk_error_last()->code, RDSBK_EINVALID);
    }
    rdsbk_buf_clean_up(&zip);
}

static void test_respects_buffer_cap(void **state) {
    const struct rdsbk_zip_entry entries[] = {{"a.py", s_text, sizeof(s_text) - 1}};
    struct rdsbk_buf zip;

    (void)state;
    rdsbk_buf_init(&zip, 64);
    assert_int_equal(rdsbk_zip_build(&zip, entries, 1), RDSBK_ENOMEM);
    assert_int_equal(rdsbk_buf_len(&zip), 0);
    rdsbk_buf_clean_up(&zip);
}

static void test_code_sha256_vectors(void **state) {
    char sha[RDSBK_CODE_SHA256_LEN + 1];

    (void)state;
    assert_int_equal(rdsbk_lambda_code_sha256(sha, "", 0), 0);
    assert_string_equal(sha, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_int_equal(rdsbk_lambda_code_sha256(sha, "abc", 3), 0);
    assert_string_equal(sha, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

static void test_lambda_packages(void **state) {
    static const struct {
        const char *function;
        const char *handler;
        const char *module_file;
    } cases[] = {
        {"copy", "copy_snapshot.handler", "copy_snapshot.py"},
        {"share", "share.handler", "share.py"},
        {"backup-copy", "backup_copy.handler", "backup_copy.py"},
    };
    const struct rdsbk_template *common = rdsbk_template_find("lambda/rdsbk_common.py");
    char shas[3][RDSBK_CODE_SHA256_LEN + 1];

    (void)state;
    assert_non_null(common);
    assert_string_equal(rdsbk_lambda_runtime(), "python3.12");
    for (size_t i = 0; i < 3; i++) {
        struct rdsbk_buf zip = RDSBK_BUF_INIT;
        struct rdsbk_buf again = RDSBK_BUF_INIT;
        char again_sha[RDSBK_CODE_SHA256_LEN + 1];
        char check[RDSBK_CODE_SHA256_LEN + 1];
        char path[64];
        const struct rdsbk_template *tpl;
        struct s_entry parsed[4];
        int h;

        print_message("function: %s\n", cases[i].function);
        assert_string_equal(rdsbk_lambda_handler(cases[i].function), cases[i].handler);
        snprintf(path, sizeof(path), "lambda/%s", cases[i].module_file);
        tpl = rdsbk_template_find(path);
        assert_non_null(tpl);
        assert_int_equal(rdsbk_lambda_package(&zip, shas[i], cases[i].function), 0);
        assert_int_equal(strlen(shas[i]), RDSBK_CODE_SHA256_LEN);
        assert_int_equal(rdsbk_lambda_code_sha256(check, rdsbk_buf_cstr(&zip), rdsbk_buf_len(&zip)),
                         0);
        assert_string_equal(check, shas[i]);
        assert_int_equal(s_parse(&zip, parsed, 4), 2);
        /* Two entries in name order: the handler module and the shared helper. */
        h = strcmp(parsed[0].name, "rdsbk_common.py") == 0 ? 1 : 0;
        assert_string_equal(parsed[h].name, cases[i].module_file);
        assert_string_equal(parsed[1 - h].name, "rdsbk_common.py");
        assert_true(strcmp(parsed[0].name, parsed[1].name) < 0);
        s_assert_content(&parsed[h], tpl->data, tpl->size);
        s_assert_content(&parsed[1 - h], common->data, common->size);
        assert_int_equal(rdsbk_lambda_package(&again, again_sha, cases[i].function), 0);
        assert_string_equal(again_sha, shas[i]);
        assert_int_equal(rdsbk_buf_len(&again), rdsbk_buf_len(&zip));
        assert_memory_equal(rdsbk_buf_cstr(&again), rdsbk_buf_cstr(&zip), rdsbk_buf_len(&zip));
        /* built once per process, then the same bytes; the sha alone without a buffer */
        for (int round = 0; round < 2; round++) {
            assert_int_equal(rdsbk_lambda_package_cached(&again, again_sha, cases[i].function), 0);
            assert_string_equal(again_sha, shas[i]);
            assert_int_equal(rdsbk_buf_len(&again), rdsbk_buf_len(&zip));
            assert_memory_equal(rdsbk_buf_cstr(&again), rdsbk_buf_cstr(&zip), rdsbk_buf_len(&zip));
        }
        assert_int_equal(rdsbk_lambda_package_cached(NULL, again_sha, cases[i].function), 0);
        assert_string_equal(again_sha, shas[i]);
        rdsbk_buf_clean_up(&zip);
        rdsbk_buf_clean_up(&again);
    }
    assert_string_not_equal(shas[0], shas[1]);
    assert_string_not_equal(shas[1], shas[2]);
}

static void test_lambda_unknown_function(void **state) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1] = "x";

    (void)state;
    assert_null(rdsbk_lambda_handler("restore"));
    assert_null(rdsbk_lambda_handler(NULL));
    assert_int_equal(rdsbk_buf_adds(&zip, "stale"), 0);
    assert_int_equal(rdsbk_lambda_package(&zip, sha, "restore"), RDSBK_EINVALID);
    assert_int_equal(rdsbk_buf_len(&zip), 0);
    assert_string_equal(sha, "");
    assert_int_equal(rdsbk_buf_adds(&zip, "stale"), 0);
    assert_int_equal(rdsbk_lambda_package_cached(&zip, sha, "restore"), RDSBK_EINVALID);
    assert_int_equal(rdsbk_buf_len(&zip), 0);
    assert_string_equal(sha, "");
    rdsbk_buf_clean_up(&zip);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_bytes_every_build),
        cmocka_unit_test(test_known_answer_tiny_zip),
        cmocka_unit_test(test_entries_sorted_with_fixed_metadata),
        cmocka_unit_test(test_empty_zip),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_respects_buffer_cap),
        cmocka_unit_test(test_code_sha256_vectors),
        cmocka_unit_test(test_lambda_packages),
        cmocka_unit_test(test_lambda_unknown_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
