"""A stand-in for the `aws` command, backed by a directory, for the S3 scripts' tests.

It implements only what heimdall/scripts/s3-upload.sh and s3-download.sh call, with the
real CLI's output shapes: `s3 cp` (either way), `s3api head-object --query ContentLength
--output text`, `s3api list-objects-v2 --query 'Contents[].Key' --output text` (keys
separated by tabs, `None` when there are none) and `s3api delete-object`. Objects live in
$FAKE_S3_ROOT/<bucket>/<key>. Every call is appended to $FAKE_S3_ROOT/calls.log, with the
credentials it saw, so tests can check that secrets never travel on a command line.
Like the real CLI, it refuses to work without credentials (exit status 253).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    root = Path(os.environ["FAKE_S3_ROOT"])
    with (root / "calls.log").open("a") as log:
        log.write(
            json.dumps(
                {
                    "argv": argv,
                    "key_id": os.environ.get("AWS_ACCESS_KEY_ID"),
                    "region": os.environ.get("AWS_REGION"),
                }
            )
            + "\n"
        )
    if not os.environ.get("AWS_ACCESS_KEY_ID") or not os.environ.get("AWS_SECRET_ACCESS_KEY"):
        print("Unable to locate credentials. You can configure credentials by running "
              '"aws configure".', file=sys.stderr)
        return 253

    args: list[str] = []
    options: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        if item in ("--only-show-errors", "--no-progress"):
            continue
        if item.startswith("--"):
            options[item[2:]] = next(items)
        else:
            args.append(item)

    def local(url: str) -> tuple[str, str]:
        bucket, _, key = url.removeprefix("s3://").partition("/")
        return bucket, key

    if args[:2] == ["s3", "cp"]:
        source, destination = args[2], args[3]
        if source.startswith("s3://"):
            path = root.joinpath(*local(source))
            if not path.is_file():
                print(f"fatal error: An error occurred (404) when calling the HeadObject "
                      f"operation: Key \"{local(source)[1]}\" does not exist", file=sys.stderr)
                return 1
            shutil.copyfile(path, destination)
        else:
            path = root.joinpath(*local(destination))
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path)
        return 0
    if args[:2] == ["s3api", "head-object"]:
        path = root / options["bucket"] / options["key"]
        if not path.is_file():
            print("An error occurred (404) when calling the HeadObject operation: Not Found",
                  file=sys.stderr)
            return 254
        assert options.get("query") == "ContentLength" and options.get("output") == "text"
        print(path.stat().st_size)
        return 0
    if args[:2] == ["s3api", "list-objects-v2"]:
        assert options.get("query") == "Contents[].Key" and options.get("output") == "text"
        bucket = root / options["bucket"]
        keys = sorted(
            str(p.relative_to(bucket)) for p in bucket.rglob("*") if p.is_file()
        )
        keys = [k for k in keys if k.startswith(options.get("prefix", ""))]
        print("\t".join(keys) if keys else "None")
        return 0
    if args[:2] == ["s3api", "delete-object"]:
        (root / options["bucket"] / options["key"]).unlink(missing_ok=True)
        print("{}")
        return 0
    print(f"fake aws: unsupported call {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
