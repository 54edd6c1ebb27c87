#include "commands.h"

#include <curl/curl.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <yaml.h>

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;

    start = rdsbk_cli_start(&args, cmd, argc, argv, NULL, NULL);
    if (start != RDSBK_CLI_GO)
        return start;
    if (args.json)
        printf("{\"version\": \"%s\", \"curl\": \"%s\", \"openssl\": \"%s\", \"libyaml\": "
               "\"%s\"}\n",
               RDSBK_VERSION, curl_version_info(CURLVERSION_NOW)->version, OPENSSL_VERSION_TEXT,
               yaml_get_version_string());
    else
        printf("rdsbk-provision %s (libcurl %s, %s, libyaml %s)\n", RDSBK_VERSION,
               curl_version_info(CURLVERSION_NOW)->version, OPENSSL_VERSION_TEXT,
               yaml_get_version_string());
    return 0;
}

const struct rdsbk_cli_command rdsbk_cmd_version = {
    "version",
    "Print the version",
    "version [--json]",
    "Prints the version of rdsbk-provision and of the libraries it was built with.",
    RDSBK_CLI_JSON,
    NULL,
    0,
    s_run};
