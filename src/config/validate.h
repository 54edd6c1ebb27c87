#ifndef RDSBK_CONFIG_VALIDATE_H
#define RDSBK_CONFIG_VALIDATE_H

#include "rdsbk/config.h"

#include <stdbool.h>

/*
 * Checks of single topology values. Each rdsbk_check_* returns NULL when the value is valid, or a
 * static phrase saying what is wrong ("is not a Region name like eu-west-1"). Those other modules
 * call too (account, Region, stack, DB identifier) are declared in rdsbk/config.h.
 */
const char *rdsbk_check_profile(const char *s);
const char *rdsbk_check_role_arn(const char *s);
const char *rdsbk_check_key_alias(const char *s);
const char *rdsbk_check_kms_key_arn(const char *s);
/* A KMS key as S3's SSE-KMS takes it: a key id (a UUID, or mrk-...), a key ARN, an alias name
 * (alias/...) or an alias ARN. */
const char *rdsbk_check_kms_key_id(const char *s);
const char *rdsbk_check_option_group(const char *s);
const char *rdsbk_check_runtime(const char *s);
const char *rdsbk_check_email(const char *s);
const char *rdsbk_check_sns_topic_arn(const char *s);
/* An IAM role name: 1 to 64 of letters, digits and + = , . @ _ - (IAM's pattern). */
const char *rdsbk_check_role_name(const char *s);
/* An organisational unit id: "ou-", 4 to 32 lower-case letters or digits (its root's), "-", 8
 * to 32 more. */
const char *rdsbk_check_ou_id(const char *s);
/* An AWS Organizations organisation id: "o-" and 10 to 32 lower-case letters or digits. */
const char *rdsbk_check_organization_id(const char *s);

/* The date (YYYY-MM-DD) on which Lambda deprecated runtime `s`, when that is on or before `today`
 * (YYYY-MM-DD); NULL while `s` is supported (or unknown). */
const char *rdsbk_runtime_deprecated(const char *s, const char *today);
const char *rdsbk_check_tag_key(const char *s);
const char *rdsbk_check_tag_value(const char *s);
const char *rdsbk_check_endpoint_url(const char *s);

/* Whether AWS allows code point `cp` in a tag key or value: a letter, a digit (\p{L}, \p{N}),
 * white space (\p{Z}) or one of _ . : / = + - @ (tag_chars.c). */
bool rdsbk_tag_char(unsigned cp);

/* The first character of `s` that AWS refuses in a tag, as a code point (a byte that is not
 * UTF-8: its value); -1 when there is none. */
long rdsbk_tag_refused_char(const char *s);

/* Whether an IAM ARN's account field is `account`. */
bool rdsbk_arn_in_account(const char *arn, const char *account);

#endif
