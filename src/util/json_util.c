#include "rdsbk/json_util.h"
#include "rdsbk/error.h"

int rdsbk_json_replace(cJSON *parent, cJSON *child, cJSON *replacement) {
    bool ok;

    if (!replacement)
        return rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    /* cJSON_ReplaceItemViaPointer drops the key; the object variant copies it. */
    if (cJSON_IsObject(parent) && child->string)
        ok = cJSON_ReplaceItemInObjectCaseSensitive(parent, child->string, replacement);
    else
        ok = cJSON_ReplaceItemViaPointer(parent, child, replacement);
    if (!ok) {
        cJSON_Delete(replacement);
        return rdsbk_error_set(RDSBK_ENOMEM, "out of memory");
    }
    return 0;
}
