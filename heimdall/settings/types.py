"""Value types every settings section shares: names, quantities, images, resources.

`Model` is the base of every section: camelCase keys as a stack file writes them, unknown
keys refused, immutable once validated. The annotated types (`DnsLabel`, `Quantity`, ...)
check one value each and say in one sentence what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from heimdall.settings.credentials import pasted_credential

NAMESPACE = "heimdall"
# The Pulumi project directory (where Pulumi.yaml is): relative file paths in settings,
# such as database.tls.ca, are read from here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# --- reusable value types -----------------------------------------------------------------

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUANTITY = re.compile(
    r"^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$"
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PG_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A database name: PostgreSQL accepts any name as a quoted identifier ("heimdall-database",
# the Helm chart's default). Accepted here: what every tool takes as it is, with no
# quoting or escaping beyond double quotes in SQL (no spaces, quotes, '=' that libpq would
# read as a connection string, or non-ASCII).
PG_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
_IMAGE_REPOSITORY = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HOSTNAME = re.compile(
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return value


def dns_subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
            "at most 253 characters"
        )
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.fullmatch(value):
        raise ValueError("must be a Kubernetes quantity such as 500m, 1, 256Mi or 10Gi")
    return value


_SCALES: dict[str, int] = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
    "Pi": 2**50, "Ei": 2**60,
}
_SUFFIXES = {suffix: Decimal(scale) for suffix, scale in _SCALES.items()} | {"m": Decimal("0.001")}


def quantity_value(value: str) -> Decimal:
    """The number a Kubernetes quantity stands for (500m = 0.5, 1Ki = 1024, 1e3 = 1000),
    to compare quantities as the API server does."""
    match = _QUANTITY.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number, suffix = Decimal(match.group(1)), match.group(3) or ""
    if suffix[:1] in ("e", "E"):
        return number * Decimal(10) ** int(suffix[1:])
    return number * _SUFFIXES[suffix]


def _volume_size(value: str) -> str:
    _quantity(value)
    if quantity_value(value) <= 0:
        raise ValueError("must be more than zero (the API server refuses an empty volume), such as 10Gi")
    number, suffix = _QUANTITY.fullmatch(value).group(1, 3)  # type: ignore[union-attr]
    if suffix is None or suffix[:1] in ("e", "E"):
        raise ValueError(
            f"is {quantity_value(value):f} bytes, surely not what you meant: write the unit, "
            f"such as {number}Gi"
        )
    if suffix == "m":
        raise ValueError(f"is in thousandths of a byte ('m' is milli): write {number}Mi or {number}Gi")
    return value


def _memory(value: str) -> str:
    _quantity(value)
    number, suffix = _QUANTITY.fullmatch(value).group(1, 3)  # type: ignore[union-attr]
    if suffix == "m":
        raise ValueError(
            f"is in thousandths of a byte ('m' is milli, not mega): write {number}Mi"
        )
    if quantity_value(value) < 2**20:
        raise ValueError(
            f"is {quantity_value(value):f} bytes, less than 1Mi, surely not what you meant: "
            f"write the unit, such as {number}Mi"
        )
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def _pg_identifier(value: str) -> str:
    if not _PG_IDENTIFIER.fullmatch(value):
        raise ValueError(
            "must be a PostgreSQL identifier: a letter or '_' then letters, digits or '_', "
            "at most 63 characters"
        )
    return value


def _pg_database_name(value: str) -> str:
    if not PG_DATABASE_NAME.fullmatch(value):
        raise ValueError(
            "must be a PostgreSQL database name: a letter or '_' then letters, digits, '_', "
            "'$' or '-' (such as heimdall or heimdall-database), at most 63 characters"
        )
    return value


def _image_repository(value: str) -> str:
    name, at, digest = value.partition("@")
    if at:
        raise ValueError(
            f"must not carry a digest ('@{digest}'): put it in the digest key, the repository "
            "alone here (such as mitre/heimdall2)"
        )
    last = value.rsplit("/", 1)[-1]
    if ":" in last:
        raise ValueError(
            f"must not carry a tag (':{last.split(':', 1)[1]}'): put it in the tag key, "
            "the repository alone here (such as mitre/heimdall2)"
        )
    if not _IMAGE_REPOSITORY.fullmatch(value):
        raise ValueError("must be an image repository such as mitre/heimdall2")
    return value


def _image_tag(value: str) -> str:
    if not _IMAGE_TAG.fullmatch(value):
        raise ValueError("must be an image tag such as 2.13.1")
    return value


def _hostname(value: str) -> str:
    if "://" in value or "/" in value:
        raise ValueError("must be a host name alone, such as db.example.com: no scheme, port or path")
    if len(value) > 253 or not _HOSTNAME.fullmatch(value):
        raise ValueError("must be a lowercase DNS host name such as heimdall.example.com")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
        raise ValueError("must be an http:// or https:// URL without query or fragment")
    return value.rstrip("/")


def _route_host(value: str) -> str:
    """An Ingress host or HTTPRoute hostname: a DNS name, never an IP address (kubernetes
    pkg/apis/networking/validation/validation.go validateIngressRules: "must be a DNS name,
    not an IP address"; Gateway API's Hostname type likewise)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return _hostname(value)
    raise ValueError(
        "must be a DNS name, not an IP address (the API server refuses an IP as a route's "
        "host); use a name that resolves to it, or leave the host unset"
    )


def _secret_key_name(value: str) -> str:
    # A Secret's or ConfigMap's data key (kubernetes pkg/apis/core/validation/validation.go
    # ValidateSecret -> IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253 characters).
    if len(value) > 253 or not re.fullmatch(r"^[-._a-zA-Z0-9]+$", value) or value in (".", ".."):
        raise ValueError(
            "must be a Secret key: letters, digits, '-', '_' or '.' (no spaces or '/'), at "
            "most 253 characters, such as DATABASE_PASSWORD"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
RouteHost = Annotated[str, AfterValidator(_route_host)]
SecretKeyName = Annotated[str, AfterValidator(_secret_key_name)]
DnsSubdomain = Annotated[str, AfterValidator(dns_subdomain)]
# A StorageClass name, or empty for the cluster's default: checked on the field itself, so
# a refusal names storageClass, not its section.
StorageClassName = Annotated[str, AfterValidator(lambda value: dns_subdomain(value) if value else value)]
Quantity = Annotated[str, AfterValidator(_quantity)]
VolumeSize = Annotated[str, AfterValidator(_volume_size)]
Memory = Annotated[str, AfterValidator(_memory)]
EnvName = Annotated[str, AfterValidator(_env_name)]
PgIdentifier = Annotated[str, AfterValidator(_pg_identifier)]
PgDatabaseName = Annotated[str, AfterValidator(_pg_database_name)]
ImageRepository = Annotated[str, AfterValidator(_image_repository)]
ImageTag = Annotated[str, AfterValidator(_image_tag)]
Hostname = Annotated[str, AfterValidator(_hostname)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Port = Annotated[int, Field(ge=1, le=65535)]


class Model(BaseModel):
    """Base of every settings section: camelCase keys, unknown keys rejected, immutable.

    A section the stack sets only in part merges over its default: `image: {tag: x}`
    keeps the default repository, `resources: {limits: {memory: 2Gi}}` the default
    requests and cpu limit (`_merge_defaults`).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        validate_default=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_pasted_credentials(cls, data: Any) -> Any:
        """A URL with a password or a PEM block in any plain field: refused by its key, on
        the section (so that the one-line error never repeats the value)."""
        if not isinstance(data, dict):
            return data
        by_alias = {f.alias or n: f for n, f in cls.model_fields.items()} | dict(cls.model_fields)
        for key, value in data.items():
            field = by_alias.get(key) if isinstance(key, str) else None
            if field is not None and "SecretStr" in str(field.annotation):
                continue
            _no_float_for_text(key, value, field)
            # Plain maps and lists of strings (env, annotations, tags, files), not sections.
            if isinstance(value, dict):
                plain_map = field is not None and "dict[" in str(field.annotation)
                items: Any = value.items() if plain_map else []
            else:
                items = enumerate(value) if isinstance(value, list) else [(None, value)]
            for sub, item in items:
                kind = pasted_credential(item) if isinstance(item, str) else None
                if kind is not None:
                    where = key if sub is None else f"{key}.{sub}"
                    advice = (
                        "write it without the user and password, and give a password as a "
                        "Pulumi secret (pulumi config set --secret --path ...)"
                        if kind.startswith("a URL")
                        else "give a PEM file path (relative to Pulumi.yaml) or a ConfigMap, "
                        "never the certificate or key text"
                    )
                    raise ValueError(
                        f"{where} holds {kind} (not shown), which would sit in plain text in "
                        f"the stack file and the objects: {advice}"
                    )
        cls._unknown_before_missing(data, by_alias)
        return data

    @classmethod
    def _unknown_before_missing(cls, data: dict[Any, Any], known: dict[str, Any]) -> None:
        """An unknown key is named before the required keys it hides: `github: {enabled:
        false}` is about `enabled`, not a missing clientId."""
        unknown = [k for k in data if not isinstance(k, str) or k not in known]
        missing = [n for n, f in cls.model_fields.items() if f.is_required() and n not in data and (f.alias or n) not in data]
        if unknown and missing:
            first = str(unknown[0])
            hint = (
                ": a section is on when it is set; remove it (or set it to null) to turn it off"
                if first == "enabled"
                else "; see the configuration reference in README.md"
            )
            raise ValueError(f"{first} is not a key of this section{hint}")

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        """The stack's keys of each sub-section over the sub-section's default.

        Only what a default sets explicitly is merged in (`exclude_unset`), so that an
        unset key still reads as unset where that matters (`tls.mode` "follow the
        provider", the security-context overrides, `backup.pvc`). A key set to null stays
        null (it removes, where the section says so); a default of None (an optional
        section such as `auth.ldap`) or from a factory has nothing to merge.
        """
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, field in cls.model_fields.items():
            default = field.default
            if not isinstance(default, BaseModel) or not default.model_fields_set:
                continue
            key = field.alias or name
            for given in (key, name):
                if isinstance(merged.get(given), dict):
                    merged[given] = merge_over(default, merged[given])
                    break
        return merged


def _text_only(annotation: Any) -> bool:
    """A field that takes text and no number (str, a str type, a map of str to str)."""
    text = str(annotation)
    return "str" in text and not any(word in text for word in ("int", "float", "bool", "Any", "Model"))


def _no_float_for_text(key: Any, value: Any, field: Any) -> None:
    """A text field given a fractional number: YAML read the unquoted value as a number and
    dropped what made it text (`tag: 2.10` arrives as 2.1); refused, with how to quote it."""
    if field is None or not _text_only(field.annotation):
        return
    items = value.items() if isinstance(value, dict) else [(None, value)]
    for sub, item in items:
        if isinstance(item, float):
            where = key if sub is None else f"{key}.{sub}"
            raise ValueError(
                f"{where} arrived as the number {item!r}: the stack file's YAML read an unquoted "
                f"value as a number (2.10 becomes 2.1); quote it as you meant it, such as "
                f"{where.rsplit('.', 1)[-1]}: \"2.10\""
            )


def merge_over(default: BaseModel, given: dict[Any, Any]) -> dict[Any, Any]:
    """`given` (a section as a stack writes it) over what `default` sets, recursively,
    keyed by the section's camelCase names."""
    fields = type(default).model_fields
    values = dict(iter(default))  # its (name, value) pairs; dict(model) would call a `keys` field
    by_name = {name: name for name in fields} | {f.alias: name for name, f in fields.items() if f.alias}
    result: dict[Any, Any] = {fields[name].alias or name: values[name] for name in default.model_fields_set}
    for key, value in given.items():
        name = by_name.get(key) if isinstance(key, str) else None
        if name is None:
            result[key] = value  # unknown: the section's validation names it
            continue
        alias = fields[name].alias or name
        inner = values[name]
        if isinstance(value, dict) and isinstance(inner, BaseModel) and name in default.model_fields_set:
            value = merge_over(inner, value)
        result[alias] = value
    return result


# --- shared sections ----------------------------------------------------------------------


class ResourceAmounts(Model):
    cpu: Optional[Quantity] = Field(default=None, description="CPU, a Kubernetes quantity (e.g. 250m, 1).")
    memory: Optional[Memory] = Field(
        default=None,
        description="Memory, a Kubernetes quantity (e.g. 512Mi, 1Gi); 512m (milli-bytes) and "
        "bare numbers under 1Mi (bytes) are refused.",
    )


class Resources(Model):
    requests: ResourceAmounts = Field(default=ResourceAmounts(), description="What the scheduler reserves.")
    limits: ResourceAmounts = Field(default=ResourceAmounts(), description="The most the container may use.")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        pairs = (("cpu", self.requests.cpu, self.limits.cpu), ("memory", self.requests.memory, self.limits.memory))
        for kind, request, limit in pairs:
            if request and limit and quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"requests.{kind} {request} is above limits.{kind} {limit}, which the API "
                    f"server refuses: raise limits.{kind} (a partial section keeps the "
                    "default limits) or lower the request"
                )
        return self


class Image(Model):
    repository: ImageRepository = Field(description="Image repository.")
    tag: ImageTag = Field(description="Image tag; pin a version (moving tags make `pulumi up` non-reproducible). Quote a tag that looks like a number (\"2.10\"): unquoted, 2.10 arrives as 2.1 and is refused.")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(default="IfNotPresent", description="Always, IfNotPresent or Never.")

    @property
    def reference(self) -> str:
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base

    digest: Optional[str] = Field(
        default=None,
        pattern=r"^sha256:[a-f0-9]{64}$",
        description="Image digest (sha256:...); pins the exact image, the tag then only documents it.",
    )


def requests_and_limits(cpu_req: str, mem_req: str, cpu_lim: str, mem_lim: str) -> Resources:
    """A `Resources` default: cpu and memory requests, then limits."""
    return Resources(
        requests=ResourceAmounts(cpu=cpu_req, memory=mem_req),
        limits=ResourceAmounts(cpu=cpu_lim, memory=mem_lim),
    )


# --- networks and cloud tags ---------------------------------------------------------------


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(
            "must be a CIDR block such as 10.0.0.0/16 (with the host bits zero)"
        ) from None
    if network.prefixlen == 0:
        raise ValueError("must not admit every address (0.0.0.0/0 or ::/0): name your networks")
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]

# Address blocks that are not the public Internet (RFC 6890's special-purpose registry,
# the IPv4 part): private, shared, loopback, link-local, documentation, multicast, reserved.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "fc00::/7", "fe80::/10", "ff00::/8", "::1/128", "2001:db8::/32",
    )
)
# The most public addresses a database's allow-list may admit: a /8 (IPv4) or a /32 (IPv6),
# an organisation's largest own range. More is "the Internet", however it is spelled
# (0.0.0.0/1 + 128.0.0.0/1, 1.0.0.0-255.255.255.255).
PUBLIC_LIMIT = {4: 2**24, 6: 2**96}


def public_addresses(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> dict[int, int]:
    """Public addresses the union of `networks` admits, per IP version."""
    found = {4: 0, 6: 0}
    for version in (4, 6):
        mine = [n for n in networks if n.version == version]
        for network in ipaddress.collapse_addresses(mine):  # type: ignore[type-var]
            count = network.num_addresses
            for reserved in _NOT_PUBLIC:
                if reserved.version != version:
                    continue
                if network.subnet_of(reserved):  # type: ignore[arg-type]
                    count = 0
                elif reserved.subnet_of(network):  # type: ignore[arg-type]
                    count -= reserved.num_addresses
            found[version] += count
    return found


def open_to_internet(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> Optional[str]:
    """Why these networks together admit the Internet, or None."""
    for version, count in public_addresses(networks).items():
        if count > PUBLIC_LIMIT[version]:
            return (
                f"together admit {count} public IPv{version} addresses, more than a "
                f"{'/8' if version == 4 else '/32'}: that is the database open to the Internet "
                "however it is spelled; list your own networks only"
            )
    return None


def _cidr_set(value: list[str]) -> list[str]:
    problem = open_to_internet([ipaddress.ip_network(v) for v in value])
    if problem:
        raise ValueError(f"these blocks {problem}")
    return value


CidrSet = Annotated[list[Cidr], AfterValidator(_cidr_set)]
Tags = dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]]
