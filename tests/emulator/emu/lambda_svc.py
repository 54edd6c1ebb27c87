"""Lambda for the emulator: functions (zip packages, python3.x), resource policies, tags,
Invoke (RequestResponse / Event / DryRun) and the runtime that runs handlers in a
/usr/bin/python3 subprocess whose boto3 calls come back to the emulator signed with the
function role's temporary credentials.

Owner: H4.  Cross-service API (called by events.py):
    LambdaService.invoke_async(account, region, function_arn, payload, source_arn=None,
                               principal="events.amazonaws.com")
        raises AwsError when the function does not exist or its resource policy does not let
        `principal` (with that SourceArn / SourceAccount) lambda:InvokeFunction.
Asynchronous invocations (Invoke with Event, EventBridge, SNS) are retried as the function's event
invoke config says (Put/Get/Update/Delete/ListFunctionEventInvokeConfig(s): MaximumRetryAttempts,
2 by default, after retry_delays_s; MaximumEventAgeInSeconds, 6 hours by default, checked when a
retry comes due). Then a success goes to the OnSuccess destination and a failure
("RetriesExhausted" or "EventAgeExceeded") to the OnFailure destination, as AWS's invocation
record (version 1.0, requestContext, requestPayload, responseContext, responsePayload), and to
the DeadLetterConfig target (CreateFunction / UpdateFunctionConfiguration), as the event itself
with RequestID, ErrorCode and ErrorMessage message attributes. Both are sent as the function's
execution role, which must be allowed sns:Publish / sqs:SendMessage on the target (checked when
they are configured, as Lambda does, and again at delivery); a refused delivery, and any to a
Lambda, EventBridge or S3 destination (accepted, not delivered), is recorded as a failed
delivery. A failure with neither destination nor dead-letter queue is recorded as before.
Control routes: GET /_emu/lambda-logs -> {"logs": [...]} (every invocation: function,
request_id, status, duration_ms, log, result, attempt); POST /_emu/lambda-config
{"retry_delays_s": [a, b], "settle_s": s} tunes async retry delays and the Pending ->
Active / InProgress -> Successful delay for tests.
"""

import atexit
import base64
import contextlib
import datetime
import hashlib
import io
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile

from .core import AwsError, Ctx
from .events import arn_parts, err_text
from .iam import role_context
from .logs import lambda_stream_name

PYTHON = "/usr/bin/python3"
INIT_ALLOWANCE_S = 10   # interpreter start + module imports, not counted in Timeout
_NAME = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_SID = re.compile(r"^[a-zA-Z0-9-_.]{1,100}$")
_RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11", "python3.12",
             "python3.13")
_RESERVED_ENV = ("_HANDLER", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
                 "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                 "AWS_LAMBDA_FUNCTION_VERSION", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
                 "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")
DEFAULT_MAX_EVENT_AGE_S = 21600   # six hours
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."

# Runs inside an execution environment (a /usr/bin/python3 subprocess that serves invocations
# until the emulator ends it): points every botocore client at the emulator (botocore 1.29
# predates AWS_ENDPOINT_URL), then for each request line on fd _EMU_REQUESTS_FD
# ({"event", "request_id"}) builds a context, calls the handler (imported on the first one: the
# init phase, not counted in the timeout) and writes {"ok": result} or {"error": {...}} (plus
# "init_failed" when the import failed) as a line on fd _EMU_RESULTS_FD. stdout/stderr are the
# log; the _EMU_MARK bytes written to fd 1 after each invocation end its part of the log. On a
# timeout it reports {"timeout": true} and exits, as Lambda ends the environment.
_BOOTSTRAP = r'''
import importlib, json, os, signal, sys, time, traceback
_url = os.environ["AWS_ENDPOINT_URL"]
import botocore.session
_orig = botocore.session.Session.create_client
def _create_client(self, *args, **kwargs):
    if len(args) > 5:
        if args[5] is None:
            args = args[:5] + (_url,) + args[6:]
    elif kwargs.get("endpoint_url") is None:
        kwargs["endpoint_url"] = _url
    return _orig(self, *args, **kwargs)
botocore.session.Session.create_client = _create_client
_requests = os.fdopen(int(os.environ.pop("_EMU_REQUESTS_FD")), "r")
_results = int(os.environ.pop("_EMU_RESULTS_FD"))
_mark = os.environ.pop("_EMU_MARK").encode()
_timeout = float(os.environ["_EMU_TIMEOUT"])
class _Context:
    def __init__(self, request_id):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ["_EMU_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._deadline = time.time() + _timeout
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))
def _report(result):
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, _mark)
    data = (json.dumps(result, default=str) + "\n").encode()
    while data:
        data = data[os.write(_results, data):]
def _timed_out(signum, frame):
    _report({"timeout": True})
    os._exit(124)
def _main():
    fn = None
    signal.signal(signal.SIGALRM, _timed_out)
    for line in _requests:
        request = json.loads(line)
        result = None
        try:
            if fn is None:
                # init (imports) is not part of the function's timeout, as on Lambda
                mod_name, _, fn_name = os.environ["_HANDLER"].rpartition(".")
                mod = importlib.import_module(mod_name.replace("/", "."))
                fn = getattr(mod, fn_name)
            context = _Context(request["request_id"])
            signal.setitimer(signal.ITIMER_REAL, _timeout)
            result = {"ok": fn(request["event"], context)}
            signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                json.dumps(result)
            except (TypeError, ValueError) as exc:
                result = {"error": {"errorMessage": "Unable to marshal response: %s" % exc,
                                    "errorType": "Runtime.MarshalError", "stackTrace": []}}
        except Exception as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            traceback.print_exc()
            result = {"error": {"errorMessage": str(exc), "errorType": type(exc).__name__,
                                "stackTrace": traceback.format_tb(exc.__traceback__)}}
            if fn is None:
                result["init_failed"] = True
        _report(result)
_main()
'''

# Warm execution environments: reused by later invocations of the same function version while
# their credentials last, as Lambda reuses them (module state survives between invocations).
# Each costs ~45 MB (python3 with boto3 loaded).
ENV_IDLE_S = 300            # an environment idle this long (real seconds) is ended
ENV_MAX_IDLE_PER_FN = 4
ENV_MAX_IDLE = 8
ENV_CREDENTIALS_MARGIN_S = 60


class _Env:
    """One execution environment: the subprocess, its pipes, its temporary directory."""

    def __init__(self, key, proc, requests, results, mark, work, expires, log_stream):
        self.key = key
        self.proc = proc
        self.requests = requests      # fd: request lines to the environment
        self.results = results        # fd: result lines from it
        self.mark = mark
        self.work = work
        self.expires = expires        # its credentials' expiry (auth clock)
        self.log_stream = log_stream  # its CloudWatch Logs stream, as on Lambda
        self.pending = bytearray()    # log bytes written after the last mark
        self.invocations = 0
        self.last_used = time.time()

    def alive(self):
        return self.proc.poll() is None

    def end(self):
        try:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for fd in (self.requests, self.results):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.stdout.close()
        except OSError:
            pass
        shutil.rmtree(self.work, ignore_errors=True)


def _iso_ms(ts):
    """ISO 8601 with milliseconds and Z, as invocation records stamp their time."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def _iso_lambda(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000+0000")


@contextlib.contextmanager
def _unlocked(lock):
    """Fully release an RLock the current thread may hold (any depth), re-take it after."""
    depth = 0
    while True:
        try:
            lock.release()
        except RuntimeError:
            break
        depth += 1
    try:
        yield
    finally:
        for _ in range(depth):
            lock.acquire()


class LambdaService:
    SERVICE = "lambda"
    # Invoke runs the handler, whose boto3 calls come back into the emulator: the core must
    # not hold emu.lock around it (we take it ourselves around state access).
    UNLOCKED_OPERATIONS = {"Invoke"}

    def __init__(self, emu):
        self.emu = emu
        self.retry_delays_s = [0.5, 1.0]
        self.settle_s = 0.3
        self.max_logs = 500
        self.code_root = tempfile.mkdtemp(prefix="emu-lambda-")
        self._env_lock = threading.Lock()
        self._idle = {}           # environment key -> [_Env] idle, last used last
        self._stopping = False
        self._stopped = threading.Event()
        threading.Thread(target=self._reap, name="emu-lambda-reaper", daemon=True).start()
        atexit.register(shutil.rmtree, self.code_root, True)
        atexit.register(self.shutdown)
        self.reset()

    def _reap(self):
        """End environments idle for ENV_IDLE_S even when nothing is invoked any more."""
        while not self._stopped.wait(30):
            self._end_idle(lambda key: False)

    def reset(self):
        with self.emu.lock:
            self.functions = {}   # (account, region, name) -> fn dict
            self.logs = []
            # invocations still running across a reset must not log into the new world
            self.generation = getattr(self, "generation", 0) + 1
        self._end_idle(lambda key: True)   # their credentials are gone with the reset

    def shutdown(self):
        self._stopping = True
        self._stopped.set()
        self._end_idle(lambda key: True)

    # ------------------------------------------------------------------ helpers
    def _resolve(self, ctx, ref):
        """FunctionName may be a name, a full ARN or a partial ARN (account:function:name)."""
        account, region, name = ctx.account, ctx.region, ref
        if ref.startswith("arn:"):
            p = arn_parts(ref)
            if p is None or p["service"] != "lambda" or not p["resource"].startswith(
                    "function:"):
                raise AwsError("ValidationException", "1 validation error detected: Value '%s'"
                               " at 'functionName' failed to satisfy constraint" % ref)
            account, region, name = p["account"], p["region"], p["resource"][9:]
        elif ":function:" in ref:
            account, _, name = ref.split(":", 2)
            name = name[len("function:"):] if name.startswith("function:") else name
        if ":" in name:
            name, qual = name.split(":", 1)
            if qual != "$LATEST":
                raise AwsError("ResourceNotFoundException", "Function not found: %s"
                               % self._arn(ctx.partition, account, region, name) + ":" + qual,
                               status=404)
        return account, region, name

    def _arn(self, partition, account, region, name):
        return "arn:%s:lambda:%s:%s:function:%s" % (partition, region, account, name)

    def _get(self, ctx, ref):
        account, region, name = self._resolve(ctx, ref)
        fn = self.functions.get((account, region, name))
        if fn is None:
            raise AwsError("ResourceNotFoundException", "Function not found: %s"
                           % self._arn(ctx.partition, account, region, name), status=404)
        return fn

    def _check_role(self, ctx, role_arn):
        p = arn_parts(role_arn)
        if p is None or p["service"] != "iam" or not p["resource"].startswith("role/"):
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'role' failed to satisfy constraint: Member must satisfy regular "
                           "expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                           "[a-zA-Z_0-9+=,.@\\-_/]+" % role_arn)
        ctx.authorize("iam:PassRole", role_arn)
        iam = self.emu.services["iam"]
        role = iam.get_role(p["account"], role_arn)
        if role is None or not iam.trusts_service(p["account"], role_arn,
                                                  "lambda.amazonaws.com") or \
                not iam.role_propagated(p["account"], role_arn):
            raise AwsError("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)

    # Who delivers to a destination or dead-letter target: the function's execution role, with
    # this action (IAM's name, and the API call Lambda's refusal names).
    _DELIVERY_ACTIONS = {"sns": ("sns:Publish", "Publish"),
                         "sqs": ("sqs:SendMessage", "SendMessage"),
                         "lambda": ("lambda:InvokeFunction", "InvokeFunction"),
                         "events": ("events:PutEvents", "PutEvents")}

    def _role_may(self, role_arn, target_arn):
        """May the execution role make the delivery call to target_arn (identity policy)?"""
        p = arn_parts(target_arn)
        action = self._DELIVERY_ACTIONS[p["service"]][0]
        account, context = role_context(self.emu, role_arn, p["region"])
        return self.emu.services["iam"].is_allowed(account, role_arn, action, target_arn,
                                                   context)

    def _check_dead_letter(self, role_arn, config):
        """DeadLetterConfig: an SNS topic or SQS queue the execution role may send to, as Lambda
        checks when it is set. -> the target ARN, or None (none or "" removes it)."""
        target = (config or {}).get("TargetArn")
        if not target:
            return None
        p = arn_parts(target)
        if p is None or p["service"] not in ("sns", "sqs") or \
                not re.fullmatch(r"\d{12}", p["account"]):
            raise AwsError("InvalidParameterValueException", "The provided target arn %s is "
                           "invalid: a dead-letter queue is an SNS topic or an SQS queue."
                           % target)
        if not self._role_may(role_arn, target):
            raise AwsError("InvalidParameterValueException", "The provided execution role does "
                           "not have permissions to call %s on %s"
                           % (self._DELIVERY_ACTIONS[p["service"]][1], p["service"].upper()))
        return target

    def _check_destinations(self, role_arn, config):
        """DestinationConfig: OnSuccess / OnFailure destinations of a known kind that the
        execution role may deliver to, as Lambda checks when they are set."""
        for when in ("OnSuccess", "OnFailure"):
            target = ((config or {}).get(when) or {}).get("Destination")
            if not target:
                continue
            p = arn_parts(target)
            kinds = ("sns", "sqs", "lambda", "events") + (("s3",) if when == "OnFailure" else ())
            if p is None or p["service"] not in kinds:
                raise AwsError("InvalidParameterValueException", "The destination ARN %s is "
                               "invalid." % target)
            if p["service"] == "s3":
                continue   # a bucket: no delivery is emulated, nothing to check
            if not self._role_may(role_arn, target):
                raise AwsError("InvalidParameterValueException", "The function's execution role "
                               "does not have permissions to call %s on %s"
                               % (self._DELIVERY_ACTIONS[p["service"]][1], target))

    @staticmethod
    def _check_env(env):
        bad = sorted(k for k in ((env or {}).get("Variables") or {}) if k in _RESERVED_ENV)
        if bad:
            raise AwsError("InvalidParameterValueException", "Lambda was unable to configure "
                           "your environment variables because the environment variables you "
                           "have provided contains reserved keys that are currently not "
                           "supported for modification. Reserved keys used in this request: "
                           + ",".join(bad))

    @staticmethod
    def _check_zip(data):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                zf.namelist()
        except (zipfile.BadZipFile, ValueError):
            raise AwsError("InvalidParameterValueException", "Could not unzip uploaded file. "
                           "Please check your file, then try to upload again.")

    @staticmethod
    def _check_limits(params):
        t = params.get("Timeout")
        if t is not None and not 1 <= t <= 900:
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'timeout' failed to satisfy constraint: Member must have value "
                           "less than or equal to 900" % t)
        m = params.get("MemorySize")
        if m is not None and not 128 <= m <= 10240:
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'memorySize' failed to satisfy constraint: Member must have value "
                           "greater than or equal to 128" % m)
        r = params.get("Runtime")
        if r is not None and r not in _RUNTIMES:
            raise AwsError("InvalidParameterValueException", "The runtime parameter of %s is "
                           "not supported by this emulator (python3.x only)." % r)

    def _zip_from(self, ctx, code):
        """The deployment package: ZipFile, or the S3 object Code names (S3Bucket, S3Key,
        S3ObjectVersion), read as the caller (emu.lock held)."""
        if code.get("ZipFile"):
            if code.get("S3Bucket") or code.get("S3Key") or code.get("ImageUri"):
                raise AwsError("InvalidParameterValueException", "Please don't provide both "
                               "ZipFile and S3 code locations.")
            data = code["ZipFile"]
        elif code.get("S3Bucket") and code.get("S3Key"):
            data = self._s3_code(ctx, code["S3Bucket"], code["S3Key"],
                                 code.get("S3ObjectVersion"))
        else:
            raise AwsError("InvalidParameterValueException", "Please provide a source for "
                           "function code (ZipFile, or S3Bucket and S3Key).")
        self._check_zip(data)
        return data

    def _s3_code(self, ctx, bucket, key, version=None):
        """GetObject on the emulated S3 with the caller's rights (its identity policy and the
        bucket's policy, aws:PrincipalOrgID included), the bucket in the function's Region;
        S3's refusal becomes Lambda's InvalidParameterValueException, worded as Lambda words
        it."""
        s3 = self.emu.services["s3"]
        s3ctx = Ctx(self.emu, ctx.account, ctx.region, "s3", "GetObject", ctx.principal_arn,
                    ctx.role_arn, ctx.request_id, protocol="rest-xml")
        params = {"Bucket": bucket, "Key": key}
        if version:
            params["VersionId"] = version
        try:
            return s3._read(s3ctx, params, head=False)["Body"]
        except AwsError as exc:
            if exc.code == "AccessDenied":
                message = ("Your access has been denied by S3, please make sure your request "
                           "credentials have permission to GetObject for %s/%s. S3 Error Code: "
                           "AccessDenied. S3 Error Message: Access Denied" % (bucket, key))
            elif exc.code == "PermanentRedirect":
                message = ("Error occurred while GetObject. S3 Error Code: PermanentRedirect. "
                           "S3 Error Message: The bucket is in this region: %s. Please use "
                           "this region to retry the request" % s3.buckets[bucket]["region"])
            else:
                message = "Error occurred while GetObject. S3 Error Code: %s. S3 Error " \
                    "Message: %s" % (exc.code, exc.message)
            raise AwsError("InvalidParameterValueException", message, status=400)

    def _set_code(self, fn, data):
        fn["zip"] = data
        fn["config"]["CodeSha256"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
        fn["config"]["CodeSize"] = len(data)

    def _begin_update(self, fn, creating=False):
        cfg = fn["config"]
        if creating:
            cfg["State"] = "Pending"
            cfg["StateReason"] = "The function is being created."
            cfg["StateReasonCode"] = "Creating"
        cfg["LastUpdateStatus"] = "InProgress"
        cfg["LastUpdateStatusReason"] = "The function is being created." if creating else \
            "The function is being updated."
        cfg["LastUpdateStatusReasonCode"] = "Creating" if creating else "UpdatingFunction"
        cfg["LastModified"] = _iso_lambda(self.emu.now())
        cfg["RevisionId"] = str(uuid.uuid4())
        fn["generation"] += 1
        self.emu.submit(self._settle, fn["key"], fn["generation"], delay_s=self.settle_s)

    def _settle(self, key, generation):
        with self.emu.lock:
            fn = self.functions.get(key)
            if fn is None or fn["generation"] != generation:
                return
            cfg = fn["config"]
            cfg["State"] = "Active"
            cfg["LastUpdateStatus"] = "Successful"
            for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason",
                      "LastUpdateStatusReasonCode"):
                cfg.pop(k, None)

    def _refuse_if_updating(self, fn):
        if fn["config"].get("State") == "Pending":
            raise AwsError("ResourceConflictException", "The operation cannot be performed at "
                           "this time. The function is currently in the following state: "
                           "Pending", status=409)
        if fn["config"].get("LastUpdateStatus") == "InProgress":
            raise AwsError("ResourceConflictException", "The operation cannot be performed at "
                           "this time. An update is in progress for resource: %s"
                           % fn["config"]["FunctionArn"], status=409)

    @staticmethod
    def _config_out(fn):
        return json.loads(json.dumps(fn["config"]))

    # ------------------------------------------------------------- functions
    def CreateFunction(self, ctx, params):
        name = params["FunctionName"]
        account, region, name = self._resolve(ctx, name)
        if not _NAME.match(name):
            raise AwsError("ValidationException", "1 validation error detected: Value '%s' at "
                           "'functionName' failed to satisfy constraint: Member must satisfy "
                           "regular expression pattern: [a-zA-Z0-9-_]+" % name)
        if account != ctx.account or region != ctx.region:
            raise AwsError("AccessDeniedException", "Cannot create a function in another "
                           "account or Region.", status=403)
        if params.get("PackageType", "Zip") != "Zip":
            raise AwsError("InvalidParameterValueException", "Only Zip packages are supported "
                           "by this emulator.")
        self._check_limits(params)
        if not params.get("Runtime"):
            raise AwsError("InvalidParameterValueException", "Runtime is required for .zip "
                           "file deployment package.")
        if not params.get("Handler"):
            raise AwsError("InvalidParameterValueException", "Handler is required for .zip "
                           "file deployment package.")
        code = params.get("Code") or {}
        self._check_env(params.get("Environment"))
        arn = self._arn(ctx.partition, account, region, name)
        with self.emu.lock:
            ctx.authorize("lambda:CreateFunction", arn)
            if params.get("Tags"):
                ctx.authorize("lambda:TagResource", arn)
            self._check_role(ctx, params["Role"])
            dlq = self._check_dead_letter(params["Role"], params.get("DeadLetterConfig"))
            zip_data = self._zip_from(ctx, code)
            key = (account, region, name)
            if key in self.functions:
                raise AwsError("ResourceConflictException", "Function already exist: %s" % name,
                               status=409)
            cfg = {"FunctionName": name, "FunctionArn": arn, "Runtime": params["Runtime"],
                   "Role": params["Role"], "Handler": params["Handler"],
                   "Description": params.get("Description", ""),
                   "Timeout": params.get("Timeout") or 3,
                   "MemorySize": params.get("MemorySize") or 128, "Version": "$LATEST",
                   "TracingConfig": {"Mode": "PassThrough"}, "PackageType": "Zip",
                   "Architectures": params.get("Architectures") or ["x86_64"],
                   "EphemeralStorage": {"Size": 512}}
            env = (params.get("Environment") or {}).get("Variables")
            if env:
                cfg["Environment"] = {"Variables": dict(env)}
            if dlq:
                cfg["DeadLetterConfig"] = {"TargetArn": dlq}
            fn = {"key": key, "config": cfg, "policy": [], "tags": dict(params.get("Tags")
                                                                        or {}),
                  "generation": 0, "account": account, "region": region,
                  "event_config": None}
            self._set_code(fn, zip_data)
            self.functions[key] = fn
            self._begin_update(fn, creating=True)
            return self._config_out(fn)

    def GetFunction(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:GetFunction", fn["config"]["FunctionArn"])
            out = {"Configuration": self._config_out(fn),
                   "Code": {"RepositoryType": "S3",
                            "Location": "%s/_emu/lambda-code/%s" % (
                                self.emu.url, fn["config"]["CodeSha256"])}}
            if fn["tags"]:
                out["Tags"] = dict(fn["tags"])
            return out

    def GetFunctionConfiguration(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:GetFunctionConfiguration", fn["config"]["FunctionArn"])
            return self._config_out(fn)

    def UpdateFunctionCode(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:UpdateFunctionCode", fn["config"]["FunctionArn"])
            zip_data = self._zip_from(ctx, params)
            self._refuse_if_updating(fn)
            if params.get("DryRun"):
                return self._config_out(fn)
            self._set_code(fn, zip_data)
            self._begin_update(fn)
            return self._config_out(fn)

    def UpdateFunctionConfiguration(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:UpdateFunctionConfiguration", fn["config"]["FunctionArn"])
            self._check_limits(params)
            self._check_env(params.get("Environment"))
            self._refuse_if_updating(fn)
            if params.get("Role") and params["Role"] != fn["config"]["Role"]:
                self._check_role(ctx, params["Role"])
            cfg = fn["config"]
            if "DeadLetterConfig" in params:
                # TargetArn "" (or none) removes it; a new one is checked against the role
                dlq = self._check_dead_letter(params.get("Role") or cfg["Role"],
                                              params["DeadLetterConfig"])
                if dlq:
                    cfg["DeadLetterConfig"] = {"TargetArn": dlq}
                else:
                    cfg.pop("DeadLetterConfig", None)
            elif params.get("Role") and cfg.get("DeadLetterConfig"):
                self._check_dead_letter(params["Role"], cfg["DeadLetterConfig"])
            for k in ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime"):
                if params.get(k) is not None:
                    cfg[k] = params[k]
            if "Environment" in params:
                env = (params.get("Environment") or {}).get("Variables")
                if env:
                    cfg["Environment"] = {"Variables": dict(env)}
                else:
                    cfg.pop("Environment", None)
            self._begin_update(fn)
            return self._config_out(fn)

    def DeleteFunction(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:DeleteFunction", fn["config"]["FunctionArn"])
            del self.functions[fn["key"]]
        self._end_idle(lambda key: key[1:4] == fn["key"])
        return {}

    def ListFunctions(self, ctx, params):
        with self.emu.lock:
            ctx.authorize("lambda:ListFunctions", "*")
            fns = [self._config_out(f) for (a, r, _), f in sorted(self.functions.items())
                   if a == ctx.account and r == ctx.region]
            start = int(params.get("Marker") or 0)
            n = params.get("MaxItems") or 50
            out = {"Functions": fns[start:start + n]}
            if start + n < len(fns):
                out["NextMarker"] = str(start + n)
            return out

    # ------------------------------------------------------------- permissions
    def AddPermission(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            arn = fn["config"]["FunctionArn"]
            ctx.authorize("lambda:AddPermission", arn)
            sid = params["StatementId"]
            if not _SID.match(sid):
                raise AwsError("ValidationException", "1 validation error detected: Value '%s' "
                               "at 'statementId' failed to satisfy constraint: Member must "
                               "satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)" % sid)
            action = params["Action"]
            if not re.fullmatch(r"(lambda:[*]|lambda:[a-zA-Z]+|[*])", action):
                raise AwsError("ValidationException", "1 validation error detected: Value '%s' "
                               "at 'action' failed to satisfy constraint" % action)
            if any(s["Sid"] == sid for s in fn["policy"]):
                raise AwsError("ResourceConflictException", "The statement id (%s) provided "
                               "already exists. Please provide a new statement id, or remove "
                               "the existing statement." % sid, status=409)
            principal = params["Principal"]
            if principal == "*":
                pr = "*"
            elif re.fullmatch(r"\d{12}", principal):
                pr = {"AWS": "arn:%s:iam::%s:root" % (ctx.partition, principal)}
            elif principal.startswith("arn:"):
                pr = {"AWS": principal}
            elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
                pr = {"Service": principal}
            else:
                raise AwsError("InvalidParameterValueException", "The provided principal was "
                               "invalid. Please check the principal and try again.")
            st = {"Sid": sid, "Effect": "Allow", "Principal": pr, "Action": action,
                  "Resource": arn}
            cond = {}
            if params.get("SourceArn"):
                cond.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
            if params.get("SourceAccount"):
                cond.setdefault("StringEquals", {})["AWS:SourceAccount"] = \
                    params["SourceAccount"]
            if params.get("PrincipalOrgID"):
                cond.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = \
                    params["PrincipalOrgID"]
            if cond:
                st["Condition"] = cond
            fn["policy"].append(st)
            fn["policy_rev"] = str(uuid.uuid4())
            return {"Statement": json.dumps(st, separators=(",", ":"))}

    def RemovePermission(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:RemovePermission", fn["config"]["FunctionArn"])
            sid = params["StatementId"]
            rest = [s for s in fn["policy"] if s["Sid"] != sid]
            if len(rest) == len(fn["policy"]):
                raise AwsError("ResourceNotFoundException", "Statement %s is not found in "
                               "resource policy." % sid, status=404)
            fn["policy"] = rest
            fn["policy_rev"] = str(uuid.uuid4())
            return {}

    def GetPolicy(self, ctx, params):
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            ctx.authorize("lambda:GetPolicy", fn["config"]["FunctionArn"])
            if not fn["policy"]:
                raise AwsError("ResourceNotFoundException", "The resource you requested does "
                               "not exist.", status=404)
            doc = {"Version": "2012-10-17", "Id": "default", "Statement": fn["policy"]}
            return {"Policy": json.dumps(doc, separators=(",", ":")),
                    "RevisionId": fn.get("policy_rev", "")}

    @staticmethod
    def policy_allows(statements, function_arn, principal, source_arn, source_account,
                      action="lambda:InvokeFunction", org_keys=None):
        """Does the function's resource policy let principal (a service principal or an
        account root ARN) perform action, given the SourceArn / SourceAccount (and, for an
        account's caller, its aws:PrincipalOrgID/Paths, org_keys)?"""
        from .iam import evaluate_resource_policy
        if principal.startswith("arn:"):
            caller = {"account": principal.split(":")[4], "arn": principal}
        else:
            caller = {"service": principal}
        context = {}
        if source_arn:
            context["aws:SourceArn"] = source_arn
        if source_account:
            context["aws:SourceAccount"] = source_account
        context.update(org_keys or {})
        decision, _how = evaluate_resource_policy({"Statement": statements}, caller, action,
                                                  function_arn, context)
        return decision == "allow"

    # ------------------------------------------------- event invoke configuration
    def _event_config_fn(self, ctx, params, action):
        fn = self._get(ctx, params["FunctionName"])
        ctx.authorize(action, fn["config"]["FunctionArn"])
        qualifier = params.get("Qualifier")
        if qualifier not in (None, "$LATEST"):
            raise AwsError("ResourceNotFoundException", "Function not found: %s:%s"
                           % (fn["config"]["FunctionArn"], qualifier), status=404)
        return fn

    def _event_config_out(self, fn):
        cfg = dict(fn["event_config"])
        cfg["FunctionArn"] = fn["config"]["FunctionArn"] + ":$LATEST"
        return json.loads(json.dumps(cfg))

    def _set_event_config(self, fn, new):
        self._check_destinations(fn["config"]["Role"], new.get("DestinationConfig"))
        new["LastModified"] = self.emu.now()
        fn["event_config"] = new

    def PutFunctionEventInvokeConfig(self, ctx, params):
        """Replaces the whole configuration: what is not given is gone (defaults apply)."""
        with self.emu.lock:
            fn = self._event_config_fn(ctx, params, "lambda:PutFunctionEventInvokeConfig")
            new = {k: params[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
                   if k in params}
            new["DestinationConfig"] = params.get("DestinationConfig") or {}
            self._set_event_config(fn, new)
            return self._event_config_out(fn)

    def UpdateFunctionEventInvokeConfig(self, ctx, params):
        """Changes what is given, keeps the rest."""
        with self.emu.lock:
            fn = self._event_config_fn(ctx, params, "lambda:UpdateFunctionEventInvokeConfig")
            new = json.loads(json.dumps(fn.get("event_config") or {"DestinationConfig": {}}))
            for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
                if k in params:
                    new[k] = params[k]
            for when, dest in (params.get("DestinationConfig") or {}).items():
                new["DestinationConfig"][when] = dest
            self._set_event_config(fn, new)
            return self._event_config_out(fn)

    def GetFunctionEventInvokeConfig(self, ctx, params):
        with self.emu.lock:
            fn = self._event_config_fn(ctx, params, "lambda:GetFunctionEventInvokeConfig")
            if not fn.get("event_config"):
                raise AwsError("ResourceNotFoundException", "The function %s doesn't have an "
                               "EventInvokeConfig" % fn["config"]["FunctionArn"], status=404)
            return self._event_config_out(fn)

    def ListFunctionEventInvokeConfigs(self, ctx, params):
        with self.emu.lock:
            fn = self._event_config_fn(ctx, params, "lambda:ListFunctionEventInvokeConfigs")
            configs = [self._event_config_out(fn)] if fn.get("event_config") else []
            return {"FunctionEventInvokeConfigs": configs}

    def DeleteFunctionEventInvokeConfig(self, ctx, params):
        with self.emu.lock:
            fn = self._event_config_fn(ctx, params, "lambda:DeleteFunctionEventInvokeConfig")
            if not fn.get("event_config"):
                raise AwsError("ResourceNotFoundException", "The function %s doesn't have an "
                               "EventInvokeConfig" % fn["config"]["FunctionArn"], status=404)
            fn["event_config"] = None
            return {}

    # ---------------------------------------------------------------- invoke
    def Invoke(self, ctx, params):
        itype = params.get("InvocationType") or "RequestResponse"
        raw = params.get("Payload")
        if raw is None or raw == b"":
            payload = {}
        else:
            try:
                payload = json.loads(raw)
            except ValueError:
                raise AwsError("InvalidRequestContentException", "Could not parse request body "
                               "into json: Could not parse payload into json", status=400)
        with self.emu.lock:
            fn = self._get(ctx, params["FunctionName"])
            arn = fn["config"]["FunctionArn"]
            ctx.authorize("lambda:InvokeFunction", arn)
            if fn["account"] != ctx.account and not self.policy_allows(
                    fn["policy"], arn, "arn:%s:iam::%s:root" % (ctx.partition, ctx.account),
                    None, ctx.account, org_keys=self.emu.principal_org_keys(ctx.account)):
                raise AwsError("AccessDeniedException", "User: %s is not authorized to "
                               "perform: lambda:InvokeFunction on resource: %s because no "
                               "resource-based policy allows the lambda:InvokeFunction action"
                               % (ctx.principal_arn, arn), status=403)
            if fn["config"].get("State") == "Pending" and itype != "Event":
                raise AwsError("ResourceConflictException", "The operation cannot be performed "
                               "at this time. The function is currently in the following "
                               "state: Pending", status=409)
            snap = self._snapshot(fn)
        if itype == "DryRun":
            return {"StatusCode": 204}
        if itype == "Event":
            self.emu.submit(self._async_attempt, snap, payload, str(uuid.uuid4()), 0,
                            self.emu.now())
            return {"StatusCode": 202}
        if itype != "RequestResponse":
            raise AwsError("InvalidParameterValueException", "Unsupported invocation type %s"
                           % itype)
        with _unlocked(self.emu.lock):
            rec = self._run(snap, payload, ctx.request_id or str(uuid.uuid4()), 0,
                            "RequestResponse")
        out = {"StatusCode": 200, "ExecutedVersion": "$LATEST",
               "Payload": json.dumps(rec["result"]).encode()}
        if rec["status"] != "success":
            out["FunctionError"] = "Unhandled"
        if params.get("LogType") == "Tail":
            out["LogResult"] = base64.b64encode(rec["log"].encode()[-4096:]).decode()
        return out

    def invoke_async(self, account, region, function_arn, payload, source_arn=None,
                     principal="events.amazonaws.com"):
        p = arn_parts(function_arn)
        name = p["resource"][len("function:"):].split(":")[0] if p else ""
        with self.emu.lock:
            fn = self.functions.get((account, region, name))
            if fn is None:
                raise AwsError("ResourceNotFoundException", "Function not found: %s"
                               % function_arn, status=404)
            src_account = (arn_parts(source_arn) or {}).get("account") if source_arn else None
            if not self.policy_allows(fn["policy"], fn["config"]["FunctionArn"], principal,
                                      source_arn, src_account):
                raise AwsError("AccessDeniedException", "%s is not authorized to perform: "
                               "lambda:InvokeFunction on resource: %s with SourceArn %s: no "
                               "statement of the function's resource-based policy allows it"
                               % (principal, function_arn, source_arn), status=403)
            snap = self._snapshot(fn)
        self.emu.submit(self._async_attempt, snap, payload, str(uuid.uuid4()), 0, self.emu.now())

    def _snapshot(self, fn):
        return {"config": json.loads(json.dumps(fn["config"])), "zip": fn["zip"],
                "account": fn["account"], "region": fn["region"], "key": fn["key"],
                "generation": self.generation,
                "event_config": json.loads(json.dumps(fn.get("event_config") or {}))}

    def _async_attempt(self, snap, payload, request_id, attempt, enqueued, last=None):
        """One try of an asynchronous invocation (enqueued: when Lambda queued the event, AWS
        time; last: the previous try's record). A failed try is retried MaximumRetryAttempts
        times (2 by default) after retry_delays_s; then, or when a retry finds the event older
        than MaximumEventAgeInSeconds, the failure goes where the function says (_async_done)."""
        config = snap["event_config"]
        if last is not None and self.emu.now() - enqueued > config.get(
                "MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_S):
            self._async_done(snap, payload, request_id, attempt, last, "EventAgeExceeded")
            return
        rec = self._run(snap, payload, request_id, attempt, "Event")
        if snap["generation"] != self.generation:
            return
        if rec["status"] == "success":
            self._async_done(snap, payload, request_id, attempt + 1, rec, "Success")
        elif attempt < config.get("MaximumRetryAttempts", 2):
            delays = self.retry_delays_s or [0.0]
            self.emu.submit(self._async_attempt, snap, payload, request_id, attempt + 1,
                            enqueued, rec, delay_s=delays[min(attempt, len(delays) - 1)])
        else:
            self._async_done(snap, payload, request_id, attempt + 1, rec, "RetriesExhausted")

    def _async_done(self, snap, payload, request_id, invocations, rec, condition):
        """An asynchronous invocation's end: a success goes to the OnSuccess destination, a
        failure to the OnFailure destination (the invocation record) and to the dead-letter
        queue (the event), as configured; a failure with neither is recorded as a failed
        delivery."""
        cfg = snap["config"]
        dests = snap["event_config"].get("DestinationConfig") or {}
        when = "OnSuccess" if condition == "Success" else "OnFailure"
        target = (dests.get(when) or {}).get("Destination")
        if target:
            record = {"version": "1.0", "timestamp": _iso_ms(self.emu.now()),
                      "requestContext": {"requestId": request_id,
                                         "functionArn": cfg["FunctionArn"] + ":$LATEST",
                                         "condition": condition,
                                         "approximateInvokeCount": invocations},
                      "requestPayload": payload,
                      "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
                      "responsePayload": rec["result"]}
            if condition != "Success":
                record["responseContext"]["functionError"] = "Unhandled"
            self._deliver(snap, target, json.dumps(record), None, request_id)
        if condition == "Success":
            return
        dlq = (cfg.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            # the event as it came, with why in message attributes (first 1 KB of the error)
            attributes = {"RequestID": {"DataType": "String", "StringValue": request_id},
                          "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                          "ErrorMessage": {"DataType": "String",
                                           "StringValue": (rec["error"] or condition)[:1024]}}
            self._deliver(snap, dlq, json.dumps(payload), attributes, request_id)
        if not target and not dlq:
            self.emu.record_failed_delivery({
                "time": self.emu.now(), "rule_arn": None, "target_arn": cfg["FunctionArn"],
                "reason": "Lambda async invocation failed after %d attempts (%s): %s"
                          % (invocations, condition, rec["error"]), "event_id": request_id})

    def _deliver(self, snap, target, body, attributes, request_id):
        """Send a record or event to a destination or dead-letter target as the function's
        execution role; a refusal is recorded as a failed delivery with its reason."""
        p = arn_parts(target)
        role = snap["config"]["Role"]
        try:
            if p["service"] == "sns":
                self.emu.services["sns"].publish_as_role(role, target, None, body, attributes)
                return
            if p["service"] == "sqs":
                self.emu.services["sqs"].send_as_role(role, target, body, attributes)
                return
            reason = "destination type not emulated (%s)" % p["service"]
        except AwsError as exc:
            reason = err_text(exc)
        self.emu.record_failed_delivery({
            "time": self.emu.now(), "rule_arn": None,
            "source_arn": snap["config"]["FunctionArn"], "target_arn": target,
            "reason": "Lambda could not deliver the result of %s to %s: %s"
                      % (request_id, target, reason), "event_id": request_id})

    # --------------------------------------------------------------- runtime
    def _code_dir(self, cfg, data):
        os.makedirs(self.code_root, exist_ok=True)
        d = os.path.join(self.code_root, hashlib.sha256(data).hexdigest())
        if not os.path.isdir(d):
            tmp = tempfile.mkdtemp(dir=self.code_root)
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                zf.extractall(tmp)
            try:
                os.rename(tmp, d)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        return d

    def _credentials(self, account, role_arn, session):
        """(access key, secret, token, expiry on the auth clock) of the function's role."""
        creds = self.emu.credentials_for_role(account, role_arn, session)
        c = creds.get("Credentials", creds)
        expires = c.get("Expiration")
        expires = expires.timestamp() if isinstance(expires, datetime.datetime) else \
            self.emu.auth_now() + 3600
        return c["AccessKeyId"], c["SecretAccessKey"], c.get("SessionToken", ""), expires

    # -- execution environments ---------------------------------------------------------

    def _env_key(self, snap):
        cfg = snap["config"]
        return (snap["generation"], snap["account"], snap["region"], cfg["FunctionName"],
                cfg.get("RevisionId"), cfg.get("CodeSha256"))

    def _usable(self, env, timeout):
        return env.alive() and env.key[0] == self.generation and \
            env.expires - self.emu.auth_now() > timeout + ENV_CREDENTIALS_MARGIN_S

    def _end_idle(self, which):
        """End the idle environments whose key `which` selects, and those idle too long."""
        ended = []
        limit = time.time() - ENV_IDLE_S
        with self._env_lock:
            for key in list(self._idle):
                keep = []
                for env in self._idle[key]:
                    (ended if which(key) or env.last_used < limit else keep).append(env)
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
        for env in ended:
            env.end()

    def _acquire(self, snap):
        """An idle environment of this function version with credentials that outlast the
        invocation, or None."""
        key = self._env_key(snap)
        self._end_idle(lambda k: False)
        ended, found = [], None
        with self._env_lock:
            idle = self._idle.get(key) or []
            while idle and found is None:
                env = idle.pop()
                if self._usable(env, snap["config"]["Timeout"]):
                    found = env
                else:
                    ended.append(env)
        for env in ended:
            env.end()
        return found

    def _release(self, env):
        ended = []
        with self._env_lock:
            if self._stopping or not self._usable(env, 0):
                ended.append(env)
            else:
                env.last_used = time.time()
                self._idle.setdefault(env.key, []).append(env)
                idle = self._idle[env.key]
                while len(idle) > ENV_MAX_IDLE_PER_FN:
                    ended.append(idle.pop(0))
                everyone = sorted((e for lst in self._idle.values() for e in lst),
                                  key=lambda e: e.last_used)
                for old in everyone[:max(0, len(everyone) - ENV_MAX_IDLE)]:
                    self._idle[old.key].remove(old)
                    ended.append(old)
                for k in [k for k, lst in self._idle.items() if not lst]:
                    del self._idle[k]
        for e in ended:
            e.end()

    def _start_env(self, snap):
        cfg = snap["config"]
        code_dir = self._code_dir(cfg, snap["zip"])
        role_p = arn_parts(cfg["Role"]) or {"account": snap["account"]}
        ak, sk, tok, expires = self._credentials(role_p["account"], cfg["Role"],
                                                 cfg["FunctionName"])
        work = tempfile.mkdtemp(prefix="env-", dir=self.code_root)
        mark = "\x1eEMU-END-%s\x1e" % uuid.uuid4().hex
        log_stream = lambda_stream_name(self.emu.now())
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": work,
               "PYTHONPATH": code_dir, "PYTHONDONTWRITEBYTECODE": "1",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
               "AWS_CONFIG_FILE": os.path.join(work, "no-config"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "no-credentials"),
               "AWS_EC2_METADATA_DISABLED": "true"}
        env.update((cfg.get("Environment") or {}).get("Variables") or {})
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        env.update({"AWS_ENDPOINT_URL": self.emu.url, "AWS_REGION": snap["region"],
                    "AWS_DEFAULT_REGION": snap["region"], "AWS_ACCESS_KEY_ID": ak,
                    "AWS_SECRET_ACCESS_KEY": sk, "AWS_SESSION_TOKEN": tok,
                    "AWS_LAMBDA_FUNCTION_NAME": cfg["FunctionName"],
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg["MemorySize"]),
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + cfg["FunctionName"],
                    "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                    "AWS_EXECUTION_ENV": "AWS_Lambda_" + cfg["Runtime"],
                    "LAMBDA_TASK_ROOT": code_dir, "_HANDLER": cfg["Handler"],
                    "_EMU_FUNCTION_ARN": cfg["FunctionArn"], "_EMU_TIMEOUT": str(cfg["Timeout"]),
                    "_EMU_REQUESTS_FD": str(req_r), "_EMU_RESULTS_FD": str(res_w),
                    "_EMU_MARK": mark})
        try:
            proc = subprocess.Popen([PYTHON, "-c", _BOOTSTRAP], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    cwd=code_dir, env=env, pass_fds=(req_r, res_w))
        except OSError:
            for fd in (req_w, res_r):
                os.close(fd)
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            os.close(req_r)
            os.close(res_w)
        return _Env(self._env_key(snap), proc, req_w, res_r, mark.encode(), work, expires,
                    log_stream)

    def _invoke_env(self, env, payload, request_id, timeout):
        """Send one invocation; -> (log bytes, result dict or None, how it ended: "result",
        "deadline" (no answer in time: the environment was ended) or "exit" (it exited))."""
        deadline = time.time() + timeout + (INIT_ALLOWANCE_S if env.invocations == 0 else 1.0)
        env.invocations += 1
        data = (json.dumps({"event": payload, "request_id": request_id}) + "\n").encode()
        try:
            while data:
                data = data[os.write(env.requests, data):]
        except OSError:  # it is gone already
            env.proc.wait()
            return bytes(env.pending), None, "exit"
        buf, env.pending = env.pending, bytearray()
        out = env.proc.stdout.fileno()
        while True:
            i = buf.find(env.mark)
            if i >= 0:
                log, env.pending = bytes(buf[:i]), bytearray(buf[i + len(env.mark):])
                break
            left = deadline - time.time()
            if left <= 0:
                env.end()
                return bytes(buf), None, "deadline"
            if select.select([out], [], [], left)[0]:
                chunk = os.read(out, 65536)
                if not chunk:
                    env.proc.wait()
                    return bytes(buf), None, "exit"
                buf += chunk
        line = bytearray()
        while not line.endswith(b"\n"):
            left = deadline + 5 - time.time()
            if left <= 0 or not select.select([env.results], [], [], left)[0]:
                env.end()
                return log, None, "deadline"
            chunk = os.read(env.results, 65536)
            if not chunk:
                env.proc.wait()
                return log, None, "exit"
            line += chunk
        return log, json.loads(line.decode("utf-8")), "result"

    def _run(self, snap, payload, request_id, attempt, itype):
        cfg = snap["config"]
        start = time.time()
        started = self.emu.now()
        status, result, error = "error", None, None
        log_body = ""
        env = None
        try:
            env = self._acquire(snap)
            if env is None:
                env = self._start_env(snap)
            log, res, how = self._invoke_env(env, payload, request_id, cfg["Timeout"])
            log_body = log.decode("utf-8", "replace")
            if res is not None and res.get("timeout") or how == "deadline":
                status = "timeout"
                error = "Task timed out after %.2f seconds" % cfg["Timeout"]
                log_body += "%s %s %s\n" % (_iso_lambda(self.emu.now()), request_id, error)
                result = {"errorMessage": "%s %s" % (_iso_lambda(self.emu.now()), error),
                          "errorType": "Sandbox.Timedout"}
                env.end()
            elif res is None:
                error = "Runtime exited with error: exit status %d" % env.proc.returncode
                result = {"errorMessage": "RequestId: %s Error: %s" % (request_id, error),
                          "errorType": "Runtime.ExitError"}
                env.end()
            elif "ok" in res:
                status, result = "success", res["ok"]
                self._release(env)
            else:
                result = res["error"]
                error = "%s: %s" % (result["errorType"], result["errorMessage"])
                if res.get("init_failed"):
                    env.end()   # the next invocation initialises a new environment
                else:
                    self._release(env)
        except AwsError as exc:
            error = err_text(exc)
            result = {"errorMessage": error, "errorType": "Runtime.CredentialsError"}
            if env is not None:
                env.end()
        duration = (time.time() - start) * 1000.0
        if log_body and not log_body.endswith("\n"):
            log_body += "\n"   # output without a final newline is a log event of its own
        log = "START RequestId: %s Version: $LATEST\n%sEND RequestId: %s\nREPORT RequestId: " \
              "%s\tDuration: %.2f ms\tMemory Size: %d MB\n" % (
                  request_id, log_body, request_id, request_id, duration, cfg["MemorySize"])
        rec = {"time": started, "function": cfg["FunctionName"],
               "function_arn": cfg["FunctionArn"], "account": snap["account"],
               "region": snap["region"], "request_id": request_id, "status": status,
               "error": error, "duration_ms": round(duration, 2), "log": log, "result": result,
               "attempt": attempt, "invocation_type": itype}
        with self.emu.lock:
            if snap["generation"] == self.generation:
                self.logs.append(rec)
                del self.logs[:-self.max_logs]
                logs = self.emu.services.get("logs")
                if logs is not None:  # the function's output, one log event a line
                    rec["log_group"] = logs.lambda_output(
                        snap["account"], snap["region"], cfg["FunctionName"], cfg["Role"],
                        log[:-1].split("\n"), None if env is None else env.log_stream)
        return rec

    # ------------------------------------------------------------------ tags
    def _tag_fn(self, ctx, arn):
        p = arn_parts(arn)
        if p is None or p["service"] != "lambda" or not p["resource"].startswith("function:"):
            raise AwsError("InvalidParameterValueException", "Invalid resource ARN: %s" % arn)
        return self._get(ctx, arn)

    def TagResource(self, ctx, params):
        with self.emu.lock:
            fn = self._tag_fn(ctx, params["Resource"])
            ctx.authorize("lambda:TagResource", fn["config"]["FunctionArn"])
            fn["tags"].update(params["Tags"])
            return {}

    def UntagResource(self, ctx, params):
        with self.emu.lock:
            fn = self._tag_fn(ctx, params["Resource"])
            ctx.authorize("lambda:UntagResource", fn["config"]["FunctionArn"])
            for k in params["TagKeys"]:
                fn["tags"].pop(k, None)
            return {}

    def ListTags(self, ctx, params):
        with self.emu.lock:
            fn = self._tag_fn(ctx, params["Resource"])
            ctx.authorize("lambda:ListTags", fn["config"]["FunctionArn"])
            return {"Tags": dict(fn["tags"])}

    # --------------------------------------------------------------- control
    def control_routes(self):
        return {("GET", "/_emu/lambda-logs"): self._ctl_logs,
                ("POST", "/_emu/lambda-config"): self._ctl_config}

    def _ctl_logs(self, body):
        body = body or {}
        with self.emu.lock:
            logs = [dict(r) for r in self.logs
                    if not body.get("function") or r["function"] == body["function"]]
        return 200, {"logs": logs}

    def _ctl_config(self, body):
        body = body or {}
        with self.emu.lock:
            if "retry_delays_s" in body:
                self.retry_delays_s = [float(x) for x in body["retry_delays_s"]]
            if "settle_s" in body:
                self.settle_s = float(body["settle_s"])
            return 200, {"retry_delays_s": self.retry_delays_s, "settle_s": self.settle_s}

    def inventory(self):
        out = []
        with self.emu.lock:
            for (a, r, _), fn in sorted(self.functions.items()):
                out.append({"account": a, "region": r, "type": "lambda:function",
                            "id": fn["config"]["FunctionArn"],
                            "permissions": [s["Sid"] for s in fn["policy"]]})
        return out
