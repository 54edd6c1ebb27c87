"""Checks the Lambda zips written by write_lambda_zip (CTest: lambda.zips).

usage: check_zips.py <write_lambda_zip> <templates/lambda dir>

For each function: two separate runs give byte-identical files (cmp), `unzip -t` accepts the zip,
Python's zipfile reads it (testzip, names, contents equal to the template files, fixed timestamps,
Unix 0644 regular-file attributes, no extras or comments), the printed CodeSha256 is base64(SHA-256)
of the file, and the handler module imports and exposes `handler` from the extracted zip.
"""

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import zipfile

WRITER = None
TEMPLATES = None

FUNCTIONS = {
    "copy": ("copy_snapshot.handler", "copy_snapshot.py"),
    "share": ("share.handler", "share.py"),
    "backup-copy": ("backup_copy.handler", "backup_copy.py"),
}


class ZipTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rdsbk-zip-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, function, name):
        path = os.path.join(self.tmp, name)
        proc = subprocess.run(
            [WRITER, function, path], capture_output=True, text=True, timeout=60, check=False
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        handler, sha = proc.stdout.split()
        return path, handler, sha

    def test_each_function(self):
        shas = set()
        for function, (handler, module_file) in sorted(FUNCTIONS.items()):
            with self.subTest(function):
                first, got_handler, sha = self.write(function, f"{function}-1.zip")
                second, _, sha2 = self.write(function, f"{function}-2.zip")
                self.assertEqual(got_handler, handler)
                self.assertEqual(sha, sha2)
                shas.add(sha)

                cmp = subprocess.run(["cmp", first, second], capture_output=True, timeout=60)
                self.assertEqual(cmp.returncode, 0, cmp.stdout)

                with open(first, "rb") as f:
                    data = f.read()
                self.assertEqual(sha, base64.b64encode(hashlib.sha256(data).digest()).decode())

                test = subprocess.run(["unzip", "-t", first], capture_output=True, text=True,
                                      timeout=60)
                self.assertEqual(test.returncode, 0, test.stdout + test.stderr)
                self.assertIn("No errors detected", test.stdout)

                expected_names = sorted([module_file, "rdsbk_common.py"])
                with zipfile.ZipFile(first) as zf:
                    self.assertIsNone(zf.testzip())
                    self.assertEqual(zf.namelist(), expected_names)
                    self.assertEqual(zf.comment, b"")
                    for info in zf.infolist():
                        with open(os.path.join(TEMPLATES, info.filename), "rb") as f:
                            self.assertEqual(zf.read(info), f.read(), info.filename)
                        self.assertEqual(info.date_time, (1980, 1, 1, 0, 0, 0))
                        self.assertEqual(info.create_system, 3)
                        mode = info.external_attr >> 16
                        self.assertTrue(stat.S_ISREG(mode))
                        self.assertEqual(stat.S_IMODE(mode), 0o644)
                        self.assertEqual(info.extra, b"")
                        self.assertEqual(info.comment, b"")
                        self.assertEqual(info.flag_bits & 0x08, 0)  # no data descriptor
                        self.assertIn(info.compress_type, (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED))

                    # Lambda extracts the zip and imports the handler module from its root.
                    root = os.path.join(self.tmp, function)
                    zf.extractall(root)
                module, func = handler.rsplit(".", 1)
                code = (f"import sys; sys.path.insert(0, {root!r}); import {module}; "
                        f"assert callable({module}.{func}); assert {module}.__file__.startswith({root!r})")
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      timeout=60, cwd="/")
                self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(shas), 3)

    def test_unknown_function_fails(self):
        proc = subprocess.run([WRITER, "restore", os.path.join(self.tmp, "x.zip")],
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("unknown Lambda function", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.zip")))


if __name__ == "__main__":
    WRITER, TEMPLATES = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    unittest.main(verbosity=2)
