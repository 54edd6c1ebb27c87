"""EventBridge event pattern language: validation and matching (pure, no emulator state).

Owner: H4.  Public API:
    parse(text_or_obj) -> pattern dict; raises PatternError(reason) for malformed patterns
    validate(obj) -> None; raises PatternError
    matches(pattern, event) -> bool   (pattern already validated)
    test(pattern_text, event) -> bool (parse + match)

PatternError.reason is the text AWS puts after "Event pattern is not valid. Reason: ".
Semantics follow the EventBridge user guide: every field of the pattern must match; a leaf
is an array of alternatives (OR); an event array matches when any element matches; nested
objects descend; "$or" is a list of alternative sub-patterns; operators are prefix, suffix,
wildcard, anything-but, exists, numeric, equals-ignore-case, cidr.
"""

import ipaddress
import json
import re

NUMERIC_LIMIT = 5.0e9
_NUM_OPS = ("=", "<", "<=", ">", ">=")
_OPERATORS = ("prefix", "suffix", "wildcard", "anything-but", "exists", "numeric",
              "equals-ignore-case", "cidr")


class PatternError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


_MISSING = object()


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------------------- validation

def parse(pattern):
    """Parse (if a string) and validate a pattern; returns the pattern object."""
    if isinstance(pattern, (str, bytes)):
        try:
            obj = json.loads(pattern)
        except ValueError as exc:
            raise PatternError("Unrecognized token in JSON: %s" % exc.args[0]) from None
    else:
        obj = pattern
    validate(obj)
    return obj


def validate(obj):
    if not isinstance(obj, dict):
        raise PatternError("Filter is not an object")
    if not obj:
        raise PatternError("Empty objects are not allowed")
    _validate_object(obj)


def _validate_object(obj):
    for key, val in obj.items():
        if key == "$or":
            if not isinstance(val, list):
                raise PatternError("Or relationship must be an array")
            if len(val) < 2:
                raise PatternError("Or relationship must contain at least two subpatterns")
            for sub in val:
                if not isinstance(sub, dict):
                    raise PatternError("Or relationship subpatterns must be objects")
                if not sub:
                    raise PatternError("Empty objects are not allowed")
                _validate_object(sub)
        elif isinstance(val, dict):
            if not val:
                raise PatternError("Empty objects are not allowed")
            _validate_object(val)
        elif isinstance(val, list):
            if not val:
                raise PatternError("Empty arrays are not allowed")
            for m in val:
                _validate_matcher(key, m)
        else:
            raise PatternError('"%s" must be an object or an array' % key)


def _validate_string_or_eic(op, v):
    if isinstance(v, str):
        return
    if isinstance(v, dict) and list(v.keys()) == ["equals-ignore-case"] and isinstance(
            v["equals-ignore-case"], str):
        return
    raise PatternError("%s match pattern must be a string, optionally within an "
                       "equals-ignore-case object" % op)


def _validate_wildcard(v, where="wildcard"):
    if not isinstance(v, str):
        raise PatternError("%s match pattern must be a string" % where)
    i = 0
    prev_star = False
    while i < len(v):
        c = v[i]
        if c == "\\":
            if i + 1 >= len(v) or v[i + 1] not in "*\\":
                raise PatternError("Invalid use of backslash escape character at pos %d" % i)
            i += 2
            prev_star = False
            continue
        if c == "*":
            if prev_star:
                raise PatternError("Consecutive wildcard characters at pos %d" % i)
            prev_star = True
        else:
            prev_star = False
        i += 1


def _validate_matcher(key, m):
    if m is None or isinstance(m, (str, bool)) or _is_num(m):
        if _is_num(m) and abs(m) > NUMERIC_LIMIT:
            raise PatternError("Value must be between -%s and %s, inclusive"
                               % ("5.0E9", "5.0E9"))
        return
    if isinstance(m, list):
        raise PatternError("Match value must be String, number, true, false, or null")
    if not isinstance(m, dict):
        raise PatternError("Match value must be String, number, true, false, or null")
    if len(m) != 1:
        if not m:
            raise PatternError("Empty objects are not allowed")
        raise PatternError("Only one key allowed in match expression")
    (op, v), = m.items()
    if op not in _OPERATORS:
        raise PatternError("Unrecognized match type %s" % op)
    if op in ("prefix", "suffix"):
        _validate_string_or_eic(op, v)
    elif op == "equals-ignore-case":
        if not isinstance(v, str):
            raise PatternError("equals-ignore-case match pattern must be a string")
    elif op == "wildcard":
        _validate_wildcard(v)
    elif op == "exists":
        if not isinstance(v, bool):
            raise PatternError("exists match pattern must be either true or false.")
    elif op == "cidr":
        if not isinstance(v, str):
            raise PatternError("prefix/cidr match pattern must be a string")
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise PatternError("Malformed CIDR, one '/' required") if "/" not in v else \
                PatternError("Nonstandard IP address: %s" % v.split("/")[0])
        if "/" not in v:
            raise PatternError("Malformed CIDR, one '/' required")
    elif op == "numeric":
        _validate_numeric(v)
    elif op == "anything-but":
        _validate_anything_but(v)


def _validate_numeric(v):
    if not isinstance(v, list) or not v:
        raise PatternError("Value of numeric must be an array.")
    if len(v) % 2:
        raise PatternError("Value of numeric must be an array of operator/value pairs.")
    lower = upper = equal = False
    for i in range(0, len(v), 2):
        op, num = v[i], v[i + 1]
        if op not in _NUM_OPS:
            raise PatternError("Unrecognized numeric range operator: %s" % op)
        if not _is_num(num):
            raise PatternError("Value of %s must be numeric" % op)
        if abs(num) > NUMERIC_LIMIT:
            raise PatternError("Value must be between -5.0E9 and 5.0E9, inclusive")
        if op == "=":
            if len(v) != 2:
                raise PatternError("Numeric equality cannot be combined with a range")
            equal = True
        elif op in (">", ">="):
            if lower:
                raise PatternError("Multiple lower bounds in numeric range")
            lower = True
        else:
            if upper:
                raise PatternError("Multiple upper bounds in numeric range")
            upper = True
    if lower and upper:
        lo = hi = None
        for i in range(0, len(v), 2):
            if v[i] in (">", ">="):
                lo = v[i + 1]
            elif v[i] in ("<", "<="):
                hi = v[i + 1]
        if lo >= hi:
            raise PatternError("Bottom must be less than top")
    del equal


def _validate_anything_but(v):
    if isinstance(v, str) or _is_num(v):
        return
    if isinstance(v, list):
        if not v:
            raise PatternError("Empty arrays are not allowed")
        for x in v:
            if not (isinstance(x, str) or _is_num(x)):
                raise PatternError("Inside anything but list, start|null|boolean is not "
                                   "supported.")
        return
    if isinstance(v, dict):
        if len(v) != 1:
            raise PatternError("Only one key allowed in match expression")
        (op, w), = v.items()
        if op in ("prefix", "suffix"):
            if not isinstance(w, str):
                raise PatternError("%s match pattern must be a string" % op)
            if w == "":
                raise PatternError("Null %s not allowed" % op)
            return
        if op in ("equals-ignore-case", "wildcard"):
            items = w if isinstance(w, list) else [w]
            if not items:
                raise PatternError("Empty arrays are not allowed")
            for x in items:
                if op == "wildcard":
                    _validate_wildcard(x, "anything-but wildcard")
                elif not isinstance(x, str):
                    raise PatternError("Inside anything-but/equals-ignore-case list, "
                                       "number|start|null|boolean is not supported.")
            return
        raise PatternError("Unsupported anything-but pattern: %s" % op)
    raise PatternError("Value of anything-but must be an array or single string/number value.")


# ------------------------------------------------------------------------------ matching

def _wildcard_regex(w):
    out = []
    i = 0
    while i < len(w):
        c = w[i]
        if c == "\\" and i + 1 < len(w):
            out.append(re.escape(w[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _wildcard_match(w, s):
    return isinstance(s, str) and _wildcard_regex(w).fullmatch(s) is not None


def _num_eq(a, b):
    return float(a) == float(b)


def _match_value(m, val):
    """One matcher against one scalar event value (val is not a list, may be _MISSING)."""
    if isinstance(m, dict):
        (op, v), = m.items()
        if op == "exists":
            return (val is not _MISSING) == v
        if val is _MISSING:
            return False
        if op == "prefix" or op == "suffix":
            if not isinstance(val, str):
                return False
            if isinstance(v, dict):
                p, s = v["equals-ignore-case"].casefold(), val.casefold()
            else:
                p, s = v, val
            return s.startswith(p) if op == "prefix" else s.endswith(p)
        if op == "equals-ignore-case":
            return isinstance(val, str) and val.casefold() == v.casefold()
        if op == "wildcard":
            return _wildcard_match(v, val)
        if op == "cidr":
            if not isinstance(val, str):
                return False
            try:
                return ipaddress.ip_address(val) in ipaddress.ip_network(v, strict=False)
            except ValueError:
                return False
        if op == "numeric":
            if not _is_num(val):
                return False
            for i in range(0, len(v), 2):
                o, n = v[i], float(v[i + 1])
                x = float(val)
                ok = {"=": x == n, "<": x < n, "<=": x <= n, ">": x > n, ">=": x >= n}[o]
                if not ok:
                    return False
            return True
        if op == "anything-but":
            return _anything_but(v, val)
        return False
    if val is _MISSING:
        return False
    if m is None:
        return val is None
    if isinstance(m, bool):
        return isinstance(val, bool) and val == m
    if _is_num(m):
        return _is_num(val) and _num_eq(m, val)
    return isinstance(val, str) and val == m


def _anything_but(v, val):
    if val is None:
        return False
    if isinstance(v, dict):
        (op, w), = v.items()
        if not isinstance(val, str):
            return op != "prefix" and op != "suffix" and op != "wildcard" and \
                op != "equals-ignore-case"
        if op == "prefix":
            return not val.startswith(w)
        if op == "suffix":
            return not val.endswith(w)
        items = w if isinstance(w, list) else [w]
        if op == "equals-ignore-case":
            return all(val.casefold() != x.casefold() for x in items)
        return not any(_wildcard_match(x, val) for x in items)
    items = v if isinstance(v, list) else [v]
    for x in items:
        if _is_num(x) and _is_num(val) and _num_eq(x, val):
            return False
        if isinstance(x, str) and isinstance(val, str) and x == val:
            return False
    return True


def _leaf_matches(matchers, value):
    if isinstance(value, list):
        values = value if value else [_MISSING]
    else:
        values = [value]
    for m in matchers:
        # anything-but and exists:false judge the whole field, not one element
        if isinstance(m, dict) and "anything-but" in m and isinstance(value, list) and value:
            if all(_match_value(m, x) for x in value):
                return True
            continue
        if isinstance(m, dict) and m.get("exists") is False:
            if value is _MISSING:
                return True
            continue
        if isinstance(m, dict) and m.get("exists") is True:
            if value is not _MISSING and not (isinstance(value, list) and not value):
                return True
            continue
        if any(_match_value(m, x) for x in values):
            return True
    return False


def _object_matches(pattern, event):
    """event: a dict, or _MISSING (absent subtree), or a list of dicts (any must match)."""
    if isinstance(event, list):
        dicts = [e for e in event if isinstance(e, dict)]
        if not dicts:
            return _object_matches(pattern, _MISSING)
        return any(_object_matches(pattern, e) for e in dicts)
    if not isinstance(event, dict):
        event = {}
    for key, pv in pattern.items():
        if key == "$or":
            if not any(_object_matches(sub, event) for sub in pv):
                return False
            continue
        val = event.get(key, _MISSING)
        if isinstance(pv, dict):
            if not _object_matches(pv, val if val is not _MISSING else {}):
                return False
        elif not _leaf_matches(pv, val):
            return False
    return True


def matches(pattern, event):
    return _object_matches(pattern, event)


def test(pattern, event):
    pat = parse(pattern)
    if isinstance(event, (str, bytes)):
        event = json.loads(event)
    return matches(pat, event)
