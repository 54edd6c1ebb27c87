"""Table-driven tests of the EventBridge pattern engine (emu/patterns.py), no server needed."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu import patterns  # noqa: E402

RDS_EVENT = {
    "version": "0",
    "id": "e1",
    "detail-type": "RDS DB Snapshot Event",
    "source": "aws.rds",
    "account": "111111111111",
    "time": "2026-01-01T00:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:rds:eu-west-1:111111111111:snapshot:rds:db1-2026-01-01-00-00"],
    "detail": {
        "EventCategories": ["creation"],
        "SourceType": "SNAPSHOT",
        "SourceArn": "arn:aws:rds:eu-west-1:111111111111:snapshot:rds:db1-2026-01-01-00-00",
        "Date": "2026-01-01T00:00:00.000Z",
        "Message": "Automated snapshot created",
        "SourceIdentifier": "rds:db1-2026-01-01-00-00",
        "EventID": "RDS-EVENT-0091",
    },
}

GENERIC = {
    "source": "custom.app",
    "detail-type": "Thing",
    "resources": [],
    "detail": {
        "n": 5, "f": 5.5, "neg": -3, "s": "Hello World", "nul": None, "t": True, "fa": False,
        "ip": "10.0.1.7", "ip6": "2001:db8::1", "arr": ["a", "b", "c"], "nums": [1, 20],
        "objs": [{"k": "x", "v": 1}, {"k": "y", "v": 2}],
        "star": "a*b", "nested": {"deep": {"x": "y"}}, "empty": [],
        "file": "photos/cat.png", "str5": "5",
    },
}

WALK_RULE1 = {
    "source": ["aws.rds"],
    "detail-type": ["RDS DB Snapshot Event"],
    "detail": {
        "SourceArn": [{"wildcard": "arn:aws:rds:eu-west-1:111111111111:snapshot:rds:db1*"}],
        "EventID": ["RDS-EVENT-0091"],
    },
}

# (name, pattern, event, expected)
MATCH_CASES = [
    ("walkthrough rule 1 matches 0091", WALK_RULE1, RDS_EVENT, True),
    ("walkthrough rule 1 other db", {**WALK_RULE1, "detail": {**WALK_RULE1["detail"],
     "SourceArn": [{"wildcard": "arn:aws:rds:eu-west-1:111111111111:snapshot:rds:db2*"}]}},
     RDS_EVENT, False),
    ("walkthrough rule 1 wrong event id", {**WALK_RULE1, "detail": {**WALK_RULE1["detail"],
     "EventID": ["RDS-EVENT-0090"]}}, RDS_EVENT, False),
    ("walkthrough rule 3 with Region-A arn misses a Region-B 0060",
     {"source": ["aws.rds"], "detail": {"SourceArn": [{"wildcard":
      "arn:aws:rds:eu-west-1:111111111111:snapshot:db1*"}], "EventID": ["RDS-EVENT-0060"]}},
     {**RDS_EVENT, "region": "eu-central-1", "detail": {**RDS_EVENT["detail"],
      "EventID": "RDS-EVENT-0060",
      "SourceArn": "arn:aws:rds:eu-central-1:111111111111:snapshot:db1-2026-01-01-00-00"}},
     False),
    ("rule 3 with Region-B arn matches",
     {"source": ["aws.rds"], "detail": {"SourceArn": [{"wildcard":
      "arn:aws:rds:eu-central-1:111111111111:snapshot:db1*"}], "EventID": ["RDS-EVENT-0060"]}},
     {**RDS_EVENT, "detail": {**RDS_EVENT["detail"], "EventID": "RDS-EVENT-0060",
      "SourceArn": "arn:aws:rds:eu-central-1:111111111111:snapshot:db1-2026-01-01-00-00"}},
     True),
    ("custom share event", {"source": ["custom.lambda"],
     "detail-type": ["Custom Lambda Snapshot Share Event"]},
     {"source": "custom.lambda", "detail-type": "Custom Lambda Snapshot Share Event",
      "detail": {}}, True),
    ("exact string", {"source": ["custom.app"]}, GENERIC, True),
    ("exact string case sensitive", {"source": ["Custom.App"]}, GENERIC, False),
    ("array is OR", {"source": ["x", "custom.app"]}, GENERIC, True),
    ("missing field", {"nope": ["x"]}, GENERIC, False),
    ("number exact", {"detail": {"n": [5]}}, GENERIC, True),
    ("number 5.0 equals 5", {"detail": {"n": [5.0]}}, GENERIC, True),
    ("number vs string", {"detail": {"n": ["5"]}}, GENERIC, False),
    ("string 5 vs number", {"detail": {"str5": [5]}}, GENERIC, False),
    ("null matches null", {"detail": {"nul": [None]}}, GENERIC, True),
    ("null does not match missing", {"detail": {"absent": [None]}}, GENERIC, False),
    ("bool true", {"detail": {"t": [True]}}, GENERIC, True),
    ("bool false vs true", {"detail": {"t": [False]}}, GENERIC, False),
    ("bool not number", {"detail": {"t": [1]}}, GENERIC, False),
    ("event array any element", {"detail": {"arr": ["b"]}}, GENERIC, True),
    ("event array none", {"detail": {"arr": ["z"]}}, GENERIC, False),
    ("resources array", {"resources": [{"prefix": "arn:aws:rds:eu-west-1"}]}, RDS_EVENT, True),
    ("nested object", {"detail": {"nested": {"deep": {"x": ["y"]}}}}, GENERIC, True),
    ("nested object mismatch", {"detail": {"nested": {"deep": {"x": ["z"]}}}}, GENERIC, False),
    ("array of objects any", {"detail": {"objs": {"k": ["y"]}}}, GENERIC, True),
    ("array of objects none", {"detail": {"objs": {"k": ["q"]}}}, GENERIC, False),
    ("prefix", {"detail": {"s": [{"prefix": "Hello"}]}}, GENERIC, True),
    ("prefix case", {"detail": {"s": [{"prefix": "hello"}]}}, GENERIC, False),
    ("prefix ignore case", {"detail": {"s": [{"prefix": {"equals-ignore-case": "hELLO"}}]}},
     GENERIC, True),
    ("prefix not on number", {"detail": {"n": [{"prefix": "5"}]}}, GENERIC, False),
    ("suffix", {"detail": {"file": [{"suffix": ".png"}]}}, GENERIC, True),
    ("suffix no", {"detail": {"file": [{"suffix": ".jpg"}]}}, GENERIC, False),
    ("suffix ignore case", {"detail": {"file": [{"suffix": {"equals-ignore-case": ".PNG"}}]}},
     GENERIC, True),
    ("equals-ignore-case", {"detail": {"s": [{"equals-ignore-case": "hello world"}]}},
     GENERIC, True),
    ("equals-ignore-case no", {"detail": {"s": [{"equals-ignore-case": "hello"}]}},
     GENERIC, False),
    ("wildcard middle", {"detail": {"file": [{"wildcard": "photos/*.png"}]}}, GENERIC, True),
    ("wildcard whole", {"detail": {"file": [{"wildcard": "*"}]}}, GENERIC, True),
    ("wildcard no", {"detail": {"file": [{"wildcard": "docs/*"}]}}, GENERIC, False),
    ("wildcard anchored", {"detail": {"file": [{"wildcard": "cat*"}]}}, GENERIC, False),
    ("wildcard escaped star literal", {"detail": {"star": [{"wildcard": "a\\*b"}]}}, GENERIC,
     True),
    ("wildcard escaped star not any", {"detail": {"file": [{"wildcard": "photos\\*"}]}},
     GENERIC, False),
    ("wildcard regex chars literal", {"detail": {"file": [{"wildcard": "photos/cat.p*"}]}},
     GENERIC, True),
    ("wildcard dot not any char", {"detail": {"file": [{"wildcard": "photos/cat?png"}]}},
     GENERIC, False),
    ("anything-but string", {"detail": {"s": [{"anything-but": "x"}]}}, GENERIC, True),
    ("anything-but same", {"detail": {"s": [{"anything-but": "Hello World"}]}}, GENERIC, False),
    ("anything-but list", {"detail": {"s": [{"anything-but": ["a", "Hello World"]}]}},
     GENERIC, False),
    ("anything-but number", {"detail": {"n": [{"anything-but": 5}]}}, GENERIC, False),
    ("anything-but number other", {"detail": {"n": [{"anything-but": [6, 7]}]}}, GENERIC, True),
    ("anything-but missing field", {"detail": {"absent": [{"anything-but": "x"}]}}, GENERIC,
     False),
    ("anything-but prefix", {"detail": {"s": [{"anything-but": {"prefix": "Hell"}}]}},
     GENERIC, False),
    ("anything-but prefix other", {"detail": {"s": [{"anything-but": {"prefix": "Bye"}}]}},
     GENERIC, True),
    ("anything-but suffix", {"detail": {"file": [{"anything-but": {"suffix": ".png"}}]}},
     GENERIC, False),
    ("anything-but wildcard", {"detail": {"file": [{"anything-but": {"wildcard": "*/cat*"}}]}},
     GENERIC, False),
    ("anything-but wildcard list", {"detail": {"file": [{"anything-but": {"wildcard":
     ["x*", "y*"]}}]}}, GENERIC, True),
    ("anything-but ignore case", {"detail": {"s": [{"anything-but": {"equals-ignore-case":
     "HELLO WORLD"}}]}}, GENERIC, False),
    ("anything-but on array: all elements differ",
     {"detail": {"arr": [{"anything-but": ["z"]}]}}, GENERIC, True),
    ("anything-but on array: one element equals",
     {"detail": {"arr": [{"anything-but": ["a"]}]}}, GENERIC, False),
    ("exists true", {"detail": {"s": [{"exists": True}]}}, GENERIC, True),
    ("exists true missing", {"detail": {"absent": [{"exists": True}]}}, GENERIC, False),
    ("exists false missing", {"detail": {"absent": [{"exists": False}]}}, GENERIC, True),
    ("exists false present", {"detail": {"s": [{"exists": False}]}}, GENERIC, False),
    ("exists false missing parent", {"nothere": {"x": [{"exists": False}]}}, GENERIC, True),
    ("exists true empty array", {"detail": {"empty": [{"exists": True}]}}, GENERIC, False),
    ("numeric range in", {"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}, GENERIC, True),
    ("numeric range upper excl", {"detail": {"n": [{"numeric": [">", 0, "<", 5]}]}}, GENERIC,
     False),
    ("numeric eq", {"detail": {"f": [{"numeric": ["=", 5.5]}]}}, GENERIC, True),
    ("numeric >= neg", {"detail": {"neg": [{"numeric": [">=", -3]}]}}, GENERIC, True),
    ("numeric on string", {"detail": {"str5": [{"numeric": ["=", 5]}]}}, GENERIC, False),
    ("numeric on array any", {"detail": {"nums": [{"numeric": [">", 10]}]}}, GENERIC, True),
    ("cidr v4", {"detail": {"ip": [{"cidr": "10.0.0.0/16"}]}}, GENERIC, True),
    ("cidr v4 no", {"detail": {"ip": [{"cidr": "10.1.0.0/16"}]}}, GENERIC, False),
    ("cidr v6", {"detail": {"ip6": [{"cidr": "2001:db8::/32"}]}}, GENERIC, True),
    ("cidr non ip", {"detail": {"s": [{"cidr": "10.0.0.0/8"}]}}, GENERIC, False),
    ("$or first", {"$or": [{"source": ["custom.app"]}, {"detail-type": ["nope"]}]}, GENERIC,
     True),
    ("$or second", {"$or": [{"source": ["x"]}, {"detail": {"n": [5]}}]}, GENERIC, True),
    ("$or none", {"$or": [{"source": ["x"]}, {"detail": {"n": [6]}}]}, GENERIC, False),
    ("$or nested with and", {"source": ["custom.app"], "detail": {"$or": [{"n": [1]},
     {"t": [True]}]}}, GENERIC, True),
    ("$or nested and fails", {"source": ["other"], "detail": {"$or": [{"n": [5]},
     {"t": [True]}]}}, GENERIC, False),
    ("mixed matchers OR", {"detail": {"s": ["nope", {"prefix": "Hel"}]}}, GENERIC, True),
    ("all fields AND", {"source": ["custom.app"], "detail-type": ["Other"]}, GENERIC, False),
]

INVALID_CASES = [
    ("not an object", ["a"], "Filter is not an object"),
    ("empty", {}, "Empty objects are not allowed"),
    ("leaf string", {"source": "aws.rds"}, '"source" must be an object or an array'),
    ("leaf number", {"detail": {"n": 5}}, '"n" must be an object or an array'),
    ("empty array", {"source": []}, "Empty arrays are not allowed"),
    ("unknown operator", {"source": [{"regex": "a.*"}]}, "Unrecognized match type regex"),
    ("two operators", {"source": [{"prefix": "a", "suffix": "b"}]},
     "Only one key allowed in match expression"),
    ("nested array", {"source": [["a"]]},
     "Match value must be String, number, true, false, or null"),
    ("prefix number", {"source": [{"prefix": 5}]}, "prefix match pattern must be a string"),
    ("exists string", {"source": [{"exists": "yes"}]}, "exists match pattern must be either"),
    ("numeric bad op", {"n": [{"numeric": ["!=", 5]}]}, "Unrecognized numeric range operator"),
    ("numeric non number", {"n": [{"numeric": [">", "5"]}]}, "Value of > must be numeric"),
    ("numeric odd", {"n": [{"numeric": [">"]}]}, "operator/value pairs"),
    ("numeric two lower", {"n": [{"numeric": [">", 1, ">=", 2]}]}, "Multiple lower bounds"),
    ("numeric inverted", {"n": [{"numeric": [">", 5, "<", 1]}]}, "Bottom must be less than top"),
    ("wildcard consecutive", {"s": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters"),
    ("wildcard bad escape", {"s": [{"wildcard": "a\\b"}]}, "backslash"),
    ("cidr bad", {"ip": [{"cidr": "10.0.0.300/8"}]}, "Nonstandard IP address"),
    ("cidr no slash", {"ip": [{"cidr": "10.0.0.1"}]}, "Malformed CIDR"),
    ("anything-but null in list", {"s": [{"anything-but": [None]}]}, "anything but list"),
    ("anything-but unknown", {"s": [{"anything-but": {"exists": True}}]},
     "Unsupported anything-but pattern"),
    ("$or single", {"$or": [{"a": ["b"]}]}, "at least two"),
    ("$or not array", {"$or": {"a": ["b"]}}, "Or relationship must be an array"),
    ("number too big", {"n": [6e9]}, "Value must be between"),
]


class PatternTests(unittest.TestCase):
    def test_matching_table(self):
        for name, pat, event, expected in MATCH_CASES:
            with self.subTest(name=name):
                patterns.validate(pat)
                self.assertEqual(patterns.matches(pat, event), expected, name)

    def test_invalid_table(self):
        for name, pat, reason in INVALID_CASES:
            with self.subTest(name=name):
                with self.assertRaises(patterns.PatternError) as cm:
                    patterns.validate(pat)
                self.assertIn(reason, cm.exception.reason)

    def test_parse_text(self):
        self.assertTrue(patterns.test('{"source": ["aws.rds"]}', RDS_EVENT))
        with self.assertRaises(patterns.PatternError):
            patterns.parse('{"source": ')

    def test_case_count(self):
        # keep the table honest: it must exercise every operator
        text = repr(MATCH_CASES)
        for op in patterns._OPERATORS + ("$or",):
            self.assertIn(op, text)
        self.assertGreaterEqual(len(MATCH_CASES), 70)


if __name__ == "__main__":
    unittest.main()
