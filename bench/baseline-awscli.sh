#!/bin/sh
# The baseline: the same pipeline (one source) created or deleted with the AWS CLI, one command
# per API call, one after another -- the way a person automates the walkthrough's steps. The
# documents (trust and inline policies, the key policy, event patterns, targets, function
# settings and zips) are the ones `rdsbk-provision generate` wrote into GENDIR, so the result is
# the same pipeline rdsbk-provision builds (tags included).
#
# usage: baseline-awscli.sh create|delete ENDPOINT GENDIR SOURCE_ACCOUNT SOURCE_REGION \
#                           BACKUP_ACCOUNT REGION_B STACK
# The shared credentials file (AWS_SHARED_CREDENTIALS_FILE) has a profile per account id, as
# the emulator writes it. AWS_CLI names the CLI (default /usr/bin/aws, Debian's awscli).
# Run and timed by bench/run.py --baseline. Owner: H9 (bench/).
set -eu

[ $# -eq 8 ] || { echo "usage: $0 create|delete ENDPOINT GENDIR SOURCE_ACCOUNT SOURCE_REGION BACKUP_ACCOUNT REGION_B STACK" >&2; exit 2; }
phase=$1 url=$2 gen=$3 A=$4 RA=$5 B=$6 RB=$7 stack=$8
AWS=${AWS_CLI:-/usr/bin/aws}
export AWS_PAGER="" AWS_CONFIG_FILE="${AWS_CONFIG_FILE:-/dev/null}" AWS_EC2_METADATA_DISABLED=true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# aws_as ACCOUNT REGION ARGS...: one AWS CLI call, text output
aws_as() {
    acct=$1 region=$2
    shift 2
    "$AWS" --endpoint-url "$url" --profile "$acct" --region "$region" --output text "$@"
}

SRC="account[$A]"
FWD="source[${A}_$RA]"
KEY_ALIAS="alias/rdsbk-$stack"
TAGS_IAM="Key=rdsbk:stack,Value=$stack"

create() {
    # 1. IAM roles (the key policy names the copy role, so the roles come first)
    # (`generate` writes no descriptions: these are the ones src/model/pipeline.c sets)
    for r in "copy:copies system snapshots into Region-B" \
             "share:shares Region-B copies with the backup account" \
             "events:forwards snapshot events to Region-B and the backup account"; do
        aws_as "$A" us-east-1 iam create-role --role-name "rdsbk-$stack-${r%%:*}" \
            --assume-role-policy-document "file://$gen/iam/$SRC.iam_role.${r%%:*}.trust.json" \
            --description "rdsbk: ${r#*:}" --tags "$TAGS_IAM" --query Role.Arn >/dev/null
    done
    aws_as "$B" us-east-1 iam create-role --role-name "rdsbk-$stack-backup-copy" \
        --assume-role-policy-document "file://$gen/iam/backup.iam_role.backup_copy.trust.json" \
        --description "rdsbk: copies shared snapshots into the backup account" \
        --tags "$TAGS_IAM" --query Role.Arn >/dev/null

    # 2. the shared key in B / Region-B, and its alias
    set -- $(aws_as "$B" "$RB" kms create-key --policy "file://$gen/kms/key-policy.json" \
        --multi-region --description "rdsbk $stack: encrypts the backup copies of RDS snapshots" \
        --tags "TagKey=rdsbk:stack,TagValue=$stack" --query "KeyMetadata.[Arn,KeyId]")
    key_arn=$1 key_id=$2
    aws_as "$B" "$RB" kms create-alias --alias-name "$KEY_ALIAS" --target-key-id "$key_id"

    # 3. the inline policies (they name the key's ARN)
    for f in "$gen"/iam/*.iam_role_policy.*.policy.json; do
        sed "s|\${backup.kms_key.shared#arn}|$key_arn|g" "$f" >"$tmp/$(basename "$f")"
    done
    for r in copy share events; do
        aws_as "$A" us-east-1 iam put-role-policy --role-name "rdsbk-$stack-$r" \
            --policy-name rdsbk --policy-document "file://$tmp/$SRC.iam_role_policy.$r.policy.json"
    done
    aws_as "$B" us-east-1 iam put-role-policy --role-name "rdsbk-$stack-backup-copy" \
        --policy-name rdsbk --policy-document "file://$tmp/backup.iam_role_policy.backup_copy.policy.json"

    # 4. B's default bus admits A
    aws_as "$B" "$RB" events put-permission --event-bus-name default --action events:PutEvents \
        --principal "$A" --statement-id "rdsbk-$stack-$A"

    # 5. the functions, then wait for them to be Active
    for spec in "$A:$SRC.lambda_function.copy" "$A:$SRC.lambda_function.share" \
                "$B:backup.lambda_function.backup_copy"; do
        acct=${spec%%:*} cfg="$gen/functions/${spec#*:}.json"
        env=$(jq -c '{Variables: .environment}' "$cfg" | sed "s|\${backup.kms_key.shared#arn}|$key_arn|g")
        aws_as "$acct" "$RB" lambda create-function --function-name "$(jq -r .name "$cfg")" \
            --runtime "$(jq -r .runtime "$cfg")" --handler "$(jq -r .handler "$cfg")" \
            --role "$(jq -r .role_arn "$cfg")" --timeout "$(jq -r .timeout "$cfg")" \
            --memory-size "$(jq -r .memory_size "$cfg")" --environment "$env" \
            --zip-file "fileb://$gen/functions/$(jq -r .package "$cfg").zip" \
            --tags "rdsbk:stack=$stack" --query FunctionArn >/dev/null
    done
    aws_as "$A" "$RB" lambda wait function-active-v2 --function-name "rdsbk-$stack-copy"
    aws_as "$A" "$RB" lambda wait function-active-v2 --function-name "rdsbk-$stack-share"
    aws_as "$B" "$RB" lambda wait function-active-v2 --function-name "rdsbk-$stack-backup-copy"

    # 6. the rules
    for spec in "$A:$RB:$SRC.events_rule.copy:system snapshot created (forwarded from Region-A) -> copy into Region-B" \
                "$A:$RB:$SRC.events_rule.share:copy into Region-B finished -> share with the backup account" \
                "$A:$RB:$SRC.events_rule.to_backup:snapshot shared -> forward to the backup account" \
                "$B:$RB:backup.events_rule.backup_copy:snapshot shared by a source account -> copy into the backup account" \
                "$A:$RA:$FWD.events_rule.forward:system snapshot created -> forward to Region-B"; do
        acct=${spec%%:*} rest=${spec#*:}
        region=${rest%%:*} rest=${rest#*:}
        res=${rest%%:*} desc=${rest#*:}
        tgt="$gen/events/$(echo "$res" | sed 's/events_rule/events_target/').target.json"
        aws_as "$acct" "$region" events put-rule --name "$(jq -r .rule "$tgt")" \
            --event-pattern "file://$gen/events/$res.pattern.json" --state ENABLED \
            --description "rdsbk: $desc" --tags "Key=rdsbk:stack,Value=$stack" \
            --query RuleArn >/dev/null
    done

    # the sweep: a scheduled rule (its settings are in a .rule.json)
    sweep="$gen/events/$SRC.events_rule.sweep.rule.json"
    if [ -f "$sweep" ]; then
        aws_as "$A" "$RB" events put-rule --name "$(jq -r .name "$sweep")" \
            --schedule-expression "$(jq -r .schedule_expression "$sweep")" \
            --state "$(jq -r .state "$sweep")" --description "$(jq -r .description "$sweep")" \
            --tags "Key=rdsbk:stack,Value=$stack" --query RuleArn >/dev/null
    fi

    # 7. EventBridge may invoke the functions
    for spec in "$A:copy" "$A:share" "$B:backup-copy"; do
        acct=${spec%%:*} fn="rdsbk-$stack-${spec#*:}"
        aws_as "$acct" "$RB" lambda add-permission --function-name "$fn" \
            --statement-id rdsbk-events --action lambda:InvokeFunction \
            --principal events.amazonaws.com \
            --source-arn "arn:aws:events:$RB:$acct:rule/$fn" --query Statement >/dev/null
    done
    if [ -f "$sweep" ]; then
        aws_as "$A" "$RB" lambda add-permission --function-name "rdsbk-$stack-share" \
            --statement-id rdsbk-sweep --action lambda:InvokeFunction \
            --principal events.amazonaws.com \
            --source-arn "arn:aws:events:$RB:$A:rule/rdsbk-$stack-sweep" --query Statement >/dev/null
    fi

    # 8. the targets
    targets="$A:$RB:$SRC.events_target.copy $A:$RB:$SRC.events_target.share"
    targets="$targets $A:$RB:$SRC.events_target.to_backup $B:$RB:backup.events_target.backup_copy"
    targets="$targets $A:$RA:$FWD.events_target.forward"
    [ -f "$sweep" ] && targets="$targets $A:$RB:$SRC.events_target.sweep"
    for spec in $targets; do
        acct=${spec%%:*} rest=${spec#*:}
        region=${rest%%:*} tgt="$gen/events/${rest#*:}.target.json"
        aws_as "$acct" "$region" events put-targets --rule "$(jq -r .rule "$tgt")" \
            --targets "$(jq -c '[{Id: .target_id, Arn: .arn}
                                 + (if .role_arn then {RoleArn: .role_arn} else {} end)
                                 + (if .input then {Input: (.input | tojson)} else {} end)]' "$tgt")" \
            --query FailedEntryCount >/dev/null
    done
}

delete() {
    # 1. targets, then rules
    rules="$A:$RA:forward $A:$RB:copy $A:$RB:share $A:$RB:to-backup $B:$RB:backup-copy"
    [ -f "$gen/events/$SRC.events_rule.sweep.rule.json" ] && rules="$rules $A:$RB:sweep"
    for spec in $rules; do
        acct=${spec%%:*} rest=${spec#*:}
        aws_as "$acct" "${rest%%:*}" events remove-targets --rule "rdsbk-$stack-${rest#*:}" \
            --ids rdsbk --query FailedEntryCount >/dev/null
    done
    for spec in $rules; do
        acct=${spec%%:*} rest=${spec#*:}
        aws_as "$acct" "${rest%%:*}" events delete-rule --name "rdsbk-$stack-${rest#*:}"
    done
    # 2. the functions (their resource policies go with them), B's bus permission
    for spec in "$A:copy" "$A:share" "$B:backup-copy"; do
        aws_as "${spec%%:*}" "$RB" lambda delete-function --function-name "rdsbk-$stack-${spec#*:}"
    done
    aws_as "$B" "$RB" events remove-permission --event-bus-name default --statement-id "rdsbk-$stack-$A"
    # 3. the roles: inline policy first
    for spec in "$A:copy" "$A:share" "$A:events" "$B:backup-copy"; do
        aws_as "${spec%%:*}" us-east-1 iam delete-role-policy --role-name "rdsbk-$stack-${spec#*:}" \
            --policy-name rdsbk
        aws_as "${spec%%:*}" us-east-1 iam delete-role --role-name "rdsbk-$stack-${spec#*:}"
    done
    # 4. the key: its alias, then its deletion (the shortest window)
    key_id=$(aws_as "$B" "$RB" kms describe-key --key-id "$KEY_ALIAS" --query KeyMetadata.KeyId)
    aws_as "$B" "$RB" kms delete-alias --alias-name "$KEY_ALIAS"
    aws_as "$B" "$RB" kms schedule-key-deletion --key-id "$key_id" --pending-window-in-days 7 \
        --query DeletionDate >/dev/null
}

case $phase in
    create) create ;;
    delete) delete ;;
    *) echo "$0: unknown phase '$phase' (create or delete)" >&2; exit 2 ;;
esac
