/*
 * version [--json]: the version, the git commit built from, and the versions of the libraries the
 * process runs with (asked of each library at run time: the shared object loaded may be newer
 * than the headers it was built against).
 */
#include "build_info.h"
#include "commands.h"
#include "rdsbk/error.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libxml/xmlversion.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>
#include <zlib.h>

/* libxml2 says its version as a number, "21004" for 2.10.4; NULL when it says nothing. */
static const char *s_libxml2(void) {
    static char dotted[32];
    long v = xmlParserVersion ? strtol(xmlParserVersion, NULL, 10) : 0;

    if (v <= 0)
        return LIBXML_DOTTED_VERSION; /* the headers', all there is */
    snprintf(dotted, sizeof(dotted), "%ld.%ld.%ld", v / 10000, v / 100 % 100, v % 100);
    return dotted;
}

static const char *s_libcurl(void) {
    return curl_version_info(CURLVERSION_NOW)->version;
}

static const char *s_openssl(void) {
#ifdef OPENSSL_VERSION_STRING
    return OpenSSL_version(OPENSSL_VERSION_STRING); /* "3.0.17"; OpenSSL 3 and later */
#else
    return OpenSSL_version(OPENSSL_VERSION);
#endif
}

/* The libraries, in the order printed: the name shown, the JSON key, the version. */
static const struct {
    const char *name;
    const char *key;
    const char *(*version)(void);
} s_libraries[] = {
    {"libcurl", "libcurl", s_libcurl},
    {"OpenSSL", "openssl", s_openssl},
    {"cJSON", "cjson", cJSON_Version},
    {"libxml2", "libxml2", s_libxml2},
    {"libyaml", "libyaml", yaml_get_version_string},
    {"zlib", "zlib", zlibVersion},
};

#define S_N_LIBRARIES (sizeof(s_libraries) / sizeof(s_libraries[0]))

/* {"version", "commit", "libraries": {"libcurl": ..., ...}} on one line; RDSBK_ENOMEM. */
static int s_print_json(void) {
    cJSON *root = cJSON_CreateObject();
    cJSON *libs = NULL;
    char *text = NULL;
    int result = RDSBK_ENOMEM;

    if (!cJSON_AddStringToObject(root, "version", RDSBK_VERSION) ||
        !cJSON_AddStringToObject(root, "commit", rdsbk_cli_build_commit))
        goto cleanup;
    libs = cJSON_AddObjectToObject(root, "libraries");
    if (!libs)
        goto cleanup;
    for (size_t i = 0; i < S_N_LIBRARIES; i++)
        if (!cJSON_AddStringToObject(libs, s_libraries[i].key, s_libraries[i].version()))
            goto cleanup;
    text = cJSON_PrintUnformatted(root);
    if (!text)
        goto cleanup;
    printf("%s\n", text);
    result = 0;

cleanup:
    free(text);
    cJSON_Delete(root);
    return result;
}

/* rdsbk-provision VERSION (commit COMMIT), then the libraries on one line. */
static void s_print_text(void) {
    printf("rdsbk-provision %s (commit %s)\n", RDSBK_VERSION, rdsbk_cli_build_commit);
    for (size_t i = 0; i < S_N_LIBRARIES; i++)
        printf("%s%s %s", i ? ", " : "", s_libraries[i].name, s_libraries[i].version());
    printf("\n");
}

static int s_run(const struct rdsbk_cli_command *cmd, int argc, char **argv) {
    struct rdsbk_cli_args args;
    int start;

    start = rdsbk_cli_start(&args, cmd, argc, argv, NULL, NULL);
    if (start != RDSBK_CLI_GO)
        return start;
    if (!args.json) {
        s_print_text();
        return 0;
    }
    if (s_print_json()) {
        rdsbk_error_oom();
        rdsbk_cli_print_error(&args);
        return 1;
    }
    return 0;
}

const struct rdsbk_cli_command rdsbk_cmd_version = {
    "version",
    "Print the version",
    "version [--json]",
    "Prints the version of rdsbk-provision, the git commit it was built from (\"unknown\" when\n"
    "built outside git, \"-dirty\" appended when it was built with uncommitted changes), and the\n"
    "versions of the libraries it runs with: libcurl, OpenSSL, cJSON, libxml2, libyaml, zlib.\n"
    "--json prints {version, commit, libraries: {libcurl, openssl, cjson, libxml2, libyaml,\n"
    "zlib}}.",
    RDSBK_CLI_JSON,
    NULL,
    0,
    s_run,
    NULL};
