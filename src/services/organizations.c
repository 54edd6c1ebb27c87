/* AWS Organizations (awsJson1.1): the organisation an account belongs to. */
#include "rdsbk/services/organizations.h"
#include "rdsbk/error.h"
#include "rdsbk/json_util.h"
#include "services/svc.h"

#include <stdlib.h>

int rdsbk_organizations_id(char **id_out, struct rdsbk_client *client) {
    cJSON *reply = NULL;
    int rc;

    *id_out = NULL;
    RDSBK_TRY(rdsbk_svc_json_call(&reply, client, "organizations", "AWSOrganizationsV20161128",
                                  "DescribeOrganization", cJSON_CreateObject(), 0));
    RDSBK_TRY(
        rdsbk_json_dup_str(id_out, cJSON_GetObjectItemCaseSensitive(reply, "Organization"), "Id"));
    if (!*id_out)
        rc = rdsbk_error_set(RDSBK_EINVALID,
                             "organizations:DescribeOrganization: no Organization.Id in the reply");

cleanup:
    cJSON_Delete(reply);
    return rc;
}
