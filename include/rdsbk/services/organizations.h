#ifndef RDSBK_SERVICES_ORGANIZATIONS_H
#define RDSBK_SERVICES_ORGANIZATIONS_H

#include "rdsbk/client.h"

/*
 * AWS Organizations (awsJson1.1, AWSOrganizationsV20161128): a global service, reached at one
 * endpoint per partition and signed for its home Region (us-east-1), as IAM is.
 */

/* DescribeOrganization, from any account of the organisation: *id_out its id ("o-...", caller
 * frees). An account outside any organisation gets AWSOrganizationsNotInUseException
 * (RDSBK_EINVALID, the AWS code kept). */
int rdsbk_organizations_id(char **id_out, struct rdsbk_client *client);

#endif
