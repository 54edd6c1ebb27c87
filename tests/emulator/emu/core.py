"""Core of the local AWS emulator: HTTP server, SigV4 verification, model-driven protocols.

Owner: H3. Services (emu/iam.py, sts.py, kms.py by H3; events.py, lambda_svc.py, rds.py by H4;
logs.py, sns.py, sqs.py, s3.py) code against the interface below and never touch HTTP, XML or JSON
themselves.

Interface for services
----------------------
* A service module defines a class with ``SERVICE = "<botocore service name>"``, an
  ``__init__(self, emu)``, ``reset(self)``, ``inventory(self)`` (list of dicts with at least
  account, region, type, id) and one method per implemented botocore operation, named exactly as
  the operation: ``def CreateRole(self, ctx, params) -> dict``. ``params`` has been validated
  against the input shape (member names as in the model; str/int/bool/float/list/dict, datetime
  (UTC, tz-aware) for timestamps, bytes for blobs). The method returns a dict shaped like the
  output shape (timestamps may be datetime, epoch float or ISO string; blobs bytes; None values
  and unknown keys are dropped).
* Errors: ``raise AwsError(code, message, status=None, sender_fault=True, fields=None,
  headers=None)``. With status None the core takes the HTTP status from the model's error shape
  of that name, else 400. ``fields``: restXml, extra elements of the <Error> document, in order
  (S3's <Key>, <BucketName>, ...); json, further members of the error document
  (Organizations' Reason); ``headers``: reply headers the error carries.
* Condition keys: ``ctx.condition_context()`` is what a caller's request is evaluated with
  (aws:PrincipalArn, aws:PrincipalAccount, ..., and aws:PrincipalOrgID / aws:PrincipalOrgPaths
  when the caller's account is in the organisation: ``emu.principal_org_keys(account)``).
* Locking: the core holds ``emu.lock`` (an RLock) around every operation call. A service whose
  operation blocks on work that itself calls back into the emulator (Lambda's synchronous
  Invoke) lists it in a class attribute ``UNLOCKED_OPERATIONS = {"Invoke"}`` and then takes
  ``emu.lock`` itself around state access.
* Control routes: ``def control_routes(self): return {("POST", "/_emu/x"): fn}`` where
  ``fn(body_dict) -> (status, dict)``; called with emu.lock NOT held. Query parameters are
  merged into body_dict. A path ending in "/" serves everything under it (full path in
  body_dict["_path"]); a handler may return bytes instead of a dict (sent as octet-stream).
* Background work: ``emu.submit(fn, *args, delay_s=0.0)``; POST /_emu/wait-idle waits for it.
  Work submitted before a POST /_emu/reset is dropped if it has not started yet. delay_s is in
  AWS time: an advance of the clock runs the work it passes.
* AWS time: ``emu.now()`` (stamp everything AWS stamps with it; ``emu.auth_now()`` is the real
  clock of signatures and credentials). POST /_emu/clock advances it and calls, if a service
  has them: ``clock_work(t0, t1, max_fires) -> ([(t, fn)], coalesced)`` (emu.lock held) for work
  due at times in (t0, t1], each ``fn(t)`` then called with the clock at t; and
  ``on_clock(now)`` (emu.lock held) at every step, for expiries.
* ``shutdown(self)``, if present, is called when the emulator stops (end subprocesses).
"""

import base64
import collections
import copy
import datetime
import email.utils
import functools
import hashlib
import heapq
import hmac
import http.client
import importlib
import io
import json
import os
import queue
import random
import re
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as _xml_escape

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.model
import botocore.session
from botocore.compat import HTTPHeaders

SERVICE_NAMES = ("iam", "sts", "kms", "events", "lambda", "rds", "logs", "sns", "sqs", "s3",
                 "organizations", "cloudformation")
# Module name for each service (lambda is a Python keyword).
SERVICE_MODULES = {
    "iam": "iam",
    "sts": "sts",
    "kms": "kms",
    "events": "events",
    "lambda": "lambda_svc",
    "rds": "rds",
    "logs": "logs",
    "sns": "sns",
    "sqs": "sqs",
    "s3": "s3",
    "organizations": "organizations",
    "cloudformation": "cloudformation",
}
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# What AWS has today that the installed botocore model (python3-botocore 1.29) predates, as parts
# of a service-2.json merged into the emulator's copy of the model where the model lacks them
# (boto3's own, older model ignores them; the tool uses them): CloudWatch Logs' logGroupArn; S3's
# conditional writes (PutObject If-Match / If-None-Match, 2024) and deletes (DeleteObject
# If-Match, 2025), HeadBucket's x-amz-bucket-region, and the reply document's namespace and root
# element names, which the model leaves to botocore's parser (that ignores them).
MODEL_ADDITIONS = {
    "logs": {"shapes": {"LogGroup": {"members": {"logGroupArn": {"shape": "Arn"}}}}},
    "s3": {
        "metadata": {"xmlNamespace": S3_NAMESPACE},
        "operations": {"HeadBucket": {"output": {"shape": "HeadBucketOutput"}}},
        "shapes": {
            "PutObjectRequest": {"members": {
                "IfMatch": {"shape": "IfMatch", "location": "header", "locationName": "If-Match"},
                "IfNoneMatch": {"shape": "IfNoneMatch", "location": "header",
                                "locationName": "If-None-Match"}}},
            "DeleteObjectRequest": {"members": {
                "IfMatch": {"shape": "IfMatch", "location": "header", "locationName": "If-Match"}}},
            "BucketRegion": {"type": "string"},
            "HeadBucketOutput": {"type": "structure", "members": {
                "BucketRegion": {"shape": "BucketRegion", "location": "header",
                                 "locationName": "x-amz-bucket-region"}}},
            "ListObjectsV2Output": {"locationName": "ListBucketResult"},
            "ListObjectVersionsOutput": {"locationName": "ListVersionsResult"},
            "ListBucketsOutput": {"locationName": "ListAllMyBucketsResult"},
            "GetBucketVersioningOutput": {"locationName": "VersioningConfiguration"},
            "GetBucketLocationOutput": {"locationName": "LocationConstraint"},
        },
    },
}
# Where the installed model has what AWS has since changed: these values replace the model's
# (dicts are walked, anything else is replaced). FilterLogEvents takes logGroupName or
# logGroupIdentifier; botocore 1.29's model still requires logGroupName, today's requires
# neither (Logs checks that exactly one is given).
MODEL_CHANGES = {
    "logs": {"shapes": {"FilterLogEventsRequest": {"required": []}}},
}
MUTATING_PREFIXES = (
    "Create", "Put", "Update", "Delete", "Add", "Remove", "Tag", "Untag", "Schedule", "Cancel",
    "Attach", "Detach", "Modify", "Copy", "Restore", "Enable", "Disable", "Invoke", "Publish",
    "Reboot", "Start", "Stop", "Set", "Upload", "Reset", "Revoke", "Retire", "Associate",
    "Disassociate", "Replicate", "Import", "Promote", "Failover", "Purchase", "Authorize",
    "Change", "Generate", "Encrypt", "Decrypt", "ReEncrypt", "Sign", "Assume", "Deactivate",
    "Activate", "Register", "Deregister", "Rotate",
    # SNS and SQS; ReceiveMessage too: it hides what it returns for the visibility timeout
    "Subscribe", "Unsubscribe", "Confirm", "Send", "Purge", "Receive",
)
NON_MUTATING = {"TestEventPattern"}
FAULT_KINDS = ("throttle", "500", "503", "reset", "hang")
SIGNATURE_MISMATCH_MSG = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
S3_SIGNATURE_MISMATCH_MSG = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method."
)
INVALID_TOKEN_MSG = "The security token included in the request is invalid."
MAX_SKEW_S = 300
S3_MAX_SKEW_S = 900  # S3 allows 15 minutes (RequestTimeTooSkewed, MaxAllowedSkewMilliseconds)
MAX_LOG_ENTRIES = 100000
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")
# Global services accept only their partition's signing Region.
GLOBAL_SIGNING_REGIONS = {"iam": ("us-east-1", "cn-north-1", "us-gov-west-1"),
                          "organizations": ("us-east-1", "cn-northwest-1", "us-gov-west-1")}
# Organizations answers a parameter outside the model's constraints with InvalidInputException
# and a Reason; the reason and AWS's message for each kind of violation the core detects.
_ORGANIZATIONS_INVALID = (
    ("must not be null", "INPUT_REQUIRED", "You must specify a value for all required parameters."),
    ("regular expression pattern", "INVALID_PATTERN",
     "You provided a value that does not match the required pattern."),
    ("enum value set", "INVALID_ENUM", "You specified an invalid value."),
    ("value less than or equal", "MAX_VALUE_EXCEEDED",
     "You provided a value that exceeds the maximum allowed value."),
    ("value greater than or equal", "MIN_VALUE_EXCEEDED",
     "You provided a value that is less than the minimum allowed value."),
    ("length less than or equal", "MAX_LENGTH_EXCEEDED",
     "You provided a string parameter that is longer than allowed."),
    ("length greater than or equal", "MIN_LENGTH_EXCEEDED",
     "You provided a string parameter that is shorter than allowed."),
)


@functools.lru_cache(maxsize=4096)
def is_mutating(operation):
    if operation in NON_MUTATING:
        return False
    return operation.startswith(MUTATING_PREFIXES)


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def to_datetime(value):
    """datetime (naive = UTC), epoch number or ISO 8601 string -> aware UTC datetime."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", s):
            return datetime.datetime.fromtimestamp(float(s), datetime.timezone.utc)
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.datetime.fromisoformat(s)
        except ValueError:
            dt = email.utils.parsedate_to_datetime(value)
        return to_datetime(dt)
    raise ValueError("not a timestamp: %r" % (value,))


def iso8601(value):
    dt = to_datetime(value)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def epoch(value):
    dt = to_datetime(value)
    return round(dt.timestamp(), 3)


class AwsError(Exception):
    """An error answered to the client as AWS would, rendered by the core per protocol."""

    def __init__(self, code, message, status=None, sender_fault=True, fields=None, headers=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields
        self.headers = headers


# ---------------------------------------------------------------------------------------------
# Models

_model_lock = threading.Lock()
_models = {}
_botocore_session = None


def service_model(name):
    """botocore ServiceModel for a service name (newest API version installed)."""
    global _botocore_session
    with _model_lock:
        model = _models.get(name)
        if model is None:
            if _botocore_session is None:
                _botocore_session = botocore.session.get_session()
            additions, changes = MODEL_ADDITIONS.get(name), MODEL_CHANGES.get(name)
            if additions or changes:
                data = copy.deepcopy(_botocore_session.get_service_data(name))
                _add_missing(data, copy.deepcopy(additions or {}))
                _replace(data, copy.deepcopy(changes or {}))
                model = botocore.model.ServiceModel(data, service_name=name)
            else:
                model = _botocore_session.get_service_model(name)
            _models[name] = model
        return model


def _add_missing(data, additions):
    """Merges additions into data where data lacks them: dicts recursively, other values only
    where absent (what the model has is kept)."""
    for key, value in additions.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _add_missing(data[key], value)
        else:
            data.setdefault(key, value)


def _replace(data, changes):
    """Sets changes into data: dicts recursively, other values replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _replace(data[key], value)
        else:
            data[key] = value


@functools.lru_cache(maxsize=None)
def _operation_names(model):
    """model.operation_names (a list) as a set."""
    return frozenset(model.operation_names)


def _lower_first(name):
    return name[:1].lower() + name[1:]


class _Structure:
    """What parsing, validation and serialisation read of a structure shape's members:
      members  (name, shape, wire name, location, name in validation paths), in model order;
      by_wire  wire name -> member name."""

    __slots__ = ("members", "by_wire")

    def __init__(self, shape):
        self.members = tuple((name, m, m.serialization.get("name", name), m.serialization.get("location"),
                              _lower_first(name)) for name, m in shape.members.items())
        self.by_wire = {wire: name for name, _m, wire, _loc, _path in self.members}


_structures = {}  # structure Shape -> _Structure


def _structure(shape):
    """_Structure of a shape, computed once: botocore builds a model's shapes once and keeps them
    (the key holds the shape, so its id cannot be reused by another)."""
    info = _structures.get(shape)
    if info is None:
        info = _structures[shape] = _Structure(shape)
    return info


class _Invalid(Exception):
    """Raised inside parsing; carries the protocol-neutral kind and message."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind  # "type", "unknown", "constraint", "missing"
        self.message = message


_pattern_cache = {}


def _compiled_pattern(pattern):
    if pattern not in _pattern_cache:
        try:
            _pattern_cache[pattern] = re.compile(pattern, re.S)
        except re.error:
            _pattern_cache[pattern] = None
    return _pattern_cache[pattern]


def _fmt_value(value):
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray)):
        return "java.nio.HeapByteBuffer"
    if isinstance(value, (list, dict)):
        return "[...]"
    return "'%s'" % (value,)


def _check_constraints(shape, value, path, errors):
    """Collects AWS-style validation messages for required/length/range/pattern violations."""
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        for req in shape.required_members:
            if value.get(req) is None:
                errors.append(
                    "Value null at '%s' failed to satisfy constraint: Member must not be null"
                    % (path + "." + _lower_first(req) if path else _lower_first(req))
                )
        for mname, mval in value.items():
            mshape = shape.members.get(mname)
            if mshape is not None and mval is not None:
                sub = _lower_first(mname)
                _check_constraints(mshape, mval, path + "." + sub if path else sub, errors)
        return
    if t == "list":
        _check_length(meta, len(value), value, path, errors)
        for i, item in enumerate(value, 1):
            _check_constraints(shape.member, item, "%s.%d.member" % (path, i), errors)
        return
    if t == "map":
        _check_length(meta, len(value), value, path, errors)
        for k, v in value.items():
            _check_constraints(shape.value, v, "%s.%s.member" % (path, k), errors)
        return
    if t == "string":
        _check_length(meta, len(value), value, path, errors)
        pattern = meta.get("pattern")
        if pattern:
            rx = _compiled_pattern(pattern)
            if rx is not None and rx.fullmatch(value) is None:
                errors.append(
                    "Value %s at '%s' failed to satisfy constraint: Member must satisfy regular "
                    "expression pattern: %s" % (_fmt_value(value), path, pattern)
                )
        return
    if t == "blob":
        _check_length(meta, len(value), value, path, errors)
        return
    if t in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            errors.append(
                "Value %s at '%s' failed to satisfy constraint: Member must have value greater "
                "than or equal to %s" % (_fmt_value(value), path, meta["min"])
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                "Value %s at '%s' failed to satisfy constraint: Member must have value less "
                "than or equal to %s" % (_fmt_value(value), path, meta["max"])
            )


def _check_length(meta, n, value, path, errors):
    if "min" in meta and n < meta["min"]:
        errors.append(
            "Value %s at '%s' failed to satisfy constraint: Member must have length greater "
            "than or equal to %s" % (_fmt_value(value), path, meta["min"])
        )
    if "max" in meta and n > meta["max"]:
        errors.append(
            "Value %s at '%s' failed to satisfy constraint: Member must have length less than "
            "or equal to %s" % (_fmt_value(value), path, meta["max"])
        )


def _scalar_from_string(shape, text, path):
    """Text from a query form, URI, query string or header -> the shape's Python type."""
    t = shape.type_name
    try:
        if t == "string":
            return text
        if t in ("integer", "long"):
            return int(text)
        if t in ("float", "double"):
            return float(text)
        if t == "boolean":
            low = text.lower()
            if low not in ("true", "false"):
                raise ValueError(text)
            return low == "true"
        if t == "timestamp":
            return to_datetime(text)
        if t == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, TypeError, OverflowError, base64.binascii.Error):
        raise _Invalid("type", "Value '%s' at '%s' is not a valid %s" % (text, path, t))
    raise _Invalid("type", "Value at '%s' cannot be given as text" % path)


def _json_value(shape, value, path):
    """JSON value -> Python value of the shape, type-checked; unknown members refused."""
    t = shape.type_name
    if value is None:
        return None
    if shape.metadata.get("document"):
        return value  # a document member holds any JSON value
    if t == "structure":
        if not isinstance(value, dict):
            raise _Invalid("type", "Expected an object at '%s'" % (path or "body"))
        by_wire_name = _structure(shape).by_wire
        out = {}
        for k, v in value.items():
            name = by_wire_name.get(k)
            mshape = shape.members.get(name) if name else None
            if mshape is None or mshape.serialization.get("location"):
                raise _Invalid("unknown", "Unrecognized field \"%s\"" % k)
            out[name] = _json_value(mshape, v, path + "." + _lower_first(name) if path else _lower_first(name))
        return out
    if t == "list":
        if not isinstance(value, list):
            raise _Invalid("type", "Expected a list at '%s'" % path)
        return [_json_value(shape.member, v, "%s.%d.member" % (path, i)) for i, v in enumerate(value, 1)]
    if t == "map":
        if not isinstance(value, dict):
            raise _Invalid("type", "Expected an object at '%s'" % path)
        return {k: _json_value(shape.value, v, "%s.%s" % (path, k)) for k, v in value.items()}
    if t == "string":
        if shape.serialization.get("jsonvalue") and not isinstance(value, str):
            return json.dumps(value)
        if not isinstance(value, str):
            raise _Invalid("type", "Expected a string at '%s'" % path)
        return value
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise _Invalid("type", "Expected an integer at '%s'" % path)
        return value
    if t in ("float", "double"):
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            return float(value.replace("Infinity", "inf"))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid("type", "Expected a number at '%s'" % path)
        return float(value)
    if t == "boolean":
        if not isinstance(value, bool):
            raise _Invalid("type", "Expected a boolean at '%s'" % path)
        return value
    if t == "timestamp":
        try:
            return to_datetime(value)
        except (ValueError, TypeError, OverflowError):
            raise _Invalid("type", "Expected a timestamp at '%s'" % path)
    if t == "blob":
        if not isinstance(value, str):
            raise _Invalid("type", "Expected a base64 string at '%s'" % path)
        try:
            return base64.b64decode(value, validate=True)
        except (ValueError, base64.binascii.Error):
            raise _Invalid("type", "Invalid base64 at '%s'" % path)
    return value


def _xml_tag(element):
    """An element's name without its namespace."""
    return element.tag.rpartition("}")[2]


def _xml_in(shape, element, path):
    """restXml request element -> Python value of the shape, type-checked; elements the shape
    does not have are refused (S3: MalformedXML). Lists and maps as botocore's RestXMLSerializer
    writes them: wrapped in the member's element (items named as the list member says, else
    "member"; map entries "entry") or, flattened, repeated under the member's own name."""
    t = shape.type_name
    if t == "structure":
        info = _structure(shape)
        out = {}
        for child in element:
            tag = _xml_tag(child)
            name = info.by_wire.get(tag)
            mshape = shape.members.get(name) if name else None
            if mshape is None or mshape.serialization.get("location"):
                raise _Invalid("unknown", "Unexpected element <%s>" % tag)
            sub = path + "." + _lower_first(name) if path else _lower_first(name)
            if mshape.serialization.get("flattened") and mshape.type_name == "list":
                items = out.setdefault(name, [])
                items.append(_xml_in(mshape.member, child, "%s.%d.member" % (sub, len(items) + 1)))
            elif mshape.serialization.get("flattened") and mshape.type_name == "map":
                out.setdefault(name, {}).update(_xml_map_entry(mshape, child, sub))
            else:
                out[name] = _xml_in(mshape, child, sub)
        return out
    if t == "list":
        item = shape.member.serialization.get("name", "member")
        items = []
        for child in element:
            if _xml_tag(child) != item:
                raise _Invalid("unknown", "Unexpected element <%s>" % _xml_tag(child))
            items.append(_xml_in(shape.member, child, "%s.%d.member" % (path, len(items) + 1)))
        return items
    if t == "map":
        out = {}
        for child in element:
            if _xml_tag(child) != "entry":
                raise _Invalid("unknown", "Unexpected element <%s>" % _xml_tag(child))
            out.update(_xml_map_entry(shape, child, path))
        return out
    if len(element):
        raise _Invalid("type", "Value at '%s' is not a valid %s" % (path, t))
    text = element.text or ""
    return text if t == "string" else _scalar_from_string(shape, text.strip(), path)


def _xml_map_entry(shape, element, path):
    """One map entry element (its key and value children) -> {key: value}."""
    kname = shape.key.serialization.get("name", "key")
    vname = shape.value.serialization.get("name", "value")
    key = value = None
    for child in element:
        if _xml_tag(child) == kname:
            key = _xml_in(shape.key, child, path)
        elif _xml_tag(child) == vname:
            value = _xml_in(shape.value, child, "%s.%s" % (path, key))
        else:
            raise _Invalid("unknown", "Unexpected element <%s>" % _xml_tag(child))
    if key is None:
        raise _Invalid("type", "Map entry without a key at '%s'" % path)
    return {key: value}


def _xml_document(body, root_name):
    """A restXml request body -> its root element, which must be named root_name."""
    try:
        root = xml.etree.ElementTree.fromstring(body)
    except xml.etree.ElementTree.ParseError:
        raise _Invalid("unknown", "The XML is not well-formed")
    if _xml_tag(root) != root_name:
        raise _Invalid("unknown", "Unexpected root element <%s>" % _xml_tag(root))
    return root


class _QueryParser:
    """awsQuery form parameters (flat dict) -> params per the input shape."""

    def __init__(self, flat):
        self.flat = flat
        self.used = set()

    def _has_prefix(self, prefix):
        dotted = prefix + "."
        return any(k == prefix or k.startswith(dotted) for k in self.flat)

    def parse(self, shape, prefix, path):
        t = shape.type_name
        if t == "structure":
            if prefix and not self._has_prefix(prefix):
                return None
            if prefix in self.flat and self.flat[prefix] == "":
                self.used.add(prefix)
            out = {}
            for mname, mshape, key, _loc, pname in _structure(shape).members:
                sub = prefix + "." + key if prefix else key
                v = self.parse(mshape, sub, path + "." + pname if path else pname)
                if v is not None:
                    out[mname] = v
            return out
        if t == "list":
            if prefix in self.flat and self.flat[prefix] == "":
                self.used.add(prefix)
                return []
            if shape.serialization.get("flattened"):
                list_prefix = prefix
                if shape.member.serialization.get("name"):
                    list_prefix = ".".join(prefix.split(".")[:-1] + [shape.member.serialization["name"]])
            else:
                list_prefix = prefix + "." + shape.member.serialization.get("name", "member")
            items = []
            i = 1
            while self._has_prefix("%s.%d" % (list_prefix, i)):
                items.append(self.parse(shape.member, "%s.%d" % (list_prefix, i), "%s.%d.member" % (path, i)))
                i += 1
            return items if items else None
        if t == "map":
            if prefix in self.flat and self.flat[prefix] == "":
                self.used.add(prefix)
                return {}
            full = prefix if shape.serialization.get("flattened") else prefix + ".entry"
            kname = shape.key.serialization.get("name", "key")
            vname = shape.value.serialization.get("name", "value")
            out = {}
            i = 1
            while self._has_prefix("%s.%d" % (full, i)):
                k = self.parse(shape.key, "%s.%d.%s" % (full, i, kname), path)
                v = self.parse(shape.value, "%s.%d.%s" % (full, i, vname), path)
                if k is None:
                    raise _Invalid("type", "Map entry without a key at '%s'" % path)
                out[k] = v
                i += 1
            return out if out else None
        if prefix not in self.flat:
            return None
        self.used.add(prefix)
        return _scalar_from_string(shape, self.flat[prefix], path)


def _split_header_list(value):
    """'a, "b,c", d' -> ["a", "b,c", "d"] (HTTP list header with quoted items)."""
    items, cur, quoted, escaped = [], "", False, False
    for ch in value:
        if escaped:
            cur += ch
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    items.append(cur.strip())
    return [i for i in items if i != ""] if value.strip() else []


def _uri_regex(template):
    """Lambda-style requestUri template -> (regex, [(label, greedy)], literal length)."""
    path = template.split("?", 1)[0]
    labels = []
    out = ""
    literal = 0
    pos = 0
    for m in re.finditer(r"\{([^}]+)\}", path):
        lit = path[pos:m.start()]
        out += re.escape(lit)
        literal += len(lit)
        name = m.group(1)
        greedy = name.endswith("+")
        name = name.rstrip("+")
        labels.append(name)
        out += "(.+)" if greedy else "([^/]+)"
        pos = m.end()
    lit = path[pos:]
    out += re.escape(lit)
    literal += len(lit)
    if out.endswith("/") and len(out) > 1:
        out = out[:-1]
    return re.compile("^" + out + "/?$"), labels, literal


class _RestRouter:
    """An operation from method, path, query and headers per the model's requestUri templates:
    the most literal template first, then the one fixing more of the query (S3's
    `/{Bucket}?versioning` before `/{Bucket}`; a fixed value must match: `?list-type=2`), then
    the one requiring more query or header members, taken when the request has them all (S3's
    UploadPartCopy, UploadPart and CopyObject before PutObject, all `PUT /{Bucket}/{Key+}` in
    botocore 1.29's model); failing that, the first template that matches (whose validation then
    names what is missing)."""

    def __init__(self, model):
        routes = []
        for name in model.operation_names:
            op = model.operation_model(name)
            rx, labels, literal = _uri_regex(op.http["requestUri"])
            fixed_query = {}
            if "?" in op.http["requestUri"]:
                fixed_query = {k: v[0] for k, v in urllib.parse.parse_qs(
                    op.http["requestUri"].split("?", 1)[1], keep_blank_values=True).items()}
            required = ()
            if op.input_shape is not None:
                required = tuple((ref.serialization["location"], ref.serialization.get("name", member))
                                 for member, ref in op.input_shape.members.items()
                                 if member in op.input_shape.required_members and
                                 ref.serialization.get("location") in ("querystring", "header"))
            routes.append((op.http["method"], rx, labels, literal, fixed_query, required, name))
        routes.sort(key=lambda r: (-r[3], -len(r[4]), -len(r[5])))
        self.routes = {}  # method -> [(regex, labels, fixed query, required members, operation)]
        for method, rx, labels, _literal, fixed_query, required, name in routes:
            self.routes.setdefault(method, []).append((rx, labels, fixed_query, required, name))

    def match(self, method, raw_path, query, headers=None):
        fallback = (None, None)
        for rx, labels, fixed_query, required, name in self.routes.get(method, ()):
            mm = rx.match(raw_path)
            if mm is None:
                continue
            if any(k not in query or (v and query[k][0] != v) for k, v in fixed_query.items()):
                continue
            values = {label: urllib.parse.unquote(mm.group(i + 1)) for i, label in enumerate(labels)}
            if all(wire in query if loc == "querystring" else headers is None or wire in headers
                   for loc, wire in required):
                return name, values
            if fallback[0] is None:
                fallback = (name, values)
        return fallback


# ---------------------------------------------------------------------------------------------
# Request context


class Ctx:
    """One per request: who is calling, where, and what."""

    def __init__(self, emu, account, region, service, operation, principal_arn, role_arn,
                 request_id, protocol=None, access_key=None):
        self.emu = emu
        self.account = account
        self.region = region
        self.partition = partition_of(region)
        self.service = service
        self.operation = operation
        self.principal_arn = principal_arn
        self.role_arn = role_arn
        self.request_id = request_id
        self.protocol = protocol or service_model(service).metadata["protocol"]
        self.access_key = access_key

    def arn(self, service, resource, region=None, account=None):
        return "arn:%s:%s:%s:%s:%s" % (
            self.partition, service, self.region if region is None else region,
            self.account if account is None else account, resource)

    def access_denied(self, action, resource_arn, explicit=False, message=None):
        if message is None:
            if explicit:
                why = "with an explicit deny in an identity-based policy"
            else:
                why = "because no identity-based policy allows the %s action" % action
            # S3 quotes the resource (its access-denied messages of 2024 on)
            resource = '"%s"' % resource_arn if self.protocol == "rest-xml" else resource_arn
            message = "User: %s is not authorized to perform: %s on resource: %s %s" % (
                self.principal_arn, action, resource, why)
        if self.protocol in ("query", "rest-xml"):
            return AwsError("AccessDenied", message, status=403)
        if self.protocol == "rest-json":
            return AwsError("AccessDeniedException", message, status=403)
        return AwsError("AccessDeniedException", message, status=400)

    def caller(self):
        """The caller as a resource policy is evaluated against (iam.evaluate_resource_policy)."""
        return {"account": self.account, "arn": self.role_arn or self.principal_arn,
                "session_arn": self.principal_arn}

    def condition_context(self, conditions=None):
        cond = {
            "aws:PrincipalArn": self.role_arn or self.principal_arn,
            "aws:PrincipalAccount": self.account,
            "aws:RequestedRegion": self.region,
            "aws:PrincipalType": "AssumedRole" if self.role_arn else "Account",
        }
        cond.update(self.emu.principal_org_keys(self.account))
        cond.update(conditions or {})
        return cond

    def authorize(self, action, resource_arn, conditions=None):
        """No-op for account root keys; for assumed roles evaluates the role's identity policies
        and raises this protocol's AccessDenied error unless allowed."""
        if self.role_arn is None:
            return
        iam = self.emu.services["iam"]
        decision = iam.evaluate(self.account, self.role_arn, action, resource_arn,
                                self.condition_context(conditions))
        if decision != "allow":
            raise self.access_denied(action, resource_arn, explicit=(decision == "deny"))


# ---------------------------------------------------------------------------------------------
# Background work


class WorkQueue:
    """A small worker pool whose idleness can be awaited (POST /_emu/wait-idle).

    Delays are in emulated AWS time (``clock``, the emulator's clock): a task submitted with
    delay_s is due at clock() + delay_s. Between clock advances AWS time runs with the real clock,
    so a delay lasts as long as it says; when POST /_emu/clock moves the clock, the tasks it moves
    past become due at once (release_due), in due-time order, as the advance reaches them."""

    def __init__(self, workers=8, clock=time.time):
        self._clock = clock
        self._cv = threading.Condition()
        self._queue = collections.deque()    # (generation, fn, args) ready to run
        self._delayed = []                   # heap of (due, seq, generation, fn, args)
        self._seq = 0
        self._pending = 0                    # queued + running + delayed, of this generation
        self._generation = 0
        self._stopping = False
        self._threads = []
        for i in range(workers):
            th = threading.Thread(target=self._run, name="emu-worker-%d" % i, daemon=True)
            th.start()
            self._threads.append(th)
        th = threading.Thread(target=self._run_timers, name="emu-timers", daemon=True)
        th.start()
        self._threads.append(th)

    def submit(self, fn, *args, delay_s=0.0):
        with self._cv:
            self._pending += 1
            if delay_s and delay_s > 0:
                self._seq += 1
                heapq.heappush(self._delayed, (self._clock() + delay_s, self._seq, self._generation,
                                               fn, args))
            else:
                self._queue.append((self._generation, fn, args))
            self._cv.notify_all()

    def _release_due_locked(self):
        now = self._clock()
        released = False
        while self._delayed and self._delayed[0][0] <= now:
            _due, _seq, gen, fn, args = heapq.heappop(self._delayed)
            self._queue.append((gen, fn, args))
            released = True
        if released:
            self._cv.notify_all()

    def release_due(self):
        """Queue the delayed tasks whose due time the clock has reached (after it moved)."""
        with self._cv:
            self._release_due_locked()
            self._cv.notify_all()  # the timer thread re-reads the clock too

    def next_due(self):
        """Due time of the earliest delayed task, or None."""
        with self._cv:
            return self._delayed[0][0] if self._delayed else None

    def _run_timers(self):
        with self._cv:
            while not self._stopping:
                self._release_due_locked()
                if self._delayed:
                    # the clock may also jump forward: release_due() wakes this thread
                    self._cv.wait(min(max(self._delayed[0][0] - self._clock(), 0.001), 1.0))
                else:
                    self._cv.wait()

    def _run(self):
        while True:
            with self._cv:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                gen, fn, args = self._queue.popleft()
                stale = gen != self._generation
            try:
                if not stale:
                    fn(*args)
            except Exception:  # noqa: BLE001 - background work must not kill the worker
                sys.stderr.write("emulator: background task failed:\n" + traceback.format_exc())
            finally:
                with self._cv:
                    if gen == self._generation:
                        self._pending -= 1
                    self._cv.notify_all()

    def busy(self):
        with self._cv:
            return self._pending

    def wait_idle(self, timeout_s):
        """Until no work is queued, running or delayed (delayed work waits for its due time)."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == 0, timeout_s)

    def wait_ready(self, timeout_s):
        """Until no work is queued or running; delayed work not yet due does not count."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == len(self._delayed), timeout_s)

    def reset(self):
        with self._cv:
            self._generation += 1
            self._pending = 0
            self._delayed = []  # not started: dropped
            self._cv.notify_all()

    def stop(self):
        with self._cv:
            self._stopping = True
            self._cv.notify_all()


# ---------------------------------------------------------------------------------------------
# SigV4


class _Verifier(botocore.auth.SigV4Auth):
    """botocore's SigV4 signer restricted to the headers the client said it signed."""

    def __init__(self, credentials, service_name, region_name, signed_headers):
        super().__init__(credentials, service_name, region_name)
        self._signed_names = signed_headers

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name in self._signed_names:
            values = request.headers.get_all(name) if hasattr(request.headers, "get_all") else None
            if values:
                header_map[name] = ",".join(v.strip() for v in values)
            else:
                header_map[name] = request.headers.get(name, "")
        return header_map


class _S3Verifier(_Verifier, botocore.auth.S3SigV4Auth):
    """_Verifier with S3SigV4Auth's canonical URI: the path as sent, neither normalised nor
    encoded again."""


def _botocore_canonical(method, raw_path, raw_query, headers, body, access_key, secret, token,
                        signing_name, region, signed_names, amz_date):
    """(canonical request, string to sign, signature) as botocore computes them for a request as
    received on the wire, through botocore's own request and header objects (S3SigV4Auth's rules
    for S3): the reference that signature_parts' fast path is checked against
    (EMU_SIGV4_CROSSCHECK=1)."""
    url = "http://%s%s" % (headers.get("Host", "localhost"), raw_path)
    if raw_query:
        url += "?" + raw_query
    hdrs = HTTPHeaders()
    for name in signed_names:
        for value in headers.get_all(name) or []:
            hdrs[name] = value
    # SigV4Auth takes the payload hash from this header when the request has it; unsigned, it is
    # added here for that alone (signed, it is there once already: HTTPHeaders would repeat it)
    if headers.get("X-Amz-Content-SHA256") is not None and "X-Amz-Content-SHA256" not in hdrs:
        hdrs["X-Amz-Content-SHA256"] = headers.get("X-Amz-Content-SHA256")
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=hdrs)
    request.context["timestamp"] = amz_date
    creds = botocore.credentials.Credentials(access_key, secret, token)
    verifier = _S3Verifier if signing_name == "s3" else _Verifier
    signer = verifier(creds, signing_name, region, signed_names)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    return canonical, string_to_sign, signer.signature(string_to_sign, request)


@functools.lru_cache(maxsize=1024)
def _signing_key(secret, day, region, service):
    """The signing key of SigV4Auth.signature (four HMACs), the same for a day of requests."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


# SigV4Auth._normalize_url_path (remove_dot_segments, then quote): botocore's, memoised per path.
_normalize_url_path = functools.lru_cache(maxsize=1024)(
    botocore.auth.SigV4Auth(None, "", "")._normalize_url_path)

# EMU_SIGV4_CROSSCHECK=1: compute every signature both ways and fail the request (500, with the
# difference on stderr) when they differ. Run the emulator's test suites so to check the fast path.
SIGV4_CROSSCHECK = os.environ.get("EMU_SIGV4_CROSSCHECK") == "1"


def expected_signature(method, raw_path, raw_query, headers, body, access_key, secret, token,
                       signing_name, region, signed_names, amz_date):
    """The SigV4 signature botocore computes for a request as received on the wire (see
    signature_parts)."""
    return signature_parts(method, raw_path, raw_query, headers, body, access_key, secret, token,
                           signing_name, region, signed_names, amz_date)[2]


def signature_parts(method, raw_path, raw_query, headers, body, access_key, secret, token,
                    signing_name, region, signed_names, amz_date):
    """(canonical request, string to sign, signature) as botocore computes them for a request as
    received on the wire. headers: a case-insensitive mapping with get/get_all (_Headers,
    email.message.Message).

    What _botocore_canonical computes with botocore's AWSRequest, HTTPHeaders (an
    email.message.Message, slow) and SigV4Auth, step by step as SigV4Auth does it: the URL split
    and path normalisation are botocore's (memoised; for S3, S3SigV4Auth's: the path as sent),
    the query, header lines, signed-headers list, payload hash (an X-Amz-Content-SHA256 header's
    value when the request has one, as SigV4Auth takes it), string to sign and signature are
    SigV4Auth's expressions over the headers as received. Signed names repeated (in any case),
    for which botocore's header objects keep entries of their own, go to _botocore_canonical.
    EMU_SIGV4_CROSSCHECK=1 compares every fast-path result with _botocore_canonical's."""
    lowered = [n.lower() for n in signed_names]
    if len(set(lowered)) != len(lowered):
        return _botocore_canonical(method, raw_path, raw_query, headers, body, access_key, secret,
                                   token, signing_name, region, signed_names, amz_date)
    url = "http://%s%s" % (headers.get("Host", "localhost"), raw_path)
    if raw_query:
        url += "?" + raw_query
    parts = urllib.parse.urlsplit(url)
    query = ""
    if parts.query:  # SigV4Auth._canonical_query_string_url
        query = "&".join(["%s=%s" % kv for kv in sorted(p.partition("=")[::2] for p in parts.query.split("&"))])
    header_lines = []
    for name in sorted(signed_names):  # _Verifier.headers_to_sign, SigV4Auth.canonical_headers
        values = headers.get_all(name)
        value = ",".join([v.strip() for v in values]) if values else ""
        header_lines.append("%s:%s\n" % (name, " ".join(value.split())))
    path = parts.path if signing_name == "s3" else _normalize_url_path(parts.path)
    payload_hash = headers.get("X-Amz-Content-SHA256")
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    canonical = "\n".join((method.upper(), path, query, "".join(header_lines),
                           ";".join(sorted([n.strip() for n in lowered])), payload_hash))
    day = amz_date[0:8]
    string_to_sign = "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s" % (
        amz_date, day, region, signing_name, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    signature = hmac.new(_signing_key(secret, day, region, signing_name), string_to_sign.encode("utf-8"),
                         "sha256").hexdigest()
    if SIGV4_CROSSCHECK:
        reference = _botocore_canonical(method, raw_path, raw_query, headers, body, access_key,
                                        secret, token, signing_name, region, signed_names, amz_date)
        if reference != (canonical, string_to_sign, signature):
            raise AssertionError("SigV4 fast path differs from botocore's:\n%r\n%r"
                                 % ((canonical, string_to_sign, signature), reference))
    return canonical, string_to_sign, signature


_AMZ_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")


def _amz_date_epoch(amz_date):
    """datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ") in UTC as epoch seconds; ValueError when it
    does not parse. The usual form, 8 + 6 ASCII digits, is cut into its fields (strptime can only
    read it that way, and refuses out-of-range fields as datetime() does); any other string, such
    as the 1-digit fields or lower-case letters strptime also takes, goes to strptime."""
    if _AMZ_DATE_RE.fullmatch(amz_date):
        dt = datetime.datetime(int(amz_date[0:4]), int(amz_date[4:6]), int(amz_date[6:8]),
                               int(amz_date[9:11]), int(amz_date[11:13]), int(amz_date[13:15]),
                               tzinfo=datetime.timezone.utc)
    else:
        dt = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$")


class Reply:
    def __init__(self, status, headers, body, action=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.action = action  # None, "reset", "hang"


# ---------------------------------------------------------------------------------------------
# The emulator


_request_id_random = random.Random()  # seeded from os.urandom once


class Emulator:
    def __init__(self, accounts, iam_propagation_ms=0, latency_ms=0, jitter_ms=0, fault_rate=0.0,
                 seed=None, fault_kinds=None, hang_s=10.0, workers=8, options=None,
                 sqs_name_reuse_wait_s=0.0):
        self.lock = threading.RLock()
        self.accounts = list(accounts)
        self.url = None
        self.options = dict(options or {})
        self.iam_propagation_s = iam_propagation_ms / 1000.0
        # AWS refuses a deleted queue's name for 60 s; like IAM propagation, timing is opt-in
        self.sqs_name_reuse_wait_s = float(sqs_name_reuse_wait_s)
        self._keys = {}  # access key -> {account, secret, token, role_arn, principal_arn, expires}
        self.root_keys = {}
        for acct in self.accounts:
            digest = hashlib.sha256(("emu-key:" + acct).encode()).digest()
            ak = "AKIA" + base64.b32encode(digest).decode()[:16]
            secret = base64.b64encode(hashlib.sha256(("emu-secret:" + acct).encode()).digest()).decode()[:40]
            self._keys[ak] = {"account": acct, "secret": secret, "token": None, "role_arn": None,
                              "principal_arn": None, "expires": None}
            self.root_keys[acct] = (ak, secret)
        self._log_lock = threading.Lock()
        self._log = []
        self._failed = []
        # AWS requests being handled: a client killed mid-request leaves its request running
        # here, and POST /_emu/wait-idle {"requests": true} waits for it to finish
        self._in_flight = 0
        self._in_flight_cv = threading.Condition()
        self._fault_lock = threading.Lock()
        self.faults = {"latency_ms": latency_ms, "jitter_ms": jitter_ms, "fault_rate": fault_rate,
                       "seed": seed, "kinds": list(fault_kinds or FAULT_KINDS), "hang_s": hang_s,
                       "clock_skew_s": 0.0}
        self._rng = random.Random(seed)
        # AWS time (now()) is the real clock plus _offset, which POST /_emu/clock only moves
        # forward (POST /_emu/reset sets it back to 0). One advance at a time (_clock_lock); a
        # reset during an advance ends it (_clock_epoch).
        self._offset = 0.0
        self._clock_lock = threading.Lock()
        self._offset_lock = threading.Lock()  # _offset and _clock_epoch change together
        self._clock_epoch = 0
        self.queue = WorkQueue(workers, clock=self._aws_clock)
        self._rest_routers = {}
        self._models = {name: service_model(name) for name in SERVICE_NAMES}
        self._target_prefix = {}
        for name, model in self._models.items():
            if model.metadata["protocol"] == "json":
                self._target_prefix[model.metadata["targetPrefix"]] = name
            elif model.metadata["protocol"] in ("rest-json", "rest-xml"):
                self._rest_routers[name] = _RestRouter(model)
        self._signing_names = {
            model.metadata.get("signingName", model.metadata["endpointPrefix"]): name
            for name, model in self._models.items()}
        self.services = {}
        self.control_routes = {}
        for name in SERVICE_NAMES:
            cls = _find_service_class(name)
            if cls is not None:
                self.services[name] = cls(self)
        for svc in self.services.values():
            routes = getattr(svc, "control_routes", None)
            if routes is not None:
                self.control_routes.update(routes())

    # -- helpers for services ---------------------------------------------------------------

    def now(self):
        """AWS time, epoch seconds: the real clock plus what POST /_emu/clock advanced. Everything
        AWS stamps (creation times, event times, deletion dates) reads it."""
        return time.time() + self._offset

    def _aws_clock(self):
        # now() as the work queue reads it: tests replace emu.now to fake a moment, which must
        # not strand delayed work days away when they put it back
        return time.time() + self._offset

    def auth_now(self):
        """The clock of authentication: signatures' time checks and temporary credentials'
        expiry. The real clock (plus the clock_skew_s fault), not now(): moving AWS time on by
        days must not expire every session a client or a Lambda environment holds, whose SDKs
        refresh credentials by the real clock."""
        return time.time() + self.faults["clock_skew_s"]

    def new_request_id(self):
        # A random version-4 UUID as uuid.uuid4() makes, but not from os.urandom: that system
        # call releases the GIL, a thread switch per request when many threads are busy.
        return str(uuid.UUID(int=_request_id_random.getrandbits(128), version=4))

    def submit(self, fn, *args, delay_s=0.0):
        self.queue.submit(fn, *args, delay_s=delay_s)

    def record_failed_delivery(self, d):
        with self._log_lock:
            entry = dict(d)
            entry.setdefault("time", self.now())
            self._failed.append(entry)

    def principal_org_keys(self, account):
        """aws:PrincipalOrgID and aws:PrincipalOrgPaths of a principal of `account` when the
        account belongs to the organisation (emu/organizations.py), else {}: every condition
        context of a caller gets them from here."""
        org = self.services.get("organizations")
        return org.principal_org(account) if org is not None and account else {}

    def root_principal(self, account, region="us-east-1"):
        return "arn:%s:iam::%s:root" % (partition_of(region), account)

    def credentials_for_role(self, account, role_arn, session_name, duration_s=3600):
        """Temporary credentials whose requests arrive with ctx.role_arn = role_arn."""
        ak = "ASIA" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        secret = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()[:40]
        token = base64.b64encode(b"emu-session:" + uuid.uuid4().bytes * 4).decode()
        if role_arn is None:  # GetSessionToken: a session of the account root
            principal = self.root_principal(account)
        else:
            role_name = role_arn.rsplit("/", 1)[-1]
            partition = role_arn.split(":")[1] if role_arn.startswith("arn:") else "aws"
            principal = "arn:%s:sts::%s:assumed-role/%s/%s" % (partition, account, role_name, session_name)
        expires = self.auth_now() + duration_s
        with self.lock:
            self._keys[ak] = {"account": account, "secret": secret, "token": token, "temporary": True,
                              "role_arn": role_arn, "principal_arn": principal, "expires": expires}
        return {"AccessKeyId": ak, "SecretAccessKey": secret, "SessionToken": token,
                "Expiration": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc),
                "AssumedRoleArn": principal}

    def credentials_for_admin(self, account, principal_arn, duration_s=3600):
        """Temporary credentials of a principal with every right in `account` that is no IAM
        role of it (CloudFormation StackSets' execution sessions): requests arrive with
        ctx.role_arn None, as the account root's do, and ctx.principal_arn = principal_arn."""
        ak = "ASIA" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        secret = base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()[:40]
        token = base64.b64encode(b"emu-admin:" + uuid.uuid4().bytes * 4).decode()
        expires = self.auth_now() + duration_s
        with self.lock:
            self._keys[ak] = {"account": account, "secret": secret, "token": token, "temporary": True,
                              "role_arn": None, "principal_arn": principal_arn, "expires": expires}
        return {"AccessKeyId": ak, "SecretAccessKey": secret, "SessionToken": token}

    def key_info(self, access_key):
        with self.lock:
            info = self._keys.get(access_key)
            return dict(info) if info else None

    def write_credentials_file(self, path):
        lines = []
        for acct in self.accounts:
            ak, secret = self.root_keys[acct]
            lines += ["[%s]" % acct, "aws_access_key_id = %s" % ak,
                      "aws_secret_access_key = %s" % secret, ""]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))

    # -- control API -----------------------------------------------------------------------

    def reset(self):
        self.queue.reset()
        with self._offset_lock:
            self._clock_epoch += 1  # an advance in progress stops
            self._offset = 0.0
        with self.lock:
            for svc in self.services.values():
                svc.reset()
            # Temporary credentials are state too; root keys stay.
            self._keys = {k: v for k, v in self._keys.items() if not v.get("temporary")}
        with self._log_lock:
            self._log = []
            self._failed = []

    def shutdown(self):
        """Stop the background workers and whatever services keep running (Lambda's warm
        execution environments)."""
        self.queue.stop()
        for svc in self.services.values():
            stop = getattr(svc, "shutdown", None)
            if stop is not None:
                stop()

    # -- AWS time --------------------------------------------------------------------------

    def _move_clock(self, t, epoch):
        """AWS time becomes t unless it is already later (the offset only moves forward), if no
        reset came since the advance began (epoch)."""
        with self._offset_lock:
            offset = t - time.time()
            if epoch == self._clock_epoch and offset > self._offset:
                self._offset = offset

    def _clock_hooks(self):
        """Let services apply what the passing of AWS time does (expiries) at now()."""
        with self.lock:
            now = self.now()
            for svc in self.services.values():
                hook = getattr(svc, "on_clock", None)
                if hook is not None:
                    hook(now)

    def advance_clock(self, seconds, timeout_s=300.0, max_fires=1):
        """Move AWS time on by `seconds`, living through it in time order: each service's timed
        work (clock_work: EventBridge schedules) at its time, each delayed background task
        (emu.submit(delay_s=)) when its due time comes, expiries (on_clock) at every step; after
        each step the work it queued runs to completion (wait_ready). Then waits, as
        /_emu/wait-idle does, for all background work. A service's clock_work(t0, t1, max_fires)
        returns ([(time, fn)], coalesced count); fn(time) is called with the clock at time.
        Returns (idle: bool, stats)."""
        deadline = time.time() + timeout_s

        def left():
            return max(0.0, deadline - time.time())

        stats = {"fired": 0, "coalesced": 0}
        with self._clock_lock:
            epoch = self._clock_epoch
            if not self.queue.wait_ready(left()):
                return False, stats
            t0 = self._aws_clock()
            t1 = t0 + seconds
            work = []
            with self.lock:
                for svc in self.services.values():
                    clock_work = getattr(svc, "clock_work", None)
                    if clock_work is not None:
                        items, coalesced = clock_work(t0, t1, max_fires)
                        work.extend(items)
                        stats["coalesced"] += coalesced
            work.sort(key=lambda item: item[0])  # stable: same-time work in service order
            i = 0
            while epoch == self._clock_epoch:
                t_work = work[i][0] if i < len(work) else None
                t_due = self.queue.next_due()
                steps = [t for t in (t_work, t_due) if t is not None and t <= t1]
                if not steps:
                    break
                t = min(steps)
                self._move_clock(t, epoch)
                self._clock_hooks()
                self.queue.release_due()
                while i < len(work) and work[i][0] <= t:
                    work[i][1](work[i][0])
                    stats["fired"] += 1
                    i += 1
                if not self.queue.wait_ready(left()):
                    return False, stats
            if epoch != self._clock_epoch:  # a reset ended it
                return True, stats
            self._move_clock(t1, epoch)
            self._clock_hooks()
            self.queue.release_due()
            return self.queue.wait_idle(left()), stats

    def _control_clock(self, method, data):
        if method == "GET":
            return 200, {"now": self.now(), "offset_s": self._offset}
        try:
            seconds = float(data["advance_s"])
            timeout_s = float(data.get("timeout_s", 300))
            max_fires = int(data.get("max_fires_per_rule", self.options.get("schedule_max_fires", 1)))
        except KeyError:
            return 400, {"error": "advance_s (seconds, >= 0) is required"}
        except (TypeError, ValueError):
            return 400, {"error": "advance_s, timeout_s and max_fires_per_rule must be numbers"}
        if not (0 <= seconds < float("inf")) or not timeout_s > 0 or max_fires < 0:
            return 400, {"error": "advance_s must be >= 0 (AWS time only moves forward), "
                                  "timeout_s > 0, max_fires_per_rule >= 0 (0: every period)"}
        idle, stats = self.advance_clock(seconds, timeout_s, max_fires)
        out = {"now": self.now()}
        out.update(stats)
        if not idle:
            out.update({"idle": False, "pending": self.queue.busy(),
                        "error": "background work did not finish within timeout_s"})
            return 408, out
        return 200, out

    def inventory(self):
        items = []
        with self.lock:
            for name, svc in self.services.items():
                for item in svc.inventory():
                    entry = {"service": name}
                    entry.update(item)
                    items.append(entry)
        items.sort(key=lambda e: (e.get("account", ""), e.get("region", ""), e["service"],
                                  e.get("type", ""), e.get("id", "")))
        return items

    def set_faults(self, body):
        with self._fault_lock:
            for key in ("latency_ms", "jitter_ms", "fault_rate", "hang_s", "clock_skew_s"):
                if key in body:
                    self.faults[key] = float(body[key])
            if "kinds" in body:
                kinds = [str(k) for k in body["kinds"]]
                bad = [k for k in kinds if k not in FAULT_KINDS]
                if bad or not kinds:
                    raise ValueError("unknown fault kinds %s (known: %s)" % (bad, list(FAULT_KINDS)))
                self.faults["kinds"] = kinds
            if "seed" in body:
                self.faults["seed"] = body["seed"]
                self._rng = random.Random(body["seed"])
            return dict(self.faults)

    def _draw_fault(self):
        with self._fault_lock:
            f = self.faults
            delay = f["latency_ms"] / 1000.0
            if f["jitter_ms"]:
                delay += self._rng.uniform(0, f["jitter_ms"]) / 1000.0
            kind = None
            if f["fault_rate"] and self._rng.random() < f["fault_rate"]:
                kind = f["kinds"][self._rng.randrange(len(f["kinds"]))]
            return delay, kind, f["hang_s"]

    def control(self, method, path, query, body):
        """Unsigned JSON control API under /_emu/. Returns (status, dict)."""
        try:
            data = json.loads(body.decode("utf-8")) if body else {}
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if not isinstance(data, dict):
            return 400, {"error": "body must be a JSON object"}
        # Query parameters (GET /_emu/x?name=v) are merged in where the body does not set them.
        for k, v in urllib.parse.parse_qsl(query or "", keep_blank_values=True):
            data.setdefault(k, v)
        route = self.control_routes.get((method, path))
        if route is None:
            # A route registered with a trailing "/" serves everything under it; the handler
            # finds the full path in data["_path"].
            for (m, p), fn in self.control_routes.items():
                if m == method and p.endswith("/") and path.startswith(p):
                    data["_path"] = path
                    route = fn
                    break
        if route is not None:
            return route(data)
        if path == "/_emu/clock" and method in ("GET", "POST"):
            return self._control_clock(method, data)
        if path == "/_emu/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        if path == "/_emu/inventory" and method == "GET":
            return 200, {"resources": self.inventory()}
        if path == "/_emu/requests":
            if method == "GET":
                with self._log_lock:
                    return 200, {"requests": list(self._log)}
            if method == "DELETE":
                with self._log_lock:
                    self._log = []
                return 200, {"cleared": True}
        if path == "/_emu/faults":
            if method == "GET":
                with self._fault_lock:
                    return 200, dict(self.faults)
            if method == "POST":
                try:
                    return 200, self.set_faults(data)
                except (ValueError, TypeError) as exc:
                    return 400, {"error": str(exc)}
        if path == "/_emu/wait-idle" and method == "POST":
            deadline = time.monotonic() + float(data.get("timeout_s", 30))
            if data.get("requests"):
                with self._in_flight_cv:
                    if not self._in_flight_cv.wait_for(lambda: self._in_flight == 0,
                                                       max(0.0, deadline - time.monotonic())):
                        return 408, {"idle": False, "requests": self._in_flight}
            if self.queue.wait_idle(max(0.0, deadline - time.monotonic())):
                return 200, {"idle": True}
            return 408, {"idle": False, "pending": self.queue.busy()}
        if path == "/_emu/failed-deliveries" and method == "GET":
            with self._log_lock:
                return 200, {"failed_deliveries": list(self._failed)}
        if path == "/_emu/accounts" and method == "GET":
            return 200, {"accounts": {a: {"aws_access_key_id": k[0], "aws_secret_access_key": k[1]}
                                      for a, k in self.root_keys.items()}}
        if path == "/_emu/health" and method == "GET":
            return 200, {"ok": True, "services": sorted(self.services)}
        return 404, {"error": "no control route %s %s" % (method, path)}

    def _record(self, entry):
        with self._log_lock:
            self._log.append(entry)
            if len(self._log) > MAX_LOG_ENTRIES:  # a long demo run must not grow without bound
                del self._log[:len(self._log) - MAX_LOG_ENTRIES]

    # -- AWS API ---------------------------------------------------------------------------

    def handle_aws(self, method, raw_path, raw_query, headers, body):
        """One AWS API request -> Reply. headers: a case-insensitive mapping with get/get_all
        (_Headers from the HTTP server, or an email.message.Message)."""
        with self._in_flight_cv:
            self._in_flight += 1
        try:
            return self._answer_aws(method, raw_path, raw_query, headers, body)
        finally:
            with self._in_flight_cv:
                self._in_flight -= 1
                self._in_flight_cv.notify_all()

    def _answer_aws(self, method, raw_path, raw_query, headers, body):
        request_id = self.new_request_id()
        entry = {"time": self.now(), "request_id": request_id, "account": None, "region": None,
                 "service": None, "operation": None, "status": None, "mutating": False,
                 "principal": None, "error": None}
        state = {"service": None}
        try:
            reply = self._handle_aws(method, raw_path, raw_query, headers, body, request_id, entry, state)
        except AwsError as err:
            entry["error"] = err.code
            reply = self.render_error(state["service"], err, request_id, method)
        except Exception:  # noqa: BLE001 - an emulator bug must still answer like AWS does
            sys.stderr.write("emulator: internal error:\n" + traceback.format_exc())
            entry["error"] = "InternalFailure"
            reply = self.render_error(state["service"], AwsError(
                "InternalFailure", "The request processing has failed because of an unknown "
                "error, exception or failure.", status=500, sender_fault=False), request_id, method)
        if entry["status"] is None:
            entry["status"] = reply.status
        if entry["operation"]:
            entry["mutating"] = is_mutating(entry["operation"])
        entry["end"] = self.now()
        self._record(entry)
        return reply

    def _guess_service(self, raw_path, headers, form):
        target = headers.get("X-Amz-Target")
        if target:
            return self._target_prefix.get(target.split(".", 1)[0])
        if re.match(r"^/20\d\d-\d\d-\d\d/", raw_path) and "lambda" in self._models:
            return "lambda"  # the only rest-json service here
        action = form.get("Action") if form else None
        if action:
            for name, model in self._models.items():
                if model.metadata["protocol"] == "query" and action in _operation_names(model):
                    return name
        if "s3" in self._models and (headers.get("X-Amz-Content-SHA256") is not None or
                                     _s3_host(headers.get("Host"))[0]):
            return "s3"
        return None

    def _handle_aws(self, method, raw_path, raw_query, headers, body, request_id, entry, state):
        content_type = (headers.get("Content-Type") or "").lower()
        form = None
        if method == "POST" and ("application/x-www-form-urlencoded" in content_type or
                                 (not content_type and body.startswith(b"Action="))):
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif method == "GET" and raw_query and "Action=" in raw_query:
            form = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        auth = headers.get("Authorization")
        key = None
        if not auth:
            service = self._guess_service(raw_path, headers, form)
            state["service"] = service
            entry["service"] = service
            if service == "sts" and form and form.get("Action") in ("AssumeRoleWithWebIdentity",
                                                                    "AssumeRoleWithSAML"):
                region = "us-east-1"
                account = None
            else:
                if self._protocol(service) == "query":
                    raise AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
                if self._protocol(service) == "rest-xml":  # S3: an anonymous request
                    raise AwsError("AccessDenied", "Access Denied", 403)
                raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token",
                               403 if self._protocol(service) == "rest-json" else 400)
        else:
            m = _AUTH_RE.match(auth.strip())
            if m is None:
                state["service"] = self._guess_service(raw_path, headers, form)
                raise self._sig_error(state["service"], "IncompleteSignature",
                                      "Authorization header requires 'Credential', 'SignedHeaders' "
                                      "and 'Signature' parameters for AWS4-HMAC-SHA256.")
            credential, signed_headers, signature = m.groups()
            parts = credential.split("/")
            if len(parts) != 5 or parts[4] != "aws4_request":
                state["service"] = self._guess_service(raw_path, headers, form)
                raise self._sig_error(state["service"], "IncompleteSignature",
                                      "Credential should be scoped to a valid region.")
            access_key, scope_date, region, signing_name = parts[0], parts[1], parts[2], parts[3]
            service = self._signing_names.get(signing_name)
            state["service"] = service
            entry["service"] = service or signing_name
            entry["region"] = region
            if service is None:
                raise AwsError("UnrecognizedClientException",
                               "The emulator does not implement service '%s'." % signing_name, 400)
            protocol = self._protocol(service)
            if protocol == "rest-xml":  # which addressing the client used, as it sent it
                entry["host"] = headers.get("Host")
                entry["path"] = raw_path
            if not REGION_RE.match(region) or (service in GLOBAL_SIGNING_REGIONS and
                                               region not in GLOBAL_SIGNING_REGIONS[service]):
                raise self._sig_error(service, "SignatureDoesNotMatch",
                                      "Credential should be scoped to a valid region. ")
            key = self.key_info(access_key)
            if key is None:
                raise self._invalid_token(service, access_key)
            entry["account"] = key["account"]
            token = headers.get("X-Amz-Security-Token")
            if key["token"] is not None or token is not None:
                if token != key["token"]:
                    raise self._invalid_token(service, access_key, token)
            if key["expires"] is not None and self.auth_now() > key["expires"]:
                if protocol == "query":
                    raise AwsError("ExpiredToken", "The security token included in the request is expired", 403)
                if protocol == "rest-xml":
                    raise AwsError("ExpiredToken", "The provided token has expired.", 400,
                                   fields={"Token-0": token})
                raise AwsError("ExpiredTokenException", "The security token included in the request is expired",
                               403 if protocol == "rest-json" else 400)
            amz_date = headers.get("X-Amz-Date")
            try:
                req_time = _amz_date_epoch(amz_date or "")
            except ValueError:
                if protocol == "rest-xml":
                    raise AwsError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header",
                                   403)
                if not amz_date:
                    raise self._sig_error(service, "IncompleteSignature",
                                          "Authorization header requires existence of either a 'X-Amz-Date' or "
                                          "a 'Date' header.")
                raise self._sig_error(service, "IncompleteSignature", "Invalid X-Amz-Date '%s'" % amz_date)
            # Clock skew is against the real clock: emu.now() may be moved to simulate time
            # passing (expiries, deletion windows), which must not break every signature.
            # faults["clock_skew_s"] sets AWS's clock apart from ours (and its Date header).
            now = time.time() + self.faults["clock_skew_s"]
            if protocol == "rest-xml" and abs(now - req_time) > S3_MAX_SKEW_S:
                raise AwsError("RequestTimeTooSkewed", "The difference between the request time and the "
                               "current time is too large.", 403, fields={
                                   "RequestTime": amz_date,
                                   "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                                   "MaxAllowedSkewMilliseconds": S3_MAX_SKEW_S * 1000})
            if protocol != "rest-xml" and abs(now - req_time) > MAX_SKEW_S:
                now_s = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
                if req_time < now:
                    edge = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - MAX_SKEW_S))
                    msg = "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (amz_date, edge, now_s)
                else:
                    edge = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + MAX_SKEW_S))
                    msg = "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
                        amz_date, edge, now_s)
                raise self._sig_error(service, "SignatureDoesNotMatch", msg)
            if scope_date != amz_date[:8]:
                raise self._sig_error(service, "SignatureDoesNotMatch",
                                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                      "version of date from HTTP: '%s' != '%s', from '%s'."
                                      % (scope_date, amz_date[:8], amz_date))
            if "host" not in [h.lower() for h in signed_headers.split(";")]:
                raise self._sig_error(service, "IncompleteSignature",
                                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
            if protocol == "rest-xml" and headers.get("X-Amz-Content-SHA256") is None:
                raise AwsError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256",
                               400)
            canonical, string_to_sign, expected = self._expected_signature(
                method, raw_path, raw_query, headers, body, key, access_key, signing_name, region,
                signed_headers.split(";"), amz_date)
            if not hmac.compare_digest(expected, signature.lower()):
                if protocol == "rest-xml":  # S3 shows what it signed
                    raise AwsError("SignatureDoesNotMatch", S3_SIGNATURE_MISMATCH_MSG, 403, fields={
                        "AWSAccessKeyId": access_key, "StringToSign": string_to_sign,
                        "SignatureProvided": signature, "StringToSignBytes": _hex_bytes(string_to_sign),
                        "CanonicalRequest": canonical, "CanonicalRequestBytes": _hex_bytes(canonical)})
                raise self._sig_error(service, "SignatureDoesNotMatch", SIGNATURE_MISMATCH_MSG)
            if protocol == "rest-xml":
                entry["unsigned_payload"] = _s3_check_payload(headers.get("X-Amz-Content-SHA256"), body)
            account = key["account"]

        delay, fault, hang_s = self._draw_fault()
        if delay > 0:
            time.sleep(delay)

        protocol = self._protocol(service)
        model = self._models[service]
        operation, params = self._route_and_parse(service, protocol, model, method, raw_path,
                                                  raw_query, headers, body, form)
        entry["operation"] = operation
        entry["region"] = region
        if fault is not None:
            entry["status"] = "fault:" + fault
            if fault == "reset":
                return Reply(0, {}, b"", action="reset")
            if fault == "hang":
                return Reply(0, {}, b"", action=("hang", hang_s))
            if fault == "throttle":
                if protocol == "query":
                    raise AwsError("Throttling", "Rate exceeded", 400)
                if protocol == "rest-json":
                    raise AwsError("TooManyRequestsException", "Rate exceeded", 429)
                if protocol == "rest-xml":
                    raise AwsError("SlowDown", "Please reduce your request rate.", 503, sender_fault=False)
                raise AwsError("ThrottlingException", "Rate exceeded", 400)
            if fault == "500":
                raise AwsError("InternalFailure", "We encountered an internal error. Please try again.",
                               500, sender_fault=False)
            raise AwsError("ServiceUnavailable", "Service is unavailable. Please try again.",
                           503, sender_fault=False)

        svc = self.services.get(service)
        handler = getattr(svc, operation, None) if svc is not None else None
        if handler is None:
            raise self._unknown_operation(service, operation)
        if key is None:
            principal_arn, role_arn = None, None
        elif key["role_arn"] is None:
            # the account's root, or an administrator session (credentials_for_admin)
            principal_arn = key.get("principal_arn") or \
                "arn:%s:iam::%s:root" % (partition_of(region), account)
            role_arn = None
        else:
            principal_arn, role_arn = key["principal_arn"], key["role_arn"]
        entry["principal"] = principal_arn
        ctx = Ctx(self, account, region, service, operation, principal_arn, role_arn, request_id,
                  protocol, access_key=None if key is None else parts[0])
        if operation in getattr(svc, "UNLOCKED_OPERATIONS", ()):
            result = handler(ctx, params)
        else:
            with self.lock:
                result = handler(ctx, params)
        return self._serialize(service, protocol, model, operation, result, request_id)

    def _expected_signature(self, method, raw_path, raw_query, headers, body, key, access_key,
                            signing_name, region, signed_names, amz_date):
        return signature_parts(method, raw_path, raw_query, headers, body, access_key, key["secret"],
                               key["token"], signing_name, region, signed_names, amz_date)

    # -- errors per protocol -----------------------------------------------------------------

    def _protocol(self, service):
        if service is None:
            return "query"
        return self._models[service].metadata["protocol"]

    def _invalid_token(self, service, access_key, token=None):
        """An unknown access key, or a session token that is not the key's (token: the one sent)."""
        protocol = self._protocol(service)
        if protocol == "query":
            return AwsError("InvalidClientTokenId", INVALID_TOKEN_MSG, 403)
        if protocol == "rest-xml":
            if token is None:  # an unknown key, or a temporary one sent without its token
                return AwsError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in "
                                "our records.", 403, fields={"AWSAccessKeyId": access_key})
            return AwsError("InvalidToken", "The provided token is malformed or otherwise invalid.", 400,
                            fields={"Token-0": token})
        return AwsError("UnrecognizedClientException", INVALID_TOKEN_MSG,
                        403 if protocol == "rest-json" else 400)

    def _sig_error(self, service, code, message):
        protocol = self._protocol(service)
        if protocol == "query":
            return AwsError(code, message, 403 if code != "IncompleteSignature" else 400)
        if protocol == "rest-xml":
            if code == "IncompleteSignature":
                return AwsError("AuthorizationHeaderMalformed", "The authorization header is malformed; "
                                + message, 400)
            return AwsError(code, message, 403)
        if code == "SignatureDoesNotMatch":
            code = "InvalidSignatureException"
        elif code == "IncompleteSignature":
            code = "IncompleteSignatureException"
        return AwsError(code, message, 403 if protocol == "rest-json" else 400)

    def _unknown_operation(self, service, operation):
        protocol = self._protocol(service)
        if protocol == "rest-xml":  # in the model, not emulated
            return AwsError("NotImplemented", "A header you provided implies functionality that is not "
                            "implemented (the emulator does not implement %s)." % operation, 501)
        if protocol == "query":
            return AwsError("InvalidAction", "Could not find operation %s for version %s" % (
                operation, self._models[service].api_version), 400)
        if protocol == "rest-json":
            return AwsError("UnknownOperationException", "Unknown operation %s" % operation, 404)
        return AwsError("UnknownOperationException", "", 400)

    def _validation_error(self, service, kind, message):
        protocol = self._protocol(service)
        if protocol == "query":
            if service in ("rds", "sqs"):  # both answer MissingParameter / InvalidParameterValue
                if kind == "missing":
                    return AwsError("MissingParameter", message, 400)
                return AwsError("InvalidParameterValue", message, 400)
            return AwsError("ValidationError", message, 400)
        if protocol == "rest-xml":  # S3
            if kind == "unknown":
                return AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                                "validate against our published schema", 400)
            return AwsError("InvalidArgument", message, 400)
        if protocol == "rest-json":
            if kind in ("type", "unknown"):
                return AwsError("InvalidRequestContentException",
                                "Could not parse request body into json: " + message, 400)
            return AwsError("ValidationException", message, 400)
        if kind in ("type", "unknown"):
            return AwsError("SerializationException", message, 400)
        if service == "logs":  # CloudWatch Logs answers constraint violations so
            return AwsError("InvalidParameterException", message, 400)
        if service == "organizations":  # its own exception, with a reason
            for needle, reason, text in _ORGANIZATIONS_INVALID:
                if needle in message:
                    return AwsError("InvalidInputException", text, 400, fields={"Reason": reason})
            return AwsError("InvalidInputException", message, 400)
        return AwsError("ValidationException", message, 400)

    def _error_status(self, service, code):
        if service is None:
            return 400
        return _model_error_status(self._models[service], code)

    def render_error(self, service, err, request_id, method=None):
        status = err.status if err.status is not None else self._error_status(service, err.code)
        protocol = self._protocol(service)
        if protocol == "rest-xml":
            return _rest_xml_error(err, status, request_id, method)
        headers = {"x-amzn-RequestId": request_id}
        if protocol == "query":
            ns = self._models[service].metadata.get("xmlNamespace", "") if service else ""
            xml = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
                   '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>' % (
                       ns, "Sender" if err.sender_fault else "Receiver", _xml_escape(err.code),
                       _xml_escape(err.message), request_id))
            headers["Content-Type"] = "text/xml"
            return Reply(status, headers, xml.encode("utf-8"))
        if protocol == "rest-json":
            headers["X-Amzn-ErrorType"] = err.code
            headers["Content-Type"] = "application/json"
            doc = {"Type": "User" if err.sender_fault else "Service"}
            doc["Message" if service == "lambda" else "message"] = err.message
            return Reply(status, headers, json.dumps(doc).encode("utf-8"))
        headers["Content-Type"] = "application/x-amz-json-1.1"
        doc = {"__type": err.code, "message": err.message}
        doc.update(err.fields or {})  # the error shape's other members (Organizations' Reason)
        return Reply(status, headers, json.dumps(doc).encode("utf-8"))

    # -- request parsing -------------------------------------------------------------------

    def _route_and_parse(self, service, protocol, model, method, raw_path, raw_query, headers, body, form):
        if protocol == "query":
            if form is None:
                raise AwsError("MissingAction", "Missing Action", 400) if service != "rds" else \
                    AwsError("MissingAction", "Could not find operation", 400)
            action = form.get("Action")
            if not action or action not in _operation_names(model):
                raise self._unknown_operation(service, action or "")
            op = model.operation_model(action)
            params = {}
            if op.input_shape is not None:
                parser = _QueryParser(form)
                try:
                    params = parser.parse(op.input_shape, "", "") or {}
                except _Invalid as inv:
                    raise self._validation_error(service, inv.kind, inv.message)
                leftover = sorted(set(form) - parser.used - {"Action", "Version"})
                if leftover:
                    raise self._validation_error(service, "unknown", "Unrecognized parameter: %s" % leftover[0])
            self._validate(service, op, params)
            return action, params
        if protocol == "json":
            target = headers.get("X-Amz-Target") or ""
            prefix, _, action = target.partition(".")
            if prefix != model.metadata["targetPrefix"] or action not in _operation_names(model):
                raise self._unknown_operation(service, action)
            op = model.operation_model(action)
            try:
                data = json.loads(body.decode("utf-8")) if body.strip() else {}
            except ValueError:
                raise AwsError("SerializationException", "Body is not valid JSON", 400)
            params = {}
            if op.input_shape is not None:
                try:
                    params = _json_value(op.input_shape, data, "") or {}
                except _Invalid as inv:
                    raise self._validation_error(service, inv.kind, inv.message)
            elif data:
                raise self._validation_error(service, "unknown", "Operation takes no parameters")
            self._validate(service, op, params)
            return action, params
        router = self._rest_routers[service]
        query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        xml_body = protocol == "rest-xml"
        if xml_body:  # S3 virtual-hosted style: the bucket is in the Host, the path is the key
            bucket = _s3_host(headers.get("Host"))[1]
            if bucket is not None:
                raw_path = "/" + bucket + (raw_path if raw_path != "/" else "")
        action, labels = router.match(method, raw_path, query, headers)
        if action is None:
            if xml_body:
                raise AwsError("MethodNotAllowed", "The specified method is not allowed against this "
                               "resource.", 405, fields={"Method": method})
            raise AwsError("UnknownOperationException", "Unknown operation %s %s" % (method, raw_path), 404)
        op = model.operation_model(action)
        params = {}
        shape = op.input_shape
        try:
            if shape is not None:
                params = self._rest_parse(shape, labels, query, headers, body, xml_body)
            elif body.strip() and body.strip() != b"{}":
                raise _Invalid("unknown", "Operation takes no body")
        except _Invalid as inv:
            raise self._validation_error(service, inv.kind, inv.message)
        self._validate(service, op, params)
        return action, params

    def _rest_parse(self, shape, labels, query, headers, body, xml_body=False):
        """A rest-json (xml_body: restXml) request -> params per the input shape. Needs no state
        of the emulator (the protocol vector tests call it with self None)."""
        params = {}
        body_members = {}
        payload = shape.serialization.get("payload")
        for mname, mshape, lname, loc, path in _structure(shape).members:
            if loc == "uri":
                if lname in labels:
                    params[mname] = _scalar_from_string(mshape, labels[lname], path)
            elif loc == "querystring":
                if mshape.type_name == "map":
                    many = mshape.value.type_name == "list"
                    params[mname] = {k: (list(v) if many else v[0]) for k, v in query.items()}
                elif lname in query:
                    if mshape.type_name == "list":
                        params[mname] = [_scalar_from_string(mshape.member, v, path) for v in query[lname]]
                    else:
                        params[mname] = _scalar_from_string(mshape, query[lname][0], path)
            elif loc == "header":
                value = headers.get(lname)
                if value is not None and mshape.type_name == "list":
                    params[mname] = [_scalar_from_string(mshape.member, v, path) for v in _split_header_list(value)]
                elif value is not None:
                    if mshape.serialization.get("jsonvalue"):
                        params[mname] = base64.b64decode(value).decode("utf-8")
                    else:
                        params[mname] = _scalar_from_string(mshape, value, path)
            elif loc == "headers":
                pfx = lname.lower()
                params[mname] = {k[len(pfx):]: v for k, v in headers.items() if k.lower().startswith(pfx)}
            elif mname != payload:
                body_members[lname] = (mname, mshape)
        if payload:
            pshape = shape.members[payload]
            if pshape.type_name == "blob":
                if body:
                    params[payload] = body
            elif pshape.type_name == "string":
                if body:
                    params[payload] = body.decode("utf-8")
            elif xml_body:
                if body.strip():
                    root = _xml_document(body, pshape.serialization.get("name", payload))
                    params[payload] = _xml_in(pshape, root, _lower_first(payload))
            elif body.strip():
                try:
                    data = json.loads(body.decode("utf-8"))
                except ValueError:
                    raise _Invalid("type", "Body is not valid JSON")
                value = _json_value(pshape, data, _lower_first(payload))
                if value:  # "{}" is how clients send an absent structure payload
                    params[payload] = value
        elif xml_body and body.strip():  # body members without a payload: the input's own element
            root = _xml_document(body, shape.serialization.get("name", shape.name))
            params.update(_xml_in(shape, root, ""))
        elif body.strip():
            try:
                data = json.loads(body.decode("utf-8"))
            except ValueError:
                raise _Invalid("type", "Body is not valid JSON")
            if not isinstance(data, dict):
                raise _Invalid("type", "Body is not a JSON object")
            for k, v in data.items():
                if k not in body_members:
                    raise _Invalid("unknown", "Unrecognized field \"%s\"" % k)
                mname, mshape = body_members[k]
                params[mname] = _json_value(mshape, v, _lower_first(mname))
        return {k: v for k, v in params.items() if v is not None}

    def _validate(self, service, op, params):
        if op.input_shape is None:
            return
        errors = []
        _check_constraints(op.input_shape, params, "", errors)
        if errors:
            missing = all("must not be null" in e for e in errors)
            if service in ("rds", "sqs") and missing:
                first = re.search(r"at '([^']+)'", errors[0]).group(1)
                name = first[:1].upper() + first[1:]
                raise self._validation_error(service, "missing", "The request must contain the parameter %s" % name)
            msg = "%d validation error%s detected: %s" % (len(errors), "" if len(errors) == 1 else "s",
                                                         "; ".join(errors))
            raise self._validation_error(service, "missing" if missing else "constraint", msg)

    # -- response serialisation ------------------------------------------------------------

    def _serialize(self, service, protocol, model, operation, result, request_id):
        op = model.operation_model(operation)
        shape = op.output_shape
        result = result or {}
        headers = {"x-amzn-RequestId": request_id}
        if protocol == "query":
            ns = model.metadata.get("xmlNamespace", "")
            inner = ""
            if shape is not None:
                wrapper = shape.serialization.get("resultWrapper")
                inner = self._xml_members(shape, result)
                if wrapper:  # every IAM/STS/RDS operation has one
                    inner = "<%s>%s</%s>" % (wrapper, inner, wrapper)
            xml = ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId>'
                   '</ResponseMetadata></%sResponse>' % (operation, ns, inner, request_id, operation))
            headers["Content-Type"] = "text/xml"
            return Reply(200, headers, xml.encode("utf-8"))
        if protocol == "json":
            doc = self._json_out(shape, result) if shape is not None else {}
            headers["Content-Type"] = "application/x-amz-json-1.1"
            return Reply(200, headers, json.dumps(doc).encode("utf-8"))
        if protocol == "rest-xml":
            return self._serialize_rest_xml(model, op, result, request_id)
        status = op.http.get("responseCode", 200)
        body = b""
        if shape is not None:
            payload = shape.serialization.get("payload")
            body_doc = {}
            for mname, mshape, lname, loc, _path in _structure(shape).members:
                value = result.get(mname)
                if value is None:
                    continue
                if loc in _REPLY_LOCATIONS:
                    status = self._bind_reply_member(headers, loc, mshape, lname, value) or status
                elif mname == payload:
                    if mshape.type_name == "blob":
                        body = value if isinstance(value, bytes) else str(value).encode("utf-8")
                        headers["Content-Type"] = "application/octet-stream"
                    elif mshape.type_name == "string":
                        body = value.encode("utf-8")
                        headers["Content-Type"] = "text/plain"
                    else:
                        body = json.dumps(self._json_out(mshape, value)).encode("utf-8")
                        headers["Content-Type"] = "application/json"
                else:
                    body_doc[lname] = self._json_value_out(mshape, value, rest=True)
            if not payload and (body_doc or status != 204):
                body = json.dumps(body_doc).encode("utf-8")
                headers["Content-Type"] = "application/json"
        return Reply(status, headers, body)

    def _serialize_rest_xml(self, model, op, result, request_id):
        """restXml reply: header-bound members as headers; the payload member as the body (a blob
        or string as it is, GetObject's object; a structure as its own document), else the body
        members in a document named as the output shape says (S3: ListBucketResult, ...), in the
        model's namespace. An output whose only body member is named as the document holds it as
        its text (S3's GetBucketLocation: <LocationConstraint>eu-west-1</LocationConstraint>)."""
        headers = {"x-amz-request-id": request_id, "x-amz-id-2": _host_id(request_id)}
        status = op.http.get("responseCode", 200)
        shape = op.output_shape
        if shape is None:
            return Reply(status, headers, b"")
        payload = shape.serialization.get("payload")
        body_members = []
        for mname, mshape, wire, loc, _path in _structure(shape).members:
            value = result.get(mname)
            if loc is None and mname != payload:
                body_members.append((mname, mshape, wire))
            if value is not None and loc in _REPLY_LOCATIONS:
                status = self._bind_reply_member(headers, loc, mshape, wire, value) or status
        namespace = model.metadata.get("xmlNamespace")
        ns = ' xmlns="%s"' % namespace if namespace else ""
        body = None
        if payload:
            pshape = shape.members[payload]
            value = result.get(payload)
            if value is None:
                body = b""
            elif pshape.type_name == "blob":
                body = value if isinstance(value, bytes) else str(value).encode("utf-8")
                headers.setdefault("Content-Type", "application/octet-stream")
            elif pshape.type_name == "string":
                body = value.encode("utf-8")
            else:
                root = pshape.serialization.get("name", payload)
                doc = "<%s%s>%s</%s>" % (root, ns, self._xml_members(pshape, value), root)
        elif body_members:
            root = shape.serialization.get("name", shape.name)
            mname, mshape, wire = body_members[0]
            if len(body_members) == 1 and wire == root and mshape.type_name not in ("structure", "list", "map"):
                value = result.get(mname)
                doc = ("<%s%s/>" % (root, ns) if value is None else
                       self._xml_value(mshape, value, root).replace("<%s>" % root, "<%s%s>" % (root, ns), 1))
            else:
                doc = "<%s%s>%s</%s>" % (root, ns, self._xml_members(shape, result), root)
        else:
            body = b""
        if body is None:
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + doc).encode("utf-8")
            headers["Content-Type"] = "application/xml"
        return Reply(status, headers, body)

    def _bind_reply_member(self, headers, loc, shape, wire, value):
        """A rest reply's member bound to a header (or to the x-amz-meta- style header prefix)
        into headers; -> the status a statusCode member sets, else None."""
        if loc == "header":
            headers[wire] = self._header_value(shape, value)
        elif loc == "headers":
            for k, v in value.items():
                headers[wire + k] = str(v)
        else:
            return int(value)
        return None

    def _header_value(self, shape, value):
        if shape.type_name == "list":
            parts = []
            for item in value:
                text = self._header_value(shape.member, item)
                if "," in text or '"' in text:
                    text = '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')
                parts.append(text)
            return ", ".join(parts)
        if shape.type_name == "timestamp":
            fmt = shape.serialization.get("timestampFormat", "rfc822")
            if fmt == "iso8601":
                return iso8601(value)
            if fmt == "unixTimestamp":
                return str(epoch(value))
            return email.utils.format_datetime(to_datetime(value), usegmt=True)
        if shape.type_name == "boolean":
            return "true" if value else "false"
        if shape.serialization.get("jsonvalue"):
            text = value if isinstance(value, str) else json.dumps(value)
            return base64.b64encode(text.encode("utf-8")).decode()
        return str(value)

    def _json_out(self, shape, value):
        return self._json_value_out(shape, value, rest=False)

    def _json_value_out(self, shape, value, rest):
        t = shape.type_name
        if shape.metadata.get("document"):
            return value
        if t == "structure":
            out = {}
            for mname, mshape, wire, loc, _path in _structure(shape).members:
                v = value.get(mname)
                if v is None or loc:
                    continue
                out[wire] = self._json_value_out(mshape, v, rest)
            return out
        if t == "list":
            return [self._json_value_out(shape.member, v, rest) for v in value]
        if t == "map":
            return {k: self._json_value_out(shape.value, v, rest) for k, v in value.items()}
        if t == "timestamp":
            fmt = shape.serialization.get("timestampFormat")
            if fmt == "iso8601":
                return iso8601(value)
            return epoch(value)
        if t == "blob":
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
            return base64.b64encode(raw).decode()
        if t == "boolean":
            return bool(value)
        if t in ("integer", "long"):
            return int(value)
        if t in ("float", "double"):
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
            return value
        if t == "string" and not isinstance(value, str):
            return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        return value

    def _xml_members(self, shape, value):
        parts = []
        for mname, mshape, wire, loc, _path in _structure(shape).members:
            v = value.get(mname)
            if v is None or loc:  # restXml: header-bound members are not in the document
                continue
            parts.append(self._xml_value(mshape, v, wire))
        return "".join(parts)

    def _xml_value(self, shape, value, name):
        t = shape.type_name
        if t == "structure":
            return "<%s>%s</%s>" % (name, self._xml_members(shape, value), name)
        if t == "list":
            item = shape.member.serialization.get("name", "member")
            if shape.serialization.get("flattened"):
                # each item is an element of its own, named as the member shape says if it has a
                # name (SQS's <Message>, <QueueUrl>), else as the list
                item = shape.member.serialization.get("name", name)
                return "".join(self._xml_value(shape.member, v, item) for v in value)
            return "<%s>%s</%s>" % (name, "".join(self._xml_value(shape.member, v, item) for v in value), name)
        if t == "map":
            kname = shape.key.serialization.get("name", "key")
            vname = shape.value.serialization.get("name", "value")
            entry = name if shape.serialization.get("flattened") else "entry"
            entries = "".join("<%s>%s%s</%s>" % (entry, self._xml_value(shape.key, k, kname),
                                                 self._xml_value(shape.value, v, vname), entry)
                              for k, v in value.items())
            if shape.serialization.get("flattened"):
                return entries
            return "<%s>%s</%s>" % (name, entries, name)
        if t == "timestamp":
            fmt = shape.serialization.get("timestampFormat", "iso8601")
            if fmt == "unixTimestamp":
                text = "%g" % epoch(value) if epoch(value) % 1 else str(int(epoch(value)))
            elif fmt == "rfc822":
                text = email.utils.format_datetime(to_datetime(value), usegmt=True)
            else:
                text = iso8601(value)
        elif t == "boolean":
            text = "true" if value else "false"
        elif t == "blob":
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
            text = base64.b64encode(raw).decode()
        else:
            text = str(value)
        return "<%s>%s</%s>" % (name, _xml_escape(text), name)


_REPLY_LOCATIONS = ("header", "headers", "statusCode")


def _host_id(request_id):
    """S3's x-amz-id-2 / <HostId>: an opaque base64 string, here derived from the request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode("ascii")).digest()).decode("ascii")


def _rest_xml_error(err, status, request_id, method):
    """S3's error reply: <Error> with Code, Message, the error's fields, RequestId and HostId;
    HEAD requests and 304 get the status and headers alone, as S3 answers them."""
    code = "InternalError" if err.code == "InternalFailure" else err.code
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": _host_id(request_id),
               "Content-Type": "application/xml"}
    headers.update(err.headers or {})
    if method == "HEAD" or status == 304:
        return Reply(status, headers, b"")
    fields = "".join("<%s>%s</%s>" % (name, _xml_escape(str(value)), name)
                     for name, value in (err.fields or {}).items() if value is not None)
    xml_text = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>%s'
                '<RequestId>%s</RequestId><HostId>%s</HostId></Error>' % (
                    _xml_escape(code), _xml_escape(err.message), fields, request_id, headers["x-amz-id-2"]))
    return Reply(status, headers, xml_text.encode("utf-8"))


def _hex_bytes(text):
    """S3's <StringToSignBytes> / <CanonicalRequestBytes>: the UTF-8 bytes in hex, space-separated."""
    return " ".join("%02x" % b for b in text.encode("utf-8"))


_SHA256_HEX_RE = re.compile(r"[0-9a-fA-F]{64}")
_S3_PAYLOAD_VALUES = ("UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                      "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")


def _s3_check_payload(claimed, body):
    """S3's check of x-amz-content-sha256 (once the signature, which covers it, is verified): a
    hex SHA-256 must be the body's; UNSIGNED-PAYLOAD is accepted as S3 accepts it. -> whether the
    payload was unsigned. The STREAMING-* forms (chunked signing) are not emulated."""
    if claimed == "UNSIGNED-PAYLOAD":
        return True
    if _SHA256_HEX_RE.fullmatch(claimed):
        computed = hashlib.sha256(body).hexdigest()
        if claimed.lower() != computed:
            raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not "
                           "match what was computed.", 400, fields={
                               "ClientComputedContentSHA256": claimed, "S3ComputedContentSHA256": computed})
        return False
    if claimed.startswith("STREAMING-"):
        raise AwsError("NotImplemented", "A header you provided implies functionality that is not implemented "
                       "(the emulator does not take chunked payloads).", 501,
                       fields={"Header": "x-amz-content-sha256"})
    raise AwsError("InvalidArgument", "x-amz-content-sha256 must be %s or a valid sha256 value." % _S3_PAYLOAD_VALUES,
                   400, fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": claimed})


# S3 addressing by Host: path-style endpoints name no bucket (s3.localhost, s3.REGION.amazonaws.com,
# s3.amazonaws.com; 127.0.0.1 and localhost are no S3 names); virtual-hosted ones put the bucket
# before them (BUCKET.s3.localhost, BUCKET.localhost, BUCKET.s3.REGION.amazonaws.com).
_S3_ENDPOINT_RE = re.compile(r"s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?|s3\.localhost")
_S3_VIRTUAL_RE = re.compile(r"(.+?)\.(?:s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?|s3\.localhost|localhost)")


@functools.lru_cache(maxsize=1024)
def _s3_host(host):
    """A Host header -> (whether it names S3, the bucket of a virtual-hosted request or None)."""
    name = (host or "").lower()
    if not name.startswith("["):  # an IPv6 literal is no S3 name
        name = name.rsplit(":", 1)[0]
    if _S3_ENDPOINT_RE.fullmatch(name):
        return True, None
    m = _S3_VIRTUAL_RE.fullmatch(name)
    if m is not None:
        return True, m.group(1)
    return False, None


@functools.lru_cache(maxsize=1024)
def _model_error_status(model, code):
    """HTTP status of the model's error shape with that name or code, else 400. Cached: errors are
    common (reads of what does not exist yet) and a model has up to a few hundred error shapes."""
    for shape in model.error_shapes:
        err = shape.metadata.get("error", {})
        if shape.name == code or err.get("code") == code:
            return err.get("httpStatusCode", 400)
    return 400


def _find_service_class(name):
    modname = "emu." + SERVICE_MODULES[name]
    try:
        module = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname:
            return None
        raise
    for obj in vars(module).values():
        if isinstance(obj, type) and getattr(obj, "SERVICE", None) == name and obj.__module__ == modname:
            return obj
    return None


# ---------------------------------------------------------------------------------------------
# HTTP


class _Headers:
    """Request headers as received: case-insensitive names, repeated names kept in order. The
    part of email.message.Message's interface the core reads (get, get_all, [], in, items), at a
    dict lookup per call instead of a scan of every header with str.lower."""

    __slots__ = ("_items", "_by_name")

    def __init__(self, items):
        self._items = items  # [(name as received, value)]
        self._by_name = {}
        for name, value in items:
            self._by_name.setdefault(name.lower(), []).append(value)

    def get(self, name, failobj=None):
        values = self._by_name.get(name.lower())
        return values[0] if values else failobj

    def get_all(self, name, failobj=None):
        values = self._by_name.get(name.lower())
        return list(values) if values else failobj

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        return name.lower() in self._by_name

    def items(self):
        return list(self._items)


# email.feedparser's header-line pattern: a field name and ":", a continuation line, or an
# mbox "From " line. The first line matching none (the blank line) ends the header block.
_HEADER_LINE_RE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


def _parse_header_block(data):
    """A request's header block (str, iso-8859-1) -> _Headers, with the names and values
    http.client.parse_headers gives (email.feedparser with the compat32 policy): lines end at
    \\r\\n, \\r or \\n; a value is the text after the colon without leading blanks, continuation
    lines appended as they are, the final line break removed; "From " lines, lines starting with
    a colon and continuation lines with no header before them are skipped."""
    items = []
    name = None  # of the header being read; value: its text so far
    for line in io.StringIO(data, newline="").readlines():
        if not _HEADER_LINE_RE.match(line):
            break
        if line[0] in " \t":
            if name is not None:
                value += line
            continue
        if name is not None:
            items.append((name, value.rstrip("\r\n")))
            name = None
        if not line.startswith(("From ", ":")):
            name, value = line.split(":", 1)
            value = value.lstrip(" \t")
    if name is not None:
        items.append((name, value.rstrip("\r\n")))
    return _Headers(items)


_date_header = (0, "")


def _http_date(skew_s=0.0):
    """BaseHTTPRequestHandler.date_time_string() for now (plus the emulated AWS clock's skew),
    formatted once per second."""
    global _date_header
    second = int(time.time() + skew_s)
    cached = _date_header
    if cached[0] != second:
        cached = (second, email.utils.formatdate(second, usegmt=True))
        _date_header = cached
    return cached[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AwsEmulator"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the request log is GET /_emu/requests
        return

    def parse_request(self):
        """BaseHTTPRequestHandler.parse_request (Python 3.11), but for the header block: read as
        http.client.parse_headers reads it, parsed into a _Headers rather than by the email
        package (whose parser and lookups were a fifth of the CPU a request costs)."""
        self.command = None  # set in case of error on the first line
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) == 0:
            return False
        if len(words) >= 3:  # enough to determine the protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                base_version_number = version.split("/", 1)[1]
                version_number = base_version_number.split(".")
                if len(version_number) != 2:
                    raise ValueError
                version_number = int(version_number[0]), int(version_number[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad request version (%r)" % version)
                return False
            if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if version_number >= (2, 0):
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
                                "Invalid HTTP version (%s)" % base_version_number)
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request syntax (%r)" % requestline)
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad HTTP/0.9 request type (%r)" % command)
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):  # gh-87389: no open redirects through "//host"
            self.path = "/" + self.path.lstrip("/")
        try:
            # parse_headers' own reader: same line and header-count limits and errors
            lines = http.client._read_headers(self.rfile)
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False
        self.headers = _parse_header_block(b"".join(lines).decode("iso-8859-1"))
        conntype = self.headers.get("Connection", "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = self.headers.get("Expect", "")
        if (expect.lower() == "100-continue" and self.protocol_version >= "HTTP/1.1" and
                self.request_version >= "HTTP/1.1"):
            if not self.handle_expect_100():
                return False
        return True

    def setup(self):
        super().setup()
        # Without TCP_NODELAY, Nagle holds back a write while an earlier one on the connection
        # is unacknowledged, i.e. for the client's delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, headers, body):
        """What send_response, send_header for each header and Content-Length, end_headers and
        writing the body send, in one write instead of two (a write costs tens of µs of CPU)."""
        content = body if self.command != "HEAD" else b""
        if self.request_version == "HTTP/0.9":  # no status line, no headers
            self.wfile.write(content)
            return
        lines = ["%s %d %s" % (self.protocol_version, status, self.responses.get(status, ("",))[0]),
                 "Server: " + self.version_string(),
                 "Date: " + _http_date(self.server.emu.faults["clock_skew_s"])]
        lines += ["%s: %s" % item for item in headers.items()]
        if "Content-Length" not in headers:  # S3's HeadObject sends the object's
            lines.append("Content-Length: %d" % len(body))
        lines.append("\r\n")
        self.wfile.write("\r\n".join(lines).encode("latin-1", "strict") + content)

    def _abort(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _handle(self):
        emu = self.server.emu
        body = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/_emu/"):
            status, doc = emu.control(self.command, split.path, split.query, body)
            if isinstance(doc, (bytes, bytearray)):  # a route may answer raw bytes (downloads)
                self._send(status, {"Content-Type": "application/octet-stream"}, bytes(doc))
            else:
                self._send(status, {"Content-Type": "application/json"}, json.dumps(doc, default=str).encode())
            return
        reply = emu.handle_aws(self.command, split.path, split.query, self.headers, body)
        if reply.action == "reset":
            self._abort()
            return
        if isinstance(reply.action, tuple) and reply.action[0] == "hang":
            self.server.sleep_interruptibly(reply.action[1])
            self._abort()
            return
        self._send(reply.status, reply.headers, reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    """A thread per connection, as ThreadingHTTPServer, but threads are reused: a thread whose
    connection closed waits for the next one. Starting a thread costs more CPU than a request, and
    clients (the tool's worker threads) often make only a few requests per connection."""

    allow_reuse_address = True
    # The listen backlog. A client opening more connections at once than the backlog holds (the
    # tool at --parallelism 128) has SYNs dropped and retried a second later: a stall AWS has not.
    request_queue_size = 1024

    def __init__(self, addr, emu):
        self.emu = emu
        self._stop_event = threading.Event()
        self._connections = queue.SimpleQueue()  # (socket, address) to serve; None: exit
        self._pool_lock = threading.Lock()
        self._workers = 0
        self._idle = 0  # workers waiting for a connection, or about to
        super().__init__(addr, _Handler)

    def process_request(self, request, client_address):
        with self._pool_lock:
            spawn = self._idle == 0
            if spawn:
                self._workers += 1
            else:
                self._idle -= 1
        self._connections.put((request, client_address))
        if spawn:
            threading.Thread(target=self._serve_connections, name="emu-conn", daemon=True).start()

    def _serve_connections(self):
        while True:
            item = self._connections.get()
            if item is None:
                return
            self.process_request_thread(*item)  # finish_request, handle_error, shutdown_request
            with self._pool_lock:
                self._idle += 1

    def server_close(self):
        super().server_close()
        with self._pool_lock:  # each worker exits once done with its connection
            for _ in range(self._workers):
                self._connections.put(None)
            self._workers = self._idle = 0

    def sleep_interruptibly(self, seconds):
        self._stop_event.wait(seconds)

    def handle_error(self, request, client_address):
        # A client that goes away mid-request (killed, timed out) is normal here; anything else
        # is an emulator bug and is printed.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """Runs an Emulator behind HTTP on 127.0.0.1 in a background thread (tests, server.py)."""

    def __init__(self, emu, port=0):
        self.emu = emu
        self.httpd = _Server(("127.0.0.1", port), emu)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        emu.url = self.url
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="emu-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)

    def stop(self):
        self.httpd._stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.emu.shutdown()
        if self._thread is not None:
            self._thread.join(5)
