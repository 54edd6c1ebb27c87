/* Resolves credentials the way rdsbk-provision does and prints "<access key id> <session token or
 * ->", or
 * "ERROR <code> <message>": the C side of compare_botocore.py.
 * Usage: rdsbk-creds-probe [profile] */
#include "rdsbk/credentials.h"
#include "rdsbk/error.h"
#include "rdsbk/http.h"

#include <stdio.h>

int main(int argc, char **argv) {
    struct rdsbk_credentials_options opts = {0};
    struct rdsbk_credentials_provider *provider = NULL;
    struct rdsbk_credentials creds = {0};
    struct rdsbk_http_options hopts = {0};
    struct rdsbk_http *http = NULL;
    int rc;

    hopts.max_attempts = 1;
    hopts.connect_timeout_ms = 2000;
    hopts.timeout_ms = 10000;
    rc = rdsbk_http_new(&http, &hopts);
    if (rc == 0) {
        opts.profile = argc > 1 && argv[1][0] ? argv[1] : NULL;
        opts.region = "us-east-1";
        opts.http = http;
        rc = rdsbk_credentials_provider_new(&provider, &opts);
    }
    if (rc == 0)
        rc = rdsbk_credentials_provider_get(&creds, provider);
    if (rc == 0)
        printf("%s %s\n", creds.access_key_id, creds.session_token ? creds.session_token : "-");
    else
        printf("ERROR %d %s\n", rc, rdsbk_error_last()->message);
    rdsbk_credentials_clean_up(&creds);
    rdsbk_credentials_provider_free(provider);
    rdsbk_http_free(http);
    return 0;
}
