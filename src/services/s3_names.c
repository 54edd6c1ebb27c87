/* S3's rules for the name of a general purpose bucket, checked before any request is made. */
#include "rdsbk/services/s3.h"

#include <stdbool.h>
#include <string.h>

static bool s_ends_with(const char *s, size_t n, const char *suffix) {
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Four dot-separated groups of digits: the form S3 refuses ("192.168.5.4"). */
static bool s_ip_like(const char *s) {
    int groups = 0;

    while (*s) {
        size_t digits = strspn(s, "0123456789");
        if (digits == 0 || digits > 3)
            return false;
        groups++;
        s += digits;
        if (*s == '.')
            s++;
        else if (*s)
            return false;
    }
    return groups == 4;
}

const char *rdsbk_s3_check_bucket_name(const char *bucket) {
    static const char *const prefixes[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const suffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
    size_t n = strlen(bucket);

    if (n < 3 || n > 63)
        return "is not 3 to 63 characters long";
    for (const char *p = bucket; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            return "has upper-case letters (S3 bucket names are lower case)";
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            return "has a character other than lower-case letters, digits, '.' and '-'";
    }
    if (bucket[0] == '.' || bucket[0] == '-' || bucket[n - 1] == '.' || bucket[n - 1] == '-')
        return "does not begin and end with a letter or a digit";
    if (strstr(bucket, ".."))
        return "has two dots in a row";
    if (s_ip_like(bucket))
        return "is formatted as an IP address";
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(bucket, prefixes[i], strlen(prefixes[i])) == 0)
            return "begins with a prefix S3 reserves (xn--, sthree-, amzn-s3-demo-)";
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        if (s_ends_with(bucket, n, suffixes[i]))
            return "ends with a suffix S3 reserves (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)";
    return NULL;
}
