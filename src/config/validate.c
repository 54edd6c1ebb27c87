/* Checks of single topology values: see validate.h. */
#include "validate.h"
#include "rdsbk/config.h"
#include "rdsbk/endpoints.h"
#include "rdsbk/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool s_all(const char *s, size_t n, int (*pred)(int)) {
    for (size_t i = 0; i < n; i++)
        if (!pred((unsigned char)s[i]))
            return false;
    return true;
}

static int s_lower_alpha(int c) {
    return c >= 'a' && c <= 'z';
}

static int s_digit(int c) {
    return c >= '0' && c <= '9';
}

bool rdsbk_valid_account(const char *s) {
    return strlen(s) == RDSBK_ACCOUNT_LEN && s_all(s, RDSBK_ACCOUNT_LEN, s_digit);
}

/* The endpoint module owns the partition rules; the topology asks it. */
const char *rdsbk_region_partition(const char *region) {
    return rdsbk_partition_of_region(region);
}

/* <area>-<direction>-<n>, with the optional "gov" of us-gov-west-1: eu-west-1, ap-southeast-2,
 * us-gov-east-1, cn-north-1, il-central-1, ca-west-1. */
const char *rdsbk_check_region(const char *s) {
    static const char *const phrase = "is not a Region name like eu-west-1";
    const char *p = s;
    const char *dash;
    size_t n;

    if (strlen(s) < 9 || strlen(s) > 20)
        return phrase;
    if (!s_all(p, 2, s_lower_alpha) || p[2] != '-')
        return phrase;
    p += 3;
    if (strncmp(p, "gov-", 4) == 0)
        p += 4;
    dash = strchr(p, '-');
    if (!dash)
        return phrase;
    n = (size_t)(dash - p);
    if (n < 4 || !s_all(p, n, s_lower_alpha))
        return phrase;
    p = dash + 1;
    n = strlen(p);
    if (n < 1 || n > 2 || !s_all(p, n, s_digit) || p[0] == '0')
        return phrase;
    return NULL;
}

/* Whether s[0..n) are n lower-case letters or digits. */
static bool s_lower_alnum(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

const char *rdsbk_check_role_name(const char *s) {
    size_t n = strlen(s);

    if (n < 1 || n > 64 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789+=,.@_-") != n)
        return "is not an IAM role name: 1 to 64 letters, digits and + = , . @ _ -";
    return NULL;
}

const char *rdsbk_check_ou_id(const char *s) {
    const char *dash = strncmp(s, "ou-", 3) == 0 ? strchr(s + 3, '-') : NULL;
    size_t root = dash ? (size_t)(dash - s - 3) : 0;
    size_t rest = dash ? strlen(dash + 1) : 0;

    if (!dash || root < 4 || root > 32 || rest < 8 || rest > 32 || !s_lower_alnum(s + 3, root) ||
        !s_lower_alnum(dash + 1, rest))
        return "is not an organisational unit id like ou-ab12-cd34ef56";
    return NULL;
}

const char *rdsbk_check_organization_id(const char *s) {
    size_t n = strlen(s);

    if (strncmp(s, "o-", 2) != 0 || n < 12 || n > 34 || !s_lower_alnum(s + 2, n - 2))
        return "is not an organisation id: o- and 10 to 32 lower-case letters or digits";
    return NULL;
}

const char *rdsbk_check_profile(const char *s) {
    size_t n = strlen(s);

    if (n > 64)
        return "is longer than 64 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@' && c != '+' && c != '/')
            return "may hold only letters, digits and - _ . @ + /";
    }
    return NULL;
}

/* arn:<partition>:iam::<12 digits>:role/<path/name> */
const char *rdsbk_check_role_arn(const char *s) {
    static const char *const phrase =
        "is not an IAM role ARN like arn:aws:iam::111111111111:role/x";
    static const char *const partitions[] = {"aws", "aws-cn", "aws-us-gov"};
    const char *p;
    bool known = false;
    size_t n;

    if (strncmp(s, "arn:", 4) != 0)
        return phrase;
    p = s + 4;
    for (size_t i = 0; i < sizeof(partitions) / sizeof(partitions[0]); i++) {
        size_t len = strlen(partitions[i]);
        if (strncmp(p, partitions[i], len) == 0 && p[len] == ':') {
            p += len + 1;
            known = true;
            break;
        }
    }
    if (!known || strncmp(p, "iam::", 5) != 0)
        return phrase;
    p += 5;
    if (!s_all(p, RDSBK_ACCOUNT_LEN, s_digit) || p[RDSBK_ACCOUNT_LEN] != ':')
        return phrase;
    p += RDSBK_ACCOUNT_LEN + 1;
    if (strncmp(p, "role/", 5) != 0)
        return phrase;
    p += 5;
    n = strlen(p);
    if (n == 0 || n > 512 || p[n - 1] == '/')
        return phrase;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!isalnum(c) && !strchr("+=,.@_-/", c))
            return phrase;
    }
    return NULL;
}

bool rdsbk_arn_in_account(const char *arn, const char *account) {
    /* arn:partition:service:region:account:... : the account is the fifth field */
    const char *p = arn;

    for (int field = 0; field < 4; field++) {
        p = strchr(p, ':');
        if (!p)
            return false;
        p++;
    }
    return strncmp(p, account, RDSBK_ACCOUNT_LEN) == 0 && p[RDSBK_ACCOUNT_LEN] == ':';
}

/* What is wrong with the RDS identifier `s` of `n` characters (at most `max`: 63 for databases,
 * 255 for option groups): NULL when nothing. `prefix`: a pattern's prefix, which may end with a
 * hyphen. */
static const char *s_identifier_problem(const char *s, size_t n, size_t max, bool prefix) {
    if (n > max)
        return max == 63 ? "is longer than 63 characters (the RDS identifier limit)"
                         : "is too long for an RDS identifier";
    if (!isalpha((unsigned char)s[0]))
        return "must start with a letter (an RDS identifier)";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '*')
            return "may use '*' only at the end";
        if (!isalnum(c) && c != '-')
            return "may hold only letters, digits and hyphens (an RDS identifier)";
        if (c == '-' && i > 0 && s[i - 1] == '-')
            return "must not contain two hyphens in a row (an RDS identifier)";
    }
    if (!prefix && s[n - 1] == '-')
        return "must not end with a hyphen (an RDS identifier)";
    return NULL;
}

/*
 * DB instance and cluster identifiers: 1 to 63 letters, digits or hyphens, starting with a letter,
 * no two hyphens in a row, not ending with a hyphen. A trailing '*' makes the rest a prefix, which
 * may end with a hyphen ("billing-*"); "*" alone matches every database.
 */
const char *rdsbk_check_db_pattern(const char *s) {
    size_t n = strlen(s);
    bool prefix = n > 0 && s[n - 1] == '*';

    if (prefix)
        n--;
    if (n == 0)
        return prefix ? NULL : "is empty";
    return s_identifier_problem(s, n, 63, prefix);
}

/* Whether the `n` characters of `s` are letters, digits and hyphens only. */
static bool s_letters_digits_hyphens(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Where the resource part of `s` starts when `s` is "arn:<partition>:<service>:<region>:<account>:"
 * followed by it, `prefix` ("key/") included; 0 when it is not (the partition's and the Region's
 * shapes are checked by the Region rules). */
static int s_regional_arn(const char *s, const char *service, const char *prefix) {
    char svc[16];
    char region[64];
    char account[RDSBK_ACCOUNT_LEN + 2];
    int at = 0;

    if (strncmp(s, "arn:aws", 7) != 0 ||
        sscanf(s, "arn:%*[a-z-]:%15[a-z0-9]:%63[a-z0-9-]:%13[0-9]:%n", svc, region, account, &at) <
            3 ||
        at == 0)
        return 0;
    if (strcmp(svc, service) != 0 || !rdsbk_valid_account(account) || rdsbk_check_region(region) ||
        strncmp(s + at, prefix, strlen(prefix)) != 0)
        return 0;
    return at + (int)strlen(prefix);
}

/* A KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key id> (an id: letters, digits
 * and hyphens, as in a UUID or a multi-Region key's mrk-...). */
const char *rdsbk_check_kms_key_arn(const char *s) {
    int id_at = s_regional_arn(s, "kms", "key/");
    size_t n = id_at ? strlen(s + id_at) : 0;

    if (n == 0 || n > 128 || !s_letters_digits_hyphens(s + id_at, n))
        return "is not a KMS key ARN like arn:aws:kms:eu-central-1:111111111111:key/<key id>";
    return NULL;
}

/* What follows alias/ in a KMS alias: 1 to 250 letters, digits and / _ -. */
static bool s_alias_name(const char *s) {
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '/' && s[i] != '_' && s[i] != '-')
            return false;
    return n > 0 && n <= 250;
}

const char *rdsbk_check_kms_key_id(const char *s) {
    static const char *const phrase =
        "is not a KMS key id, key ARN, alias (alias/...) or alias ARN";
    size_t n = strlen(s);

    int alias_at = strncmp(s, "alias/", 6) == 0 ? 6 : s_regional_arn(s, "kms", "alias/");

    if (alias_at) /* alias/aws/s3, the AWS managed key of S3, is one */
        return s_alias_name(s + alias_at) ? NULL : phrase;
    if (strncmp(s, "arn:", 4) == 0)
        return rdsbk_check_kms_key_arn(s) ? phrase : NULL;
    return n > 0 && n <= 128 && s_letters_digits_hyphens(s, n) ? NULL : phrase;
}

/* An address SNS can subscribe by email: local@domain, at most 254 characters, no white space
 * or control characters, the domain with a dot and neither end a dot. What SNS refuses beyond
 * this, it refuses at apply. */
const char *rdsbk_check_email(const char *s) {
    static const char *const phrase = "is not an email address like ops@example.com";
    const char *at = strchr(s, '@');
    const char *domain = at ? at + 1 : NULL;
    size_t n = strlen(s);

    if (n > 254 || !at || at == s || strchr(domain, '@') || !strchr(domain, '.') ||
        domain[0] == '.' || s[n - 1] == '.')
        return phrase;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return phrase;
    return NULL;
}

/* An SNS topic ARN: arn:<partition>:sns:<region>:<account>:<name>, the name 1 to 256 letters,
 * digits, hyphens and underscores (a FIFO topic's ".fifo" is refused: alerts are not ordered). */
const char *rdsbk_check_sns_topic_arn(const char *s) {
    int name_at = s_regional_arn(s, "sns", "");
    size_t n = name_at ? strlen(s + name_at) : 0;
    bool ok = n > 0 && n <= 256;

    for (const char *p = s + name_at; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
    return ok ? NULL
              : "is not an SNS topic ARN like arn:aws:sns:eu-west-1:222222222222:backup-alerts";
}

/* An option group name: 1 to 255 letters, digits or hyphens, a letter first, no two hyphens in a
 * row, not ending with a hyphen (RDS's rules). */
const char *rdsbk_check_option_group(const char *s) {
    size_t n = strlen(s);

    if (n == 0 || s_identifier_problem(s, n, 255, false))
        return "is not an option group name (1 to 255 letters, digits and single hyphens, a "
               "letter first)";
    return NULL;
}

const char *rdsbk_check_key_alias(const char *s) {
    size_t n = strlen(s);

    if (strncmp(s, "alias/", 6) != 0 || n == 6)
        return "must look like alias/<name>";
    if (strncasecmp(s, "alias/aws/", 10) == 0)
        return "must not start with alias/aws/ (reserved for AWS managed keys)";
    if (n > 256)
        return "is longer than 256 characters";
    for (size_t i = 6; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '/' && c != '_' && c != '-')
            return "may hold only letters, digits and / _ - after alias/";
    }
    return NULL;
}

/*
 * The Python runtimes Lambda accepts for new functions (December 2026) and the day each is (or is
 * planned to be) deprecated: no security patches from then, function creation and then updates
 * refused some months later. From Lambda's runtime table as AWS announced it: python3.9
 * 2025-12-15; python3.10 2026-10-31 (AWS Health's notice of April 2026; the table said 2026-06-30
 * before); python3.11 2027-06-30 (extended a year); python3.12 2028-10-31; python3.13 and
 * python3.14 2029-06-30. python3.8, deprecated since 2024-10-14, is not offered.
 */
static const struct {
    const char *name;
    const char *deprecated;
} s_runtimes[] = {
    {"python3.9", "2025-12-15"},  {"python3.10", "2026-10-31"}, {"python3.11", "2027-06-30"},
    {"python3.12", "2028-10-31"}, {"python3.13", "2029-06-30"}, {"python3.14", "2029-06-30"},
};

const char *rdsbk_check_runtime(const char *s) {
    for (size_t i = 0; i < sizeof(s_runtimes) / sizeof(s_runtimes[0]); i++)
        if (strcmp(s, s_runtimes[i].name) == 0)
            return NULL;
    return "must be a Lambda Python runtime from python3.9 to python3.14";
}

const char *rdsbk_runtime_deprecated(const char *s, const char *today) {
    for (size_t i = 0; i < sizeof(s_runtimes) / sizeof(s_runtimes[0]); i++)
        if (strcmp(s, s_runtimes[i].name) == 0)
            return strcmp(s_runtimes[i].deprecated, today) <= 0 ? s_runtimes[i].deprecated : NULL;
    return NULL;
}

long rdsbk_tag_refused_char(const char *s) {
    while (*s) {
        unsigned cp;
        size_t len = rdsbk_utf8_decode(&cp, s);

        if (len == 0)
            return (unsigned char)*s;
        if (!rdsbk_tag_char(cp))
            return (long)cp;
        s += len;
    }
    return -1;
}

/* What a tag may hold (rdsbk_tag_char). */
#define S_TAG_CHARS "may hold only letters, digits, spaces and _ . : / = + - @"

/* Length in characters, not bytes: AWS counts Unicode characters. */
static size_t s_utf8_len(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

const char *rdsbk_check_tag_key(const char *s) {
    size_t n = s_utf8_len(s);

    if (n == 0 || n > 128)
        return "must be 1 to 128 characters";
    if (strncasecmp(s, "aws:", 4) == 0)
        return "must not start with aws: (reserved by AWS)";
    if (strncmp(s, "rdsbk:", 6) == 0)
        return "must not start with rdsbk: (reserved for rdsbk-provision)";
    if (rdsbk_tag_refused_char(s) >= 0)
        return S_TAG_CHARS;
    return NULL;
}

const char *rdsbk_check_tag_value(const char *s) {
    if (s_utf8_len(s) > 256)
        return "is longer than 256 characters";
    if (rdsbk_tag_refused_char(s) >= 0)
        return S_TAG_CHARS;
    return NULL;
}

const char *rdsbk_check_endpoint_url(const char *s) {
    const char *host;
    size_t n;

    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        return "must be an http:// or https:// URL";
    n = strcspn(host, "/?#");
    if (n == 0 || host[0] == ':')
        return "has no host";
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
            return "must not contain spaces or control characters";
    if (strchr(host, '@') && strchr(host, '@') < host + n)
        return "must not carry credentials";
    return NULL;
}

/* ^[a-z][a-z0-9-]{0,23}$ */
const char *rdsbk_check_stack(const char *s) {
    size_t n = strlen(s);

    if (n == 0 || n > 24)
        return "must be 1 to 24 characters";
    if (!s_lower_alpha((unsigned char)s[0]))
        return "must start with a lower-case letter";
    for (size_t i = 0; i < n; i++)
        if (!s_lower_alpha((unsigned char)s[i]) && !s_digit((unsigned char)s[i]) && s[i] != '-')
            return "may hold only lower-case letters, digits and hyphens";
    return NULL;
}
