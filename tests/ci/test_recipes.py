"""The CI recipes of examples/ci, run for real: each job's shell (not the CI platform) against the
local emulator, with the state in the emulator's S3.

usage: /usr/bin/python3 tests/ci/test_recipes.py PATH/TO/rdsbk-provision [unittest args]

GitHub Actions (examples/ci/github-actions.yml): every `run:` step of a job but the ones named
"Install rdsbk-provision" (the binary under test is on PATH instead), under bash -eo pipefail as
GitHub runs them, with the workflow's, job's and step's `env:`; `${{ ... }}` expressions are
replaced from a table, and one the table lacks fails the test (a recipe must stay testable).
Credentials: the default chain reaches the backup account's profile (configure-aws-credentials
is a platform step).
GitLab CI (examples/ci/gitlab-ci.yml): every job's `script:` (YAML anchors flattened), the
`before_script` (which builds the tool) skipped, the global and the job's `variables:` (with
`extends:`) expanded as GitLab does; credentials: the recipe's own web identity (GitLab's ID
token in AWS_ID_TOKEN, a role of the backup account that trusts it), which the tool exchanges
itself for the state in S3.
In both: a merge request's plan (changes: the job passes, the plan is shown), the default branch's
apply, the plan again (no changes), a snapshot through the pipeline and the scheduled freshness
check, the per-request preview stack applied then destroyed (nothing of it left), and a plan
against a bucket that does not exist failing the job.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "reliability"))

import common  # noqa: E402
from common import A, B, RA, RB  # noqa: E402

BIN = None
W = None
BUCKET = "acme-rdsbk-states"
# a JWT as GitLab's ID token looks (the emulator checks the form, not the signature)
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS9iYWNrdXBzIn0.c2lnbmF0dXJl"


class RecipeCase(unittest.TestCase):
    """A work directory with rdsbk.yaml (stack `orders`), a bin directory with the tool, the
    state bucket in the backup account."""

    def setUp(self):
        W.control("POST", "/_emu/reset")
        self.dir = tempfile.mkdtemp(prefix="rdsbk-ci-")
        with open(os.path.join(self.dir, "rdsbk.yaml"), "w") as f:
            f.write(common.topology_text(W.url, stack="orders", sources=[
                {"account": A, "region": RA, "instances": ["orders-db"]}]))
        bindir = os.path.join(self.dir, "bin")
        os.mkdir(bindir)
        os.symlink(BIN, os.path.join(bindir, "rdsbk-provision"))
        self.env = dict(W.env, PATH=bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                        HOME=self.dir)
        W.client("s3", B, RB).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": RB})

    def sh(self, script, env):
        """Runs `script` as a CI job's shell does (bash, stop at the first failing command)."""
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=600)

    def ok(self, proc, what):
        self.assertEqual(proc.returncode, 0, "%s failed:\n%s\n%s" % (
            what, proc.stdout[-3000:], proc.stderr[-3000:]))
        return proc

    def snapshot_through_the_pipeline(self):
        W.control("POST", "/_emu/rds/automated-snapshot",
                  {"account": A, "region": RA, "db_instance": "orders-db"})
        W.control("POST", "/_emu/wait-idle", {"timeout_s": 120})

    def stack_resources(self, stack):
        """What the emulator holds of `stack` but keys pending deletion."""
        return [r for r in W.harness.control("GET", "/_emu/inventory")[1]["resources"]
                if "rdsbk-%s-" % stack in json.dumps(r) and r.get("state") != "PendingDeletion"
                and not (r.get("type") == "kms:alias" and "rdsbk-%s" % stack not in r["id"])]

    def state_keys(self):
        out = W.client("s3", B, RB).list_objects_v2(Bucket=BUCKET)
        return sorted(o["Key"] for o in out.get("Contents", []))

    def tearDown(self):
        # the main stack, whatever the test left
        self.sh('rdsbk-provision destroy -f rdsbk.yaml --auto-approve --force-key-deletion '
                '--state "s3://%s/rdsbk/main.json"' % BUCKET, dict(self.env, AWS_PROFILE=B))
        shutil.rmtree(self.dir, ignore_errors=True)


class GitHubActionsTest(RecipeCase):
    RECIPE = os.path.join(ROOT, "examples", "ci", "github-actions.yml")

    def setUp(self):
        super().setUp()
        with open(self.RECIPE) as f:
            self.flow = yaml.safe_load(f)
        self.summary = os.path.join(self.dir, "summary.md")
        self.env.update(AWS_PROFILE=B, GITHUB_STEP_SUMMARY=self.summary)
        self.context = {"vars.RDSBK_STATE_BUCKET": BUCKET,
                        "vars.RDSBK_ROLE_ARN": "arn:aws:iam::%s:role/ci" % B,
                        "vars.RDSBK_TOOL_REPO": "https://example.com/rdsbk-provision.git",
                        "github.event.pull_request.number": "7",
                        "github.event.action == 'closed'": "false"}

    def expand(self, text):
        def one(m):
            expr = m.group(1).strip()
            self.assertIn(expr, self.context, "an expression the test cannot give: %s" % expr)
            return self.context[expr]
        return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))

    def job(self, name, **context):
        """Runs the job's run steps; returns the last step's process."""
        self.context.update(context)
        job = self.flow["jobs"][name]
        env = dict(self.env)
        for scope in (self.flow.get("env"), job.get("env")):
            env.update({k: self.expand(v) for k, v in (scope or {}).items()})
        proc = None
        for step in job["steps"]:
            if "run" not in step or step.get("name") == "Install rdsbk-provision":
                continue
            step_env = dict(env, **{k: self.expand(v) for k, v in (step.get("env") or {}).items()})
            proc = self.sh(self.expand(step["run"]), step_env)
            if proc.returncode != 0:
                return proc
        return proc

    def test_the_workflow(self):
        self.ok(self.job("plan"), "plan of a new stack")
        with open(self.summary) as f:
            summary = f.read()
        self.assertIn("### rdsbk-provision plan", summary)
        self.assertIn("will be created", summary)
        self.ok(self.job("apply"), "apply")
        self.assertEqual(self.state_keys(), ["rdsbk/main.json"])
        os.unlink(self.summary)
        self.ok(self.job("plan"), "plan after apply")
        with open(self.summary) as f:
            self.assertIn("No changes.", f.read())
        self.snapshot_through_the_pipeline()
        self.ok(self.job("freshness"), "freshness")

        self.ok(self.job("preview"), "preview")
        self.assertTrue(self.stack_resources("pr7"))
        self.assertIn("rdsbk/preview/pr7.json", self.state_keys())
        self.ok(self.job("preview", **{"github.event.action == 'closed'": "true"}), "closed")
        self.assertEqual(self.stack_resources("pr7"), [])

        self.context["vars.RDSBK_STATE_BUCKET"] = "no-such-bucket-here"
        failed = self.job("plan")
        self.assertEqual(failed.returncode, 1, failed.stderr)
        self.assertIn("no-such-bucket-here", failed.stderr)


class GitLabCiTest(RecipeCase):
    RECIPE = os.path.join(ROOT, "examples", "ci", "gitlab-ci.yml")

    def setUp(self):
        super().setUp()
        with open(self.RECIPE) as f:
            self.pipeline = yaml.safe_load(f)
        iam = W.client("iam", B, "us-east-1")
        iam.create_role(RoleName="rdsbk-ci", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                # on AWS also a condition on the token's aud and sub (this project); the
                # emulator does not read a token's claims
                "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/gitlab.com" % B}}]}))
        ci_role = "arn:aws:iam::%s:role/rdsbk-ci" % B
        iam.put_role_policy(RoleName="rdsbk-ci", PolicyName="state", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::%s" % BUCKET, "arn:aws:s3:::%s/*" % BUCKET]},
                {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Resource": "arn:aws:iam::*:role/rdsbk-deployer"}]}))
        # each account of the topology is reached through its role_arn, as in a real setup
        for account in (A, B):
            iam_acct = W.client("iam", account, "us-east-1")
            iam_acct.create_role(RoleName="rdsbk-deployer", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": [ci_role, "arn:aws:iam::%s:root" % B]}}]}))
            iam_acct.put_role_policy(RoleName="rdsbk-deployer", PolicyName="all",
                                     PolicyDocument=json.dumps({
                                         "Version": "2012-10-17", "Statement": [{
                                             "Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        with open(os.path.join(self.dir, "rdsbk.yaml")) as f:
            text = f.read()
        for account in (A, B):
            text = text.replace('profile: "%s"' % account,
                                'role_arn: "arn:aws:iam::%s:role/rdsbk-deployer"' % account)
        with open(os.path.join(self.dir, "rdsbk.yaml"), "w") as f:
            f.write(text)
        self.predefined = {"CI_PROJECT_DIR": self.dir, "CI_MERGE_REQUEST_IID": "7",
                           "CI_PIPELINE_SOURCE": "merge_request_event", "AWS_ID_TOKEN": ID_TOKEN,
                           "RDSBK_ROLE_ARN": "arn:aws:iam::%s:role/rdsbk-ci" % B,
                           "RDSBK_STATE_BUCKET": BUCKET,
                           "RDSBK_TOOL_REPO": "https://example.com/rdsbk-provision.git"}

    @staticmethod
    def flatten(items):
        for item in items:
            if isinstance(item, list):
                yield from GitLabCiTest.flatten(item)
            else:
                yield item

    def variables(self, job):
        """The job's variables as GitLab gives them: predefined, global, then the job's own
        (through extends:), each expanded with what came before."""
        out = dict(self.predefined)
        scopes = [self.pipeline.get("variables") or {}]
        if job.get("extends"):
            scopes.append(self.pipeline[job["extends"]].get("variables") or {})
        scopes.append(job.get("variables") or {})
        for scope in scopes:
            for k, v in scope.items():
                out[k] = re.sub(r"\$(\w+)", lambda m: out.get(m.group(1), ""), str(v))
        return out

    def job(self, name, **predefined):
        self.predefined.update(predefined)
        job = self.pipeline[name]
        env = dict(self.env, **self.variables(job))
        # the tool's own web identity, for the state and for the topology's role_arn
        env.pop("AWS_PROFILE", None)
        return self.sh("\n".join(self.flatten(job["script"])), env)

    def test_the_pipeline(self):
        self.assertIn("before_script", self.pipeline["default"], "the build the test skips")
        plan = self.ok(self.job("plan"), "plan of a new stack")
        self.assertIn("will be created", plan.stdout)
        self.ok(self.job("apply", CI_PIPELINE_SOURCE="push"), "apply")
        self.assertEqual(self.state_keys(), ["rdsbk/main.json"])
        # the state was written with the role the ID token was exchanged for
        assumed = [r for r in W.harness.control("GET", "/_emu/requests")[1]["requests"]
                   if r.get("operation") == "AssumeRoleWithWebIdentity"]
        self.assertTrue(assumed and all(r["status"] == 200 for r in assumed), assumed)
        plan = self.ok(self.job("plan", CI_PIPELINE_SOURCE="merge_request_event"), "plan again")
        self.assertIn("No changes", plan.stdout)
        self.snapshot_through_the_pipeline()
        self.ok(self.job("freshness", CI_PIPELINE_SOURCE="schedule"), "freshness")

        self.ok(self.job("preview", CI_PIPELINE_SOURCE="merge_request_event"), "preview")
        self.assertTrue(self.stack_resources("mr7"))
        self.assertIn("rdsbk/preview/mr7.json", self.state_keys())
        self.ok(self.job("preview-destroy"), "preview-destroy")
        self.assertEqual(self.stack_resources("mr7"), [])

        self.predefined["RDSBK_STATE_BUCKET"] = "no-such-bucket-here"
        failed = self.job("plan")
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("no-such-bucket-here", failed.stderr)


def main():
    global BIN, W
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    BIN = os.path.abspath(sys.argv.pop(1))
    W = common.Workspace().start(BIN)
    try:
        unittest.main(verbosity=2)
    finally:
        W.stop()


if __name__ == "__main__":
    main()
