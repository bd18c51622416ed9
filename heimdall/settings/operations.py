"""Day-2 operations: `backup` (scheduled logical backups) and `restore`.

The cron schedule is checked with the syntax Kubernetes CronJobs accept (five fields or a
macro), so a schedule the API server would refuse never reaches `pulumi up`.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from heimdall.settings.types import (
    DnsSubdomain,
    HttpUrl,
    Image,
    Model,
    Resources,
    SecretKeyName,
    VolumeSize,
    requests_and_limits,
)

_CRON_MACROS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, lowest, highest, names for the values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, Optional[list[str]]], ...] = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _WEEKDAYS),
)


def _cron_value(text: str, low: int, high: int, names: Optional[list[str]]) -> int:
    if names and text.upper() in names:
        return low + names.index(text.upper())
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not in {low}-{high}")
    return int(text)


def _cron_field(text: str, low: int, high: int, names: Optional[list[str]], wildcard_q: bool) -> set[int]:
    """The values the field matches (robfig/cron v3 parser.go getRange, which Kubernetes'
    CronJob controller uses: `a-b/n`, `a/n` from a to the top, `*/n`)."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) < 1):
            raise ValueError(f"step {step!r} must be a positive number")
        every = int(step) if slash else 1
        if base == "*" or (base == "?" and wildcard_q):
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _cron_value(first, low, high, names)
            end = _cron_value(last, low, high, names) if last else (high if slash else start)
            if end < start:
                raise ValueError(f"range {base!r} ends before it starts")
        values.update(range(start, end + 1, every))
    return values


# The most days each month has (February 29 in leap years).
_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _fires(days: set[int], months: set[int], day_text: str, weekday_text: str) -> bool:
    """Whether a schedule's day and month fields ever meet. As robfig/cron's dayMatches:
    with a restricted day-of-week besides a restricted day-of-month either may match, so
    the schedule fires; otherwise some listed day must exist in some listed month."""
    star = ("*", "?")
    if day_text.split("/")[0] in star or weekday_text.split("/")[0] not in star:
        return True
    return any(day <= _MONTH_DAYS[month] for day in days for month in months)


def _cron(value: str) -> str:
    """The schedule syntax of Kubernetes CronJobs: five fields, or a macro such as @daily."""
    text = " ".join(value.split())
    if text in _CRON_MACROS:
        return text
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("set the time zone with backup.timeZone, not in the schedule")
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(
            "must be a cron schedule with five fields (minute hour day-of-month month "
            "day-of-week), such as '15 2 * * *', or a macro such as @daily"
        )
    matched = []
    for field_text, (label, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        try:
            matched.append(_cron_field(field_text, low, high, names, wildcard_q=label.startswith("day")))
        except ValueError as error:
            raise ValueError(f"{label} field {field_text!r}: {error}") from None
    if not _fires(matched[2], matched[3], fields[2], fields[4]):
        raise ValueError(
            f"never fires: day {fields[2]} does not exist in month {fields[3]} (the CronJob "
            "would be accepted and never run); pick a day every listed month has, such as "
            "'15 2 28 2 *', or the last days with '15 2 28-31 * *'"
        )
    return text


# Names the API server's Go time package does not load from its embedded tz database
# (kube-apiserver images carry no /usr/share/zoneinfo), or that Kubernetes refuses.
_NOT_ZONES = frozenset({"Local", "localtime", "posixrules"})


def _time_zone(value: str) -> str:
    """An IANA time zone the API server accepts for a CronJob: it loads the name with Go's
    time.LoadLocation. Checked here with Python's zoneinfo (the system's tz database, or
    the tzdata package: the full IANA set, backward-compatible links such as US/Eastern
    included, as Go's embedded copy has them), without the posix/ and right/ trees and
    the file names that are no zones."""
    message = "must be an IANA time zone name such as Etc/UTC or Europe/Paris"
    if (
        not re.fullmatch(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", value)
        or value in _NOT_ZONES
        or value.startswith(("posix/", "right/"))
    ):
        raise ValueError(message)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{message}; {value!r} is not in the tz database") from None
    return value


def _dump_file_name(value: str) -> str:
    if value.lower() in ("latest", "newest", "last", "current"):
        raise ValueError(
            "must name one dump file: there is no 'latest' (a restore must say which dump it "
            "replaces the data with); list the target's dumps and give the file name, such "
            "as heimdall-20250101T021500Z.dump"
        )
    if (
        not re.fullmatch(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$", value)
        or value.endswith(".partial")
    ):
        raise ValueError(
            "must be the file name of a dump on the backup target, such as "
            "heimdall-20250101T021500Z.dump (no directories)"
        )
    return value


CronSchedule = Annotated[str, AfterValidator(_cron)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
DumpFileName = Annotated[str, AfterValidator(_dump_file_name)]


class BackupVolume(Model):
    """`backup.pvc`: the PersistentVolumeClaim that holds the dumps."""

    size: VolumeSize = Field(
        default="10Gi",
        description="Size of the backup volume; it holds `retention` compressed dumps.",
    )
    storage_class: Optional[DnsSubdomain] = Field(
        default=None,
        description="StorageClass of the backup volume; unset: the cluster's default.",
    )


def _bucket(value: str) -> str:
    """A bucket name S3 takes (AWS S3 User Guide, "General purpose bucket naming rules")."""
    rule = (
        "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting "
        "and ending with a letter or digit, such as heimdall-backups"
    )
    if not re.fullmatch(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", value):
        raise ValueError(rule)
    if ".." in value:
        raise ValueError(f"{rule}; S3 refuses two adjacent periods")
    if re.fullmatch(r"^\d+\.\d+\.\d+\.\d+$", value):
        raise ValueError(f"{rule}; S3 refuses a name formatted as an IP address")
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ):
        raise ValueError(f"{rule}; S3 reserves that prefix or suffix")
    return value


BucketName = Annotated[str, AfterValidator(_bucket)]


class BackupS3(Model):
    """`backup.s3`: an S3-compatible object store (AWS S3, MinIO, Ceph, GCS interop, ...)."""

    bucket: BucketName = Field(
        description="Bucket the dumps are written to; it must exist. S3's naming rules: "
        "3-63 lowercase letters, digits, '.' and '-', no '..', not an IP address, no xn--, "
        "sthree-, amzn-s3-demo- prefix nor -s3alias, --ol-s3, .mrap, --x-s3 suffix."
    )
    prefix: Optional[
        Annotated[str, Field(max_length=512, pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$")]
    ] = Field(
        default=None,
        description="Key prefix of the dumps: empty or ending with '/'. Unset: "
        "heimdall/<stack>/, one per stack, so that stacks sharing a bucket never prune "
        "each other's dumps (before, the default was heimdall/ for every stack: see "
        "docs/upgrades.md).",
    )
    endpoint: Optional[HttpUrl] = Field(
        default=None,
        description="Endpoint URL of an S3-compatible store; unset: AWS S3.",
    )

    def key_prefix(self, stack: str) -> str:
        """The key prefix the stack writes under and reads from: `prefix`, or the default
        one of the stack (heimdall/<stack>/)."""
        return self.prefix if self.prefix is not None else f"heimdall/{stack}/"
    region: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")] = Field(
        default="us-east-1", description="Region of the bucket."
    )
    force_path_style: bool = Field(
        default=False,
        description="Address the bucket as <endpoint>/<bucket> (MinIO and most "
        "self-hosted stores need it) instead of <bucket>.<endpoint>.",
    )
    existing_secret: DnsSubdomain = Field(
        description="Secret (in the stack's namespace) holding the access key pair; "
        "read by reference only."
    )
    access_key_id_key: SecretKeyName = Field(
        default="AWS_ACCESS_KEY_ID", description="Key of the access key id in existingSecret."
    )
    secret_access_key_key: SecretKeyName = Field(
        default="AWS_SECRET_ACCESS_KEY",
        description="Key of the secret access key in existingSecret.",
    )
    image: Image = Field(
        default=Image(repository="amazon/aws-cli", tag="2.32.8"),
        description="Image with the AWS CLI that uploads, lists, prunes and downloads dumps.",
    )
    scratch_size: VolumeSize = Field(
        default="10Gi",
        description="sizeLimit of the pod's emptyDir that holds one dump between pg_dump and "
        "the upload (and between the download and pg_restore): room for the largest dump, "
        "on the node's ephemeral storage; a bigger dump gets the pod evicted, not the node's "
        "disk filled.",
    )


class Backup(Model):
    """Scheduled logical backups (pg_dump) of the database."""

    enabled: Optional[bool] = Field(
        default=None,
        description="Run the backup CronJob. Unset: on for the embedded and external "
        "providers, off for managed clouds (their own automated backups are configured).",
    )
    schedule: CronSchedule = Field(
        default="15 2 * * *",
        description="Cron schedule of the backups (five fields or a macro such as @daily); "
        "a schedule whose day never exists in its months (0 3 31 2 *) is refused.",
    )
    time_zone: TimeZone = Field(
        default="Etc/UTC", description="IANA time zone the schedule is read in."
    )
    retention: int = Field(
        default=7,
        ge=1,
        le=1000,
        description="How many verified dumps to keep; older ones are pruned, only after a "
        "new dump has been written and verified.",
    )
    target: Literal["pvc", "s3"] = Field(
        default="pvc",
        description="Where dumps go: pvc (a PersistentVolumeClaim of the stack) or s3 (an "
        "S3-compatible object store, section backup.s3).",
    )
    pvc: BackupVolume = Field(
        default=BackupVolume(), description="The backup volume (target pvc)."
    )
    s3: Optional[BackupS3] = Field(default=None, description="The object store (target s3).")
    deadline_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="A backup run (waiting for the database included) is stopped after "
        "this many seconds and counts as failed.",
    )
    resources: Resources = Field(
        default=requests_and_limits("100m", "256Mi", "1", "1Gi"),
        description="Resources of the pg_dump container (and of the upload container).",
    )

    @model_validator(mode="after")
    def _target_section(self) -> Backup:
        if self.target == "s3" and self.s3 is None:
            raise ValueError("target 's3' needs the s3 section with at least bucket and existingSecret")
        if self.target == "pvc" and self.s3 is not None:
            raise ValueError("the s3 section is set but target is 'pvc'; set target: s3 or remove it")
        if self.target == "s3" and "pvc" in self.model_fields_set:
            raise ValueError("the pvc section is set but target is 's3'; remove it")
        return self


class Restore(Model):
    """A restore from a dump on the backup target, run by `pulumi up` before migrations."""

    from_: Optional[DumpFileName] = Field(
        default=None,
        alias="from",
        description="File name of the dump on the backup target to restore, such as "
        "heimdall-20250101T021500Z.dump (not latest, no directories). The database records each restore it received, "
        "in the restore's own transaction, and never receives the same one again; remove it "
        "once the restore has succeeded.",
    )
    run_id: Optional[Annotated[str, Field(max_length=63, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(
        default=None,
        description="Set or change it to restore the same dump again into a database that "
        "already received it.",
    )
    timeout_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="The restore Job fails after database.waitTimeoutSeconds plus this many "
        "seconds (the database is then left as it was).",
    )
    resources: Resources = Field(
        default=requests_and_limits("100m", "256Mi", "1", "1Gi"),
        description="Resources of the pg_restore container.",
    )
