#ifndef RDSBK_TEST_FAN_IN_TEXT_H
#define RDSBK_TEST_FAN_IN_TEXT_H

/* The text of a topology of stack "bench" with n source accounts 100000000001.. in eu-central-1,
 * with one database each ("db") or two ("orders-db-N", "billing-db-N"), and `backup_extra` added
 * to the backup mapping. The caller frees it. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_fan_in_text(int n, int databases, const char *backup_extra) {
    size_t size = 256 + (size_t)n * 128 + strlen(backup_extra);
    char *text = malloc(size);
    size_t at;

    assert_non_null(text);
    at = (size_t)snprintf(text, size, "version: 1\nstack: bench\nsources:\n");
    for (int i = 1; i <= n; i++) {
        at += (size_t)snprintf(text + at, size - at,
                               "  - {account: '1000000000%02d', region: eu-central-1, ", i);
        if (databases == 1)
            at += (size_t)snprintf(text + at, size - at, "instances: [db]}\n");
        else
            at += (size_t)snprintf(text + at, size - at,
                                   "instances: [orders-db-%d, billing-db-%d]}\n", i, i);
    }
    snprintf(text + at, size - at, "backup: {account: '222222222222', region: eu-west-1%s}\n",
             backup_extra);
    return text;
}

#endif
