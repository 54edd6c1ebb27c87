/*
 * Test helper: writes the deployment zip of one Lambda function, as rdsbk-provision packages it,
 * and prints its CodeSha256.
 *
 *   write_lambda_zip <copy|share|backup-copy> <out.zip>
 *
 * Prints "<handler> <CodeSha256>" on stdout. Exit status 0, or 1 with a message on stderr.
 */
#include <stdio.h>

#include "rdsbk/buf.h"
#include "rdsbk/error.h"
#include "rdsbk/lambda_pkg.h"

int main(int argc, char **argv) {
    struct rdsbk_buf zip = RDSBK_BUF_INIT;
    char sha[RDSBK_CODE_SHA256_LEN + 1];
    FILE *f = NULL;
    int status = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <copy|share|backup-copy> <out.zip>\n", argv[0]);
        goto cleanup;
    }
    if (rdsbk_lambda_package(&zip, sha, argv[1]) != 0) {
        fprintf(stderr, "%s\n", rdsbk_error_last()->message);
        goto cleanup;
    }
    f = fopen(argv[2], "wb");
    if (!f || fwrite(zip.ptr, 1, zip.len, f) != zip.len) {
        perror(argv[2]);
        goto cleanup;
    }
    if (fclose(f) != 0) {
        f = NULL;
        perror(argv[2]);
        goto cleanup;
    }
    f = NULL;
    printf("%s %s\n", rdsbk_lambda_handler(argv[1]), sha);
    status = 0;

cleanup:
    if (f)
        fclose(f);
    rdsbk_buf_clean_up(&zip);
    return status;
}
