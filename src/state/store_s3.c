/* The S3 backend of struct rdsbk_state_store (to come). */
#include "state_private.h"

#include "rdsbk/error.h"

int rdsbk_state_store_s3_open(struct rdsbk_state_store **out, const char *bucket, const char *key,
                              const struct rdsbk_topology *topo) {
    (void)topo;
    *out = NULL;
    return rdsbk_error_set(RDSBK_EINVALID, "s3://%s/%s: a state in S3 is not supported yet", bucket,
                           key);
}
