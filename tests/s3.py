"""A real S3 API on loopback for tests (moto's server), and the real AWS CLI to talk to it.

`S3Server` runs moto's S3 server in a thread of the test process, on 127.0.0.1 and a port
the system picks, with authentication ON: every request must be signed (SigV4) with an
access key the server issued, and is checked against that key's IAM policy. So the
scripts under test only work when the credentials the pod would get from the Secret
(`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` in their environment) really reach the CLI,
and only within the policy the docs tell users to grant. The harness itself works as an
administrator key it creates at start (boto3, which moto depends on).

The AWS CLI: `$AWS_CLI` if set, else the `aws` beside this Python (the dev group
installs `awscli` into the venv), else `aws` on PATH. v1 (PyPI) and v2 (the
amazon/aws-cli image the pods run) take the same `s3 cp` and `s3api` commands.
`cli_bin(directory, log)` makes a directory holding an `aws` that appends its arguments to
`log` and runs the real CLI: tests put it first on PATH to see every command line.

Tests skip, saying why, only when moto or the CLI is missing.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

AWS_CLI_ENV = "AWS_CLI"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def aws_cli() -> Optional[Path]:
    configured = os.environ.get(AWS_CLI_ENV)
    if configured:
        return Path(configured)
    beside = Path(sys.executable).parent / "aws"  # not resolved: the venv's bin directory
    if beside.exists():
        return beside
    found = shutil.which("aws")
    return Path(found) if found else None


def missing_reason() -> Optional[str]:
    """Why the S3 tests cannot run here, or None."""
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as error:
        return (f"moto's S3 server is not installed ({error}); "
                "make venv (the dev group has moto)")
    cli = aws_cli()
    if cli is None:
        return (f"the AWS CLI was not found (${AWS_CLI_ENV}, beside {sys.executable}, PATH); "
                "make venv (the dev group has awscli)")
    if not os.access(cli, os.X_OK):
        return f"the AWS CLI {cli} is not executable"
    return None


def cli_bin(directory: Path, log: Path) -> Path:
    """A directory with an `aws` that logs its arguments to `log`, then runs the real CLI."""
    cli = aws_cli()
    assert cli is not None
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "aws"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$*\" >> {shlex.quote(str(log))}\n"
        f"exec {shlex.quote(str(cli))} \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return directory


class S3Server:
    """moto's S3 (and IAM) API on 127.0.0.1, authentication on; `close()` stops it."""

    def __init__(self, region: str) -> None:
        import requests
        from moto.server import ThreadedMotoServer

        self.region = region
        # Its request log would only add noise to failing tests' output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._requests = requests
        self._users = 0
        # Unauthenticated until the administrator exists, then every request is checked.
        self._set_auth("inf")
        self.admin_key = ("admin", "admin")  # any value works while auth is off
        self.admin_key = self.access_key(ADMIN_POLICY, user="admin")
        self._set_auth("0")

    def _set_auth(self, free_requests: str) -> None:
        answer = self._requests.post(
            f"{self.endpoint}/moto-api/reset-auth", data=free_requests.encode(), timeout=10
        )
        answer.raise_for_status()

    def client(self, service: str) -> Any:
        import boto3

        key_id, secret = self.admin_key
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def access_key(self, policy: dict[str, Any], user: Optional[str] = None) -> tuple[str, str]:
        """(key id, secret) of a new IAM user whose only permissions are `policy`."""
        self._users += 1
        name = user or f"backup-{self._users}"
        iam = self.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="backups", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def fresh_bucket(self, bucket: str) -> None:
        """The bucket, existing and empty."""
        s3 = self.client("s3")
        if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
            )
        for key in self.objects(bucket):
            s3.delete_object(Bucket=bucket, Key=key)

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=body)

    def get(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def objects(self, bucket: str) -> dict[str, int]:
        """key -> size of every object in the bucket."""
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}

    def close(self) -> None:
        try:
            self._set_auth("inf")
        finally:
            self._server.stop()
