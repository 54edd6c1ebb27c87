"""Generated topologies for tests/schema/test_schema.py: a valid one that sets every key (BASE),
then one key changed at a time, each with what the parser and the schema should say of it.

A change is (path, value, expected): `path` a tuple of keys and list indices, `value` the new value
(DELETE removes the key; Raw("text") is written as is, unquoted, where YAML's reading of the text
matters), `expected` True (both accept), False (both refuse) or GAP(parser, schema, why) for a gap
the schema documents in its $comments: the few that tell what a schema cannot say.
"""

import collections
import copy

import yaml

Case = collections.namedtuple("Case", "name text parser schema")
DELETE = object()


class Raw(str):
    """A scalar written as it is, unquoted."""


class GAP(collections.namedtuple("GAP", "parser schema why")):
    """A documented disagreement: what each side says, and why."""


KEY_ARN = "arn:aws:kms:eu-central-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

BASE = {
    "version": 1,
    "stack": "orders-dr",
    "sources": [{
        "account": "111111111111",
        "region": "eu-central-1",
        "profile": "prod",
        "role_arn": "arn:aws:iam::111111111111:role/deployer",
        "instances": ["orders-db", "billing-*"],
        "clusters": ["aurora-main"],
        "kms_keys": [KEY_ARN],
        "option_groups": {"ledger-db": "ledger-tde"},
        "manual_snapshot_quota": 100000,
        "manual_cluster_snapshot_quota": 100000,
    }, {
        "ou": "ou-ab12-cdef3456",
        "regions": ["eu-central-1", "eu-west-2"],
        "admin_account": "333333333333",
        "code_bucket": "acme-rdsbk-code",
        "member_role": "rdsbk-reader",
        "profile": "org-admin",
        "role_arn": "arn:aws:iam::333333333333:role/stacksets",
        "instances": ["orders-db"],
        "clusters": ["aurora-main"],
        "option_groups": {"ledger-db": "ledger-tde"},
    }],
    "backup": {
        "account": "222222222222",
        "region": "eu-west-1",
        "profile": "backup",
        "role_arn": "arn:aws:iam::222222222222:role/deployer",
        "bus_policy_quota": 10240,
        "organization_id": "o-abcdefghij",
        "manual_snapshot_quota": 100000,
        "manual_cluster_snapshot_quota": 100000,
    },
    "key": {"alias": "alias/rdsbk-orders-dr", "multi_region": True, "deletion_window_days": 30,
            "prevent_destroy": False},
    "functions": {"runtime": "python3.13", "timeout_seconds": 60, "memory_mb": 128,
                  "log_retention_days": 30},
    "retention": {"backup_days": 7, "intermediate_days": 1, "keep_last": 1},
    "alerts": {"emails": ["ops@example.com"],
               "sns_topic_arn": "arn:aws:sns:eu-west-1:222222222222:ops", "max_age": "26h"},
    "tags": {"team": "data", "cost-center": "4711"},
    "endpoints": {"default": "http://127.0.0.1:4566", "sqs": "http://127.0.0.1:4567",
                  "s3": "http://s3.localhost:4566"},
    "state": {"bucket": "acme-rdsbk-states", "key": "rdsbk/orders-dr.json",
              "region": "eu-west-1", "profile": "state",
              "role_arn": "arn:aws:iam::333333333333:role/rdsbk-state",
              "kms_key_id": "alias/rdsbk-state"},
}

S = ("sources", 0)
O = ("sources", 1)
B = ("backup",)
INT_SPELLING = "YAML 1.2 reads it as an integer; the parser wants decimal digits"
RELATION = "a relation between two values"

CHANGES = [
    (O + ("ou",), "ou-ab12", False), (O + ("ou",), "OU-AB12-CDEF3456", False),
    (O + ("ou",), "ou-abcd-12345678abcd", True), (O + ("regions",), [], False),
    (O + ("regions",), DELETE, False), (O + ("regions",), ["eu-west-1"], GAP(False, True, RELATION)),
    (O + ("regions",), ["eu-central-1", "eu-central-1"], False),
    (O + ("admin_account",), DELETE, False), (O + ("admin_account",), "12345", False),
    (O + ("code_bucket",), DELETE, False), (O + ("code_bucket",), "Acme_Code", False),
    (O + ("code_bucket",), "xn--code", False), (O + ("member_role",), "a role", False),
    (O + ("member_role",), DELETE, True), (O + ("kms_keys",), [KEY_ARN], False),
    (O + ("account",), "111111111111", False), (O + ("region",), "eu-central-1", False),
    (O + ("manual_snapshot_quota",), 100, False),
    (O + ("instances",), DELETE, True), (O + ("role_arn",), "arn:aws:iam::111111111111:role/x",
                                          GAP(False, True, RELATION)),
    (B + ("organization_id",), DELETE, False), (B + ("organization",), True, False),
    (B + ("organization",), "yes", False),
    # the top level: required keys, one of sources/source, unknown keys, types
    (("version",), 2, False), (("version",), "1", False), (("version",), DELETE, False),
    (("stack",), DELETE, False), (("backup",), DELETE, False), (("sources",), DELETE, False),
    (("sources",), [], False), (("sources",), "x", False), (("stak",), "x", False),
    (("source",), "placeholder", False),  # both source and sources
    (("stack",), "Orders", False), (("stack",), "9lives", False), (("stack",), "a" * 24, True),
    (("stack",), "a" * 25, False), (("stack",), ["orders"], False), (("stack",), "", False),
    # accounts and Regions
    (S + ("account",), "11111111111", False), (S + ("account",), "1111111111111", False),
    (S + ("account",), "11111111111a", False), (S + ("account",), Raw("111111111111"), True),
    (S, {"account": Raw("011111111111"), "region": "eu-central-1", "instances": ["db"]},
     GAP(True, False, "YAML drops the leading zero of an unquoted account id")),
    (S + ("account",), DELETE, False),
    (S + ("account",), "222222222222", GAP(False, True, RELATION)),
    (B + ("account",), Raw("222222222222"), True), (B + ("account",), "22222222222a", False),
    (S + ("region",), "eu-centrl", False), (S + ("region",), "EU-CENTRAL-1", False),
    (("state", "region"), "ap-southeast-2", True), (("state", "region"), "il-central-1", True),
    (("state", "region"), "us-gov-west-1", True), (("state", "region"), "eu-west-10", True),
    (("state", "region"), "eu-west-0", False), (("state", "region"), "eu-west-123", False),
    (("state", "region"), "eu-wst-1", False), (("state", "region"), "eu-centralcentralc-1", True),
    (("state", "region"), "eu-centralcentralce-1", False), (("state", "region"), 1, False),
    (S + ("region",), DELETE, False),
    (S + ("region",), "eu-west-1", GAP(False, True, RELATION)),
    (B + ("region",), "us-gov-west-1", GAP(False, True, RELATION)),
    # profiles and roles
    (S + ("profile",), "prod team", False), (S + ("profile",), "a" * 64, True),
    (S + ("profile",), "a" * 65, False), (S + ("profile",), Raw("111111111111"), True),
    (S + ("profile",), "", True), (S + ("profile",), "ci/a.b@c+d_e-f", True),
    (S + ("role_arn",), "arn:aws:iam::111111111111:user/deployer", False),
    (S + ("role_arn",), "arn:aws:iam::111111111111:role/", False),
    (S + ("role_arn",), "arn:aws:iam::111111111111:role/a/b/", False),
    (S + ("role_arn",), "arn:aws-cn:iam::111111111111:role/a/b", True),
    (S + ("role_arn",), "arn:aws:iam::222222222222:role/x", GAP(False, True, RELATION)),
    # databases
    (S + ("instances",), "orders-db", True), (S + ("instances",), None, True),
    (S + ("instances",), [], True), (S + ("instances",), ["1db"], False),
    (S + ("instances",), ["a--b"], False), (S + ("instances",), ["a-"], False),
    (S + ("instances",), ["a*b"], False), (S + ("instances",), ["*"], True),
    (S + ("instances",), ["**"], False), (S + ("instances",), ["a" * 63], True),
    (S + ("instances",), ["a" * 64], False), (S + ("instances",), ["a" * 63 + "*"], True),
    (S + ("instances",), ["a-*"], True), (S + ("instances",), ["a_b"], False),
    (S + ("instances",), ["orders-db", "orders-db"], False),
    (S + ("instances",), ["Orders-DB"], True), (S + ("instances",), [["a"]], False),
    (S + ("instances",), [None], False), (S + ("instances",), {"a": 1}, False),
    (S + ("clusters",), ["aurora_main"], False), (S + ("clusters",), DELETE, True),
    (S + ("instances",), ["orders-db", "Orders-DB"],
     GAP(False, True, "one database in two cases: uniqueItems is case-sensitive")),
    # no databases: neither list, or both empty
    (S, {"account": "111111111111", "region": "eu-central-1"}, False),
    (S, {"account": "111111111111", "region": "eu-central-1", "instances": [],
         "clusters": None}, False),
    (S, {"account": "111111111111", "region": "eu-central-1", "clusters": "c"}, True),
    (S + ("instance",), ["x"], False),
    (S + ("kms_keys",), ["arn:aws:kms:eu-central-1:111111111111:alias/mine"], False),
    (S + ("kms_keys",), ["arn:aws:kms:eu-central-1:1111:key/abc"], False),
    (S + ("kms_keys",), ["arn:aws:kms:eu-central-1:111111111111:key/a_b"], False),
    (S + ("kms_keys",), KEY_ARN, True), (S + ("kms_keys",), [KEY_ARN, KEY_ARN], False),
    (S + ("kms_keys",), ["arn:aws:kms:us-east-1:111111111111:key/abc"],
     GAP(False, True, RELATION)),
    (S + ("option_groups",), {"ledger-db": "tde--b"}, False),
    (S + ("option_groups",), {"Bad_DB": "tde"}, False), (S + ("option_groups",), "x", False),
    (S + ("option_groups",), None, True), (S + ("option_groups",), {"billing-*": "a-1"}, True),
    (S + ("option_groups",), {"ledger-db": "a" * 256}, False),
    (S + ("option_groups",), {"ledger-db": 5}, False),
    # whole numbers
    (S + ("manual_snapshot_quota",), 0, False), (S + ("manual_snapshot_quota",), 100001, False),
    (S + ("manual_snapshot_quota",), "100", False),
    (S + ("manual_snapshot_quota",), Raw("many"), False),
    (S + ("manual_cluster_snapshot_quota",), 1, GAP(False, True, "RDS's quota against retention's "
                                                     "estimate: arithmetic on two values")),
    (B + ("bus_policy_quota",), 10239, False), (B + ("bus_policy_quota",), 1048576, True),
    (B + ("bus_policy_quota",), 1048577, False), (B + ("manual_snapshot_quota",), 1.5, False),
    (B + ("organization_id",), "o-abcdefghij", True), (B + ("organization_id",), "o-abc", False),
    (B + ("organization_id",), "o-ABCDEFGHIJ", False), (B + ("organization_id",), 12, False),
    (B + ("regoin",), "x", False), (B + ("role_arn",), "arn:aws:iam::111111111111:role/x",
                                    GAP(False, True, RELATION)),
    (("key", "alias"), "alias/aws/rds", False), (("key", "alias"), "alias/AWS/rds", False),
    (("key", "alias"), "alias/", False), (("key", "alias"), "rdsbk", False),
    (("key", "alias"), "alias/" + "a" * 250, True), (("key", "alias"), "alias/" + "a" * 251, False),
    (("key", "alias"), "alias/aws", True),
    (("key", "multi_region"), Raw("yes"), False), (("key", "multi_region"), Raw("True"), True),
    (("key", "multi_region"), 1, False), (("key", "prevent_destroy"), "false", False),
    (("key", "deletion_window_days"), 6, False), (("key", "deletion_window_days"), 7, True),
    (("key", "deletion_window_days"), 31, False), (("key", "aliass"), "x", False),
    (("key",), None, False),
    (("functions", "runtime"), "python3.8", False), (("functions", "runtime"), "python3.14", True),
    (("functions", "runtime"), "nodejs20.x", False),
    (("functions", "timeout_seconds"), 0, False), (("functions", "timeout_seconds"), 900, True),
    (("functions", "timeout_seconds"), 901, False),
    (("functions", "timeout_seconds"), Raw("0x3C"), GAP(False, True, INT_SPELLING)),
    (("functions", "timeout_seconds"), Raw("+60"), GAP(False, True, INT_SPELLING)),
    (("functions", "memory_mb"), 127, False), (("functions", "memory_mb"), 10240, True),
    (("functions", "memory_mb"), 10241, False),
    (("functions", "log_retention_days"), 10, False),
    (("functions", "log_retention_days"), 3653, True),
    (("functions", "log_retention_days"), 14, True), (("functions", "memory"), 1, False),
    (("retention", "backup_days"), -1, False), (("retention", "backup_days"), 0, True),
    (("retention", "backup_days"), 36500, True), (("retention", "backup_days"), 36501, False),
    (("retention", "intermediate_days"), 36501, False), (("retention", "keep_last"), 0, False),
    (("retention", "keep_last"), 1000, True), (("retention", "keep_last"), 1001, False),
    (("retention", "days"), 1, False),
    # alerts
    (("alerts", "emails"), ["ops"], False), (("alerts", "emails"), ["a b@example.com"], False),
    (("alerts", "emails"), "ops@example.com", True),
    (("alerts", "emails"), ["ops@example.com", "ops@example.com"], False),
    (("alerts", "emails"), ["ops@example."], False),
    (("alerts", "emails"), ["ops@.example.com"], False),
    (("alerts", "emails"), ["@example.com"], False),
    (("alerts", "emails"), ["a@b@example.com"], False),
    (("alerts", "emails"), ["ops@localhost"], False), (("alerts", "emails"), None, True),
    (("alerts", "emails"), ["a" * 242 + "@example.com"], True),
    (("alerts", "emails"), ["a" * 243 + "@example.com"], False),
    (("alerts", "sns_topic_arn"), "arn:aws:sns:eu-west-1:222222222222:ops.fifo", False),
    (("alerts", "sns_topic_arn"), "arn:aws:sqs:eu-west-1:222222222222:ops", False),
    (("alerts", "sns_topic_arn"), "arn:aws:sns:eu-west-1:333333333333:ops",
     GAP(False, True, RELATION)),
    (("alerts", "max_age"), "1h30m", True), (("alerts", "max_age"), "90d", True),
    (("alerts", "max_age"), Raw("3600"), True), (("alerts", "max_age"), Raw("7776001"), False),
    (("alerts", "max_age"), Raw("26"), False), (("alerts", "max_age"), "1h30", False),
    (("alerts", "max_age"), "26x", False), (("alerts", "max_age"), "", False),
    (("alerts", "max_age"), "20m", GAP(False, True, "a duration's range is arithmetic")),
    (("alerts", "email"), ["ops@example.com"], False),
    # tags: AWS's characters, lengths, reserved prefixes, count
    (("tags",), {"aws:owner": "x"}, False), (("tags",), {"AWS:x": "x"}, False),
    (("tags",), {"rdsbk:stack": "x"}, False), (("tags",), {"RDSBK:x": "y"}, True),
    (("tags",), {"bad<key>": "x"}, False), (("tags",), {"team": "{v}"}, False),
    (("tags",), {"cost \u20ac": "x"}, False), (("tags",), {"accent": "\u00e9t\u00e9"}, True),
    (("tags",), {"k": "\U0001F418"}, False), (("tags",), {"k": "\U0001D400\u3000\u0663"}, True),
    (("tags",), {"k": "a\tb"}, False), (("tags",), {"k": "e\u0301"}, False),
    (("tags",), {"k": Raw("1")}, True), (("tags",), {"k": Raw("true")}, True),
    (("tags",), {"k": None}, True), (("tags",), {"": "x"}, False),
    (("tags",), {"a" * 128: "x"}, True), (("tags",), {"a" * 129: "x"}, False),
    (("tags",), {"k": "\u00e9" * 256}, True), (("tags",), {"k": "v" * 257}, False),
    (("tags",), {"k%d" % i: "v" for i in range(49)}, True),
    (("tags",), {"k%d" % i: "v" for i in range(50)}, False),
    (("tags",), None, True), (("tags",), ["a"], False),
    # endpoints
    (("endpoints", "default"), "ftp://127.0.0.1:4566", False),
    (("endpoints", "default"), "127.0.0.1:4566", False),
    (("endpoints", "kms"), "http://user@h", False), (("endpoints", "kms"), "http://h/p@x", True),
    (("endpoints", "kms"), "http://:80", False), (("endpoints", "kms"), "http:// x", False),
    (("endpoints", "kms"), "https://[::1]:1/", True), (("endpoints", "ec2"), "http://h", False),
    # the state in S3
    (("state", "key"), DELETE, False), (("state", "bucket"), DELETE, False),
    (("state", "bucket"), "My_States", False), (("state", "bucket"), "ab", False),
    (("state", "bucket"), "192.168.5.4", False), (("state", "bucket"), "xn--abc", False),
    (("state", "bucket"), "abc-s3alias", False), (("state", "bucket"), "a..b", False),
    (("state", "bucket"), "a.b-c", True), (("state", "bucket"), "-abc", False),
    (("state", "key"), "dir/", False), (("state", "key"), "a\tb", False),
    (("state", "key"), "dir/a b.json", True), (("state", "region"), "Mars", False),
    (("state", "kms_key_id"), "alias/aws/s3", True), (("state", "kms_key_id"), "my key", False),
    (("state", "kms_key_id"), "1234abcd-12ab-34cd-56ef-1234567890ab", True),
    (("state", "kms_key_id"), "arn:aws:kms:eu-west-1:222222222222:alias/st", True),
    (("state", "kms_key_id"), KEY_ARN, True), (("state", "kms_key_id"), "alias/", False),
    (("state", "lock_table"), "t", False), (("state",), None, False),
]


def _set(data, path, value):
    """`data` with the value at `path` replaced (or removed for DELETE)."""
    out = copy.deepcopy(data)
    node = out
    for k in path[:-1]:
        node = node[k]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _dump(data):
    """YAML text of `data`, each Raw value written unquoted."""
    raws = []

    def swap(v):
        if isinstance(v, Raw):
            raws.append(str(v))
            return "RAW%dRAW" % (len(raws) - 1)
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v

    text = yaml.safe_dump(swap(data), sort_keys=False, allow_unicode=True, width=4096)
    for i, raw in enumerate(raws):
        text = text.replace("RAW%dRAW" % i, raw)
    return text.encode()


def _name(number, path, value):
    """A case's name in messages: its number in CHANGES, the key and (the start of) the value."""
    shown = "(deleted)" if value is DELETE else repr(value)
    return "change %d: %s = %s" % (number, ".".join(map(str, path)),
                                   shown if len(shown) < 60 else shown[:57] + "...")


def generated():
    """BASE (both accept), its shorthand form, and each change of CHANGES."""
    shorthand = _set(BASE, ("source",), BASE["sources"][0])
    out = [Case("base", _dump(BASE), True, True),
           Case("base with source:", _dump(_set(shorthand, ("sources",), DELETE)), True, True)]
    for number, (path, value, expected) in enumerate(CHANGES):
        if path == ("source",):
            value = BASE["sources"][0]
        both = expected if isinstance(expected, GAP) else GAP(expected, expected, "")
        out.append(Case(_name(number, path, value), _dump(_set(BASE, path, value)), both.parser,
                        both.schema))
    return out
