/*
 * sns_subscription {topic_arn, protocol, endpoint} (+ "arn" when read): one endpoint (an email
 * address) subscribed to a topic. Nothing of it can change in place: every attribute forces a
 * replacement. The endpoint is compared exactly, as SNS keeps it as given (an address in another
 * case is another subscription to SNS, and here).
 *
 * An email subscription is pending confirmation until its address follows the link SNS mails it;
 * ListSubscriptionsByTopic, the only listing, shows such a subscription's ARN as
 * "PendingConfirmation", and "arn" reads so, while desired attributes show no drift. Subscribe,
 * asked for ReturnSubscriptionArn, gives the ARN even then, and that ARN stays the subscription's
 * once confirmed. The id:
 *
 *   <subscription ARN>                        known: from Subscribe, or listed once confirmed
 *   <topic ARN>|<protocol>|<endpoint>         a pending subscription found without it
 *
 * ('|' occurs in neither a topic ARN nor a protocol). Either way `read` lists the topic's
 * subscriptions and finds it by its ARN, else by protocol and endpoint; a topic that is gone
 * took its subscriptions along (RDSBK_ENOTFOUND).
 *
 * AWS refuses to delete a subscription pending confirmation ("Cannot unsubscribe a subscription
 * that is pending confirmation") and deletes it itself when it is not confirmed within 48 hours,
 * or with its topic: `remove` leaves it, with a note, and succeeds.
 */
#include "resources_internal.h"

#include "rdsbk/error.h"
#include "rdsbk/log.h"
#include "rdsbk/services/sns.h"

#include <stdlib.h>
#include <string.h>

#define S_TYPE "sns_subscription"

/* What names one subscription: its topic, protocol and endpoint, and its ARN when known. */
struct s_names {
    char *topic_arn;
    char *protocol;
    char *endpoint;
    const char *arn; /* ref->id when it is a subscription ARN, else NULL; borrowed */
};

static void s_names_clean_up(struct s_names *n) {
    free(n->topic_arn);
    free(n->protocol);
    free(n->endpoint);
    memset(n, 0, sizeof(*n));
}

/* The names of a composite id "<topic ARN>|<protocol>|<endpoint>". */
static int s_names_of_composite(struct s_names *n, const char *id) {
    const char *bar1 = strchr(id, '|');
    const char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    int rc;

    if (!bar2 || bar1 == id || bar2 == bar1 + 1 || !bar2[1])
        return rdsbk_error_set(RDSBK_EINVALID, "%s: malformed id \"%s\"", S_TYPE, id);
    RDSBK_TRY(rdsbk_strfmt(&n->topic_arn, "%.*s", (int)(bar1 - id), id));
    RDSBK_TRY(rdsbk_strfmt(&n->protocol, "%.*s", (int)(bar2 - bar1 - 1), bar1 + 1));
    rc = rdsbk_strdup_into(&n->endpoint, bar2 + 1);

cleanup:
    return rc;
}

/* The names of `ref`: from a composite id; from a subscription ARN, its topic (the ARN but its
 * last part) and the attributes' protocol and endpoint; without an id, from the attributes, the
 * endpoint from ref->name when they lack it. RDSBK_EINVALID when one is missing; on error `n`
 * holds nothing to release. */
static int s_names_of(struct s_names *n, const struct rdsbk_resource_ref *ref) {
    const char *id = ref->id && *ref->id ? ref->id : NULL;
    const char *topic_arn = rdsbk_json_str(ref->attributes, "topic_arn");
    const char *protocol = rdsbk_json_str(ref->attributes, "protocol");
    const char *endpoint = rdsbk_json_str(ref->attributes, "endpoint");
    int rc;

    memset(n, 0, sizeof(*n));
    if (id && strchr(id, '|')) {
        RDSBK_TRY(s_names_of_composite(n, id));
        goto cleanup;
    }
    if (id) {
        const char *colon = strrchr(id, ':');
        if (strncmp(id, "arn:", 4) != 0 || !colon) {
            rc = rdsbk_error_set(RDSBK_EINVALID, "%s: malformed id \"%s\"", S_TYPE, id);
            goto cleanup;
        }
        RDSBK_TRY(rdsbk_strfmt(&n->topic_arn, "%.*s", (int)(colon - id), id));
        n->arn = id;
    } else if (topic_arn) {
        RDSBK_TRY(rdsbk_strdup_into(&n->topic_arn, topic_arn));
    }
    endpoint = endpoint ? endpoint : ref->name;
    if (!n->topic_arn || !protocol || !endpoint || !*endpoint) {
        rc = rdsbk_error_set(RDSBK_EINVALID, "%s: topic_arn, protocol and endpoint are needed",
                             S_TYPE);
        goto cleanup;
    }
    RDSBK_TRY(rdsbk_strdup_into(&n->protocol, protocol));
    rc = rdsbk_strdup_into(&n->endpoint, endpoint);

cleanup:
    if (rc)
        s_names_clean_up(n);
    return rc;
}

static bool s_is_pending(const struct rdsbk_sns_subscription *sub) {
    return !sub->arn || strcmp(sub->arn, RDSBK_SNS_PENDING) == 0;
}

/* The subscription `n` names among `subs`: the one of its ARN, else the one of its protocol and
 * endpoint (confirmed or pending), or NULL. Borrowed from `subs`. */
static const struct rdsbk_sns_subscription *s_find(const struct rdsbk_sns_subscription *subs,
                                                   size_t n_subs, const struct s_names *n) {
    const struct rdsbk_sns_subscription *found = NULL;

    for (size_t i = 0; n->arn && !found && i < n_subs; i++)
        if (subs[i].arn && strcmp(subs[i].arn, n->arn) == 0)
            found = &subs[i];
    for (size_t i = 0; !found && i < n_subs; i++)
        if (subs[i].protocol && subs[i].endpoint && strcmp(subs[i].protocol, n->protocol) == 0 &&
            strcmp(subs[i].endpoint, n->endpoint) == 0)
            found = &subs[i];
    return found;
}

/* The subscription `n` names, listed (*subs_out the listing, the caller frees it with
 * rdsbk_sns_subscriptions_free; *found_out in it). RDSBK_ENOTFOUND when the topic or the
 * subscription is not there. */
static int s_lookup(struct rdsbk_sns_subscription **subs_out, size_t *n_out,
                    const struct rdsbk_sns_subscription **found_out, struct rdsbk_client *client,
                    const struct s_names *n) {
    int rc = rdsbk_sns_list_subscriptions_by_topic(subs_out, n_out, client, n->topic_arn);

    *found_out = rc == 0 ? s_find(*subs_out, *n_out, n) : NULL;
    if (rc == 0 && !*found_out)
        rc = rdsbk_error_set(RDSBK_ENOTFOUND, "SNS topic %s has no %s subscription of %s",
                             n->topic_arn, n->protocol, n->endpoint);
    return rc;
}

/* The id of `sub`, which `n` names: its ARN once listed; pending, the ARN `n` knows, else the
 * composite. Caller frees. */
static int s_id(char **out, const struct rdsbk_sns_subscription *sub, const struct s_names *n) {
    if (!s_is_pending(sub))
        return rdsbk_strdup_into(out, sub->arn);
    if (n->arn)
        return rdsbk_strdup_into(out, n->arn);
    return rdsbk_strfmt(out, "%s|%s|%s", n->topic_arn, n->protocol, n->endpoint);
}

static int s_read(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                  const struct rdsbk_resource_ref *ref) {
    struct rdsbk_sns_subscription *subs = NULL;
    const struct rdsbk_sns_subscription *found = NULL;
    struct s_names n;
    size_t n_subs = 0;
    cJSON *out = NULL;
    char *id = NULL;
    int rc;

    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(s_names_of(&n, ref));
    RDSBK_TRY(s_lookup(&subs, &n_subs, &found, client, &n));
    out = cJSON_CreateObject();
    RDSBK_CHECK_ALLOC(out);
    RDSBK_TRY(
        rdsbk_json_add_str(out, "topic_arn", found->topic_arn ? found->topic_arn : n.topic_arn));
    RDSBK_TRY(rdsbk_json_add_str(out, "protocol", found->protocol));
    RDSBK_TRY(rdsbk_json_add_str(out, "endpoint", found->endpoint));
    RDSBK_TRY(rdsbk_json_add_str(out, "arn", s_is_pending(found) ? RDSBK_SNS_PENDING : found->arn));
    RDSBK_TRY(s_id(&id, found, &n));
    rc = rdsbk_res_found(actual_out, id_out, &out, id);

cleanup:
    s_names_clean_up(&n);
    rdsbk_sns_subscriptions_free(subs, n_subs);
    cJSON_Delete(out);
    free(id);
    return rc;
}

/* Subscribe; an update replaces the subscription (every attribute forces it). */
static int s_create(cJSON **actual_out, char **id_out, struct rdsbk_client *client,
                    const struct rdsbk_resource_ref *ref, const cJSON *desired) {
    const char *topic_arn = NULL;
    const char *protocol = NULL;
    const char *endpoint = NULL;
    char *arn = NULL;
    int rc;

    (void)ref;
    rdsbk_res_outs_init(actual_out, id_out);
    RDSBK_TRY(rdsbk_res_require(&topic_arn, desired, "topic_arn", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&protocol, desired, "protocol", S_TYPE));
    RDSBK_TRY(rdsbk_res_require(&endpoint, desired, "endpoint", S_TYPE));
    RDSBK_TRY(rdsbk_sns_subscribe(&arn, client, topic_arn, protocol, endpoint));
    rdsbk_log_verbose("subscribed %s %s to SNS topic %s (%s); an email address receives nothing "
                      "until it confirms",
                      protocol, endpoint, topic_arn, arn);
    rc = rdsbk_res_written(actual_out, id_out, desired, arn, "arn", arn);

cleanup:
    free(arn);
    return rc;
}

/* A refusal to delete a subscription because it is pending confirmation. */
static bool s_refused_pending(int rc) {
    return rc == RDSBK_EINVALID &&
           rdsbk_res_aws_error_is("InvalidParameter", "pending confirmation");
}

static int s_remove(struct rdsbk_client *client, const struct rdsbk_resource_ref *ref) {
    struct rdsbk_sns_subscription *subs = NULL;
    const struct rdsbk_sns_subscription *found = NULL;
    const char *arn;
    struct s_names n;
    size_t n_subs = 0;
    int rc;

    RDSBK_TRY(s_names_of(&n, ref));
    arn = n.arn;
    if (!arn) { /* its ARN is not known: listed, unless pending, it will be */
        RDSBK_TRY(s_lookup(&subs, &n_subs, &found, client, &n));
        arn = s_is_pending(found) ? NULL : found->arn;
    }
    rc = arn ? rdsbk_sns_unsubscribe(client, arn) : 0;
    if (rc == 0 && arn) {
        rdsbk_log_verbose("unsubscribed %s %s from SNS topic %s", n.protocol, n.endpoint,
                          n.topic_arn);
    } else if (!arn || s_refused_pending(rc)) {
        rdsbk_error_clear();
        rc = 0;
        rdsbk_log_verbose("the %s subscription of %s to SNS topic %s is pending confirmation, "
                          "which SNS lets nobody delete: it deletes it when it is not confirmed "
                          "within 48 hours, or with the topic",
                          n.protocol, n.endpoint, n.topic_arn);
    }

cleanup:
    s_names_clean_up(&n);
    rdsbk_sns_subscriptions_free(subs, n_subs);
    return rc;
}

static const char *const s_force_new[] = {"topic_arn", "protocol", "endpoint", NULL};

const struct rdsbk_resource_ops rdsbk_res_sns_subscription_ops = {
    .type = RDSBK_RT_SNS_SUBSCRIPTION,
    .read = s_read,
    .create = s_create,
    .update = rdsbk_res_replace,
    .remove = s_remove,
    .read_calls = 1,
    .write_calls = 1,
    .force_new = s_force_new,
    .no_diff = rdsbk_res_no_keys,
    .service = "sns",
    /* a subscription to the stack's topic (one that depends on an sns_topic) is in it; to a
     * topic of the user's, in no resource of ours */
    .contained = true,
    .container = RDSBK_RT_SNS_TOPIC,
    .deleted_with_container = true,
};
