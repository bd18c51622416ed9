"""`env`: the extra plain variables of Heimdall's ConfigMap, and what they may not be.

Two kinds of names are refused, naming the key and never its value:
- the variables the program sets itself from the settings (`PORT`, `NODE_ENV`,
  `DATABASE_*`, the login providers' `LDAP_*`/`GITHUB_*`/..., the switches): the program's
  value wins, so an `env` entry for them is silently ignored; the message names the setting
  that sets it (the list is heimdall/config.py's `heimdall_env`, `heimdall/auth.py` and the
  secrets' names; GitHub, GitLab and Google by exact name, since other tools read other
  GITHUB_*/GOOGLE_* variables);
- names that look like secrets (`*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*CREDENTIAL*`, `*_KEY`,
  ...): a ConfigMap is readable by anyone who may read the namespace's config.
A value holding a URL with a password (`HTTPS_PROXY=http://user:pw@proxy`) is refused by the
settings' pasted-credential rule (heimdall/settings/secrecy.py).
"""

from __future__ import annotations

import re
from typing import Optional

# Exact names the program sets, with the setting that sets them.
MANAGED_ENV: dict[str, str] = {
    "NODE_ENV": "nothing: it is always production (the image's own value)",
    "PORT": "nothing: Heimdall listens on 3000, the port of its Service and probes",
    "ADMIN_EMAIL": "admin.email",
    "ADMIN_PASSWORD": "secrets.adminPassword (a Pulumi secret)",
    "ADMIN_USES_EXTERNAL_AUTH": "admin.usesExternalAuth",
    "JWT_SECRET": "secrets.jwtSecret (a Pulumi secret)",
    "API_KEY_SECRET": "secrets.apiKeySecret (a Pulumi secret)",
    "EXTERNAL_URL": "externalUrl",
    "JWT_EXPIRE_TIME": "jwtExpireTime",
    "LOCAL_LOGIN_DISABLED": "localLoginDisabled",
    "REGISTRATION_DISABLED": "registrationDisabled",
    "ONE_SESSION_PER_USER": "oneSessionPerUser",
    "MAX_FILE_UPLOAD_SIZE": "maxFileUploadSize",
    "WARNING_BANNER": "banners.warning",
    "NODE_EXTRA_CA_CERTS": "caCertificates",
    "GITHUB_CLIENTID": "auth.github",
    "GITHUB_CLIENTSECRET": "auth.github (clientSecret, a Pulumi secret)",
    "GITHUB_ENTERPRISE_INSTANCE_BASE_URL": "auth.github.enterpriseBaseUrl",
    "GITHUB_ENTERPRISE_INSTANCE_API_URL": "auth.github.enterpriseApiUrl",
    "GITLAB_CLIENTID": "auth.gitlab",
    "GITLAB_SECRET": "auth.gitlab (clientSecret, a Pulumi secret)",
    "GITLAB_CLIENTSECRET": "auth.gitlab (clientSecret, a Pulumi secret; Heimdall reads GITLAB_SECRET)",
    "GITLAB_BASEURL": "auth.gitlab.baseUrl",
    "GOOGLE_CLIENTID": "auth.google",
    "GOOGLE_CLIENTSECRET": "auth.google (clientSecret, a Pulumi secret)",
}
# Name prefixes the program owns, with the section that sets them.
MANAGED_PREFIXES: dict[str, str] = {
    "DATABASE_": "the database section (and secrets.databasePassword)",
    "CLASSIFICATION_BANNER_": "banners.classification",
    "LDAP_": "auth.ldap",
    "OKTA_": "auth.okta",
    "OIDC_": "auth.oidc",
}
_SECRET_LOOKING = re.compile(
    r"(SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|CREDENTIAL|PRIVATE|APIKEY|(^|_)PWD$|(^|_)PASS$|(^|_)KEY$|(^|_)AUTH$)",
    re.IGNORECASE,
)


def env_name_problem(name: str) -> Optional[str]:
    """Why `env` may not hold `name` (a sentence naming env.<name>), or None."""
    upper = name.upper()
    setting = MANAGED_ENV.get(upper) or next(
        (where for prefix, where in MANAGED_PREFIXES.items() if upper.startswith(prefix)), None
    )
    if setting is not None:
        return (
            f"env.{name} is set by the program itself (its value would be ignored); "
            f"set it with {setting}"
        )
    if _SECRET_LOOKING.search(name):
        return (
            f"env.{name} looks like a secret (its value is not shown) and env lands in a "
            "ConfigMap in plain text; Heimdall's own secrets go in the secrets and auth "
            "sections (Pulumi secrets or existingSecret); remove it from env"
        )
    return None


def check_env(env: dict[str, str]) -> dict[str, str]:
    for name in env:
        problem = env_name_problem(name)
        if problem is not None:
            raise ValueError(problem)
    return env
