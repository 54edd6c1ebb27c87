/*
 * Fuzz target: awsQuery (XML) replies. The input is parsed as a reply to a few actions
 * (rdsbk_query_parse_reply) and walked with the helpers the services use, and as a bare document
 * (rdsbk_xml_parse).
 */
#include "fuzz.h"

#include "rdsbk/protocol.h"

#include <libxml/tree.h>

#include <stdlib.h>

static void s_walk(const xmlNode *result) {
    struct rdsbk_tag *tags = NULL;
    size_t n_tags = 0;
    char **strings = NULL;
    size_t n_strings = 0;
    char *marker = NULL;
    char *token = NULL;
    char *arn = NULL;
    cJSON *map = NULL;

    (void)rdsbk_xml_path_text(result, "Role/Arn");
    (void)rdsbk_xml_path_int(result, "Role/MaxSessionDuration", 0);
    (void)rdsbk_xml_path_bool(result, "IsTruncated", false);
    (void)rdsbk_xml_path_time(result, "Role/CreateDate");
    if (rdsbk_xml_path_dup(&arn, result, "Role/Arn") == 0)
        free(arn);
    if (rdsbk_xml_path_tags(&tags, &n_tags, result, "Role/Tags", NULL) == 0)
        rdsbk_aws_tags_free(tags, n_tags);
    if (rdsbk_xml_path_strings(&strings, &n_strings, result, "PolicyNames", NULL) == 0)
        rdsbk_strings_free(strings, n_strings);
    if (rdsbk_query_next_marker(&marker, result) == 0)
        free(marker);
    if (rdsbk_query_next_token(&token, result, "NextToken") == 0)
        free(token);
    if (rdsbk_xml_path_map(&map, result, "Attributes", NULL, NULL, NULL) == 0)
        cJSON_Delete(map);
    /* SQS's flattened map and tags, straight in the Result */
    if (rdsbk_xml_path_map(&map, result, "", "Attribute", "Name", "Value") == 0)
        cJSON_Delete(map);
    if (rdsbk_xml_path_tags(&tags, &n_tags, result, "", "Tag") == 0)
        rdsbk_aws_tags_free(tags, n_tags);
    for (xmlNode *c = rdsbk_xml_child(result, NULL); c; c = rdsbk_xml_next(c, NULL))
        (void)rdsbk_xml_text(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const actions[] = {"GetRole", "ListRolePolicies", "DescribeDBSnapshots",
                                          "AssumeRole"};
    struct rdsbk_query_reply reply = {0};
    xmlDocPtr doc = NULL;
    const char *action = actions[size % 4];

    if (rdsbk_query_parse_reply(&reply, action, (const char *)data, size) == 0 && reply.result)
        s_walk(reply.result);
    rdsbk_query_reply_clean_up(&reply);
    if (rdsbk_xml_parse(&doc, (const char *)data, size) == 0)
        xmlFreeDoc(doc);
    return 0;
}
