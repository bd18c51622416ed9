"""`HeimdallConfig`: what Heimdall's pods share besides secrets: the ConfigMap with the
plain environment, and the ServiceAccount they run as.

NODE_ENV, the DATABASE_* connection variables from the database contract, EXTERNAL_URL,
ADMIN_EMAIL, Heimdall's own settings (session length, login switches, upload size,
banners, NODE_EXTRA_CA_CERTS), the login providers' plain variables, and the user's extra
`env`. Secrets never go here: they are read from Secrets by reference in the pods. The ConfigMap is auto-named, so any change of its content gives
it a new name, which re-runs the migration Job and rolls the StatefulSet.

The ServiceAccount mounts no API token (Heimdall never talks to the Kubernetes API) and
carries the database provider's annotations (for example a cloud workload identity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall.auth import auth_env
from heimdall.certificates import BUNDLE_PATH
from heimdall.database.contract import DatabaseConnection
from heimdall.kube import meta, pods
from heimdall.kube.database_client import database_env
from heimdall.settings.app import Banners
from heimdall.settings.auth import Auth


@dataclass(frozen=True)
class ConfigArgs:
    """What Heimdall's plain environment takes from the settings: the user's `env`, the
    administrator's email, EXTERNAL_URL (when known), Heimdall's own switches, the
    banners, whether extra CA certificates are mounted, and the login providers."""

    admin_email: str
    jwt_expire_time: str
    local_login_disabled: bool
    registration_disabled: bool
    one_session_per_user: bool
    max_file_upload_size: int
    banners: Banners
    auth: Auth
    ca_certificates: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    external_url: Optional[str] = None


def heimdall_env(args: ConfigArgs, connection: DatabaseConnection) -> dict[str, pulumi.Input[str]]:
    """Heimdall's plain environment; later keys win, so managed keys beat `env`."""
    env: dict[str, pulumi.Input[str]] = dict(args.env)
    env.update(
        {
            "NODE_ENV": "production",
            "PORT": "3000",
            "ADMIN_EMAIL": args.admin_email,
            **database_env(connection),
        }
    )
    if args.external_url:
        env["EXTERNAL_URL"] = args.external_url
    env.update(application_env(args))
    env.update(auth_env(args.auth))
    return env


def application_env(args: ConfigArgs) -> dict[str, str]:
    """Heimdall's own switches, set explicitly so the app never falls back to a default
    the stack did not choose (Heimdall's JWT_EXPIRE_TIME default, 60s, logs users out)."""

    env = {
        "JWT_EXPIRE_TIME": args.jwt_expire_time,
        "LOCAL_LOGIN_DISABLED": pods.flag(args.local_login_disabled),
        "REGISTRATION_DISABLED": pods.flag(args.registration_disabled),
        "ONE_SESSION_PER_USER": pods.flag(args.one_session_per_user),
        "MAX_FILE_UPLOAD_SIZE": str(args.max_file_upload_size),
    }
    banner = args.banners.classification
    if banner.text:
        env["CLASSIFICATION_BANNER_TEXT"] = banner.text
        if banner.text_color:
            env["CLASSIFICATION_BANNER_TEXT_COLOR"] = banner.text_color
        if banner.color:
            env["CLASSIFICATION_BANNER_COLOR"] = banner.color
    if args.banners.warning:
        env["WARNING_BANNER"] = args.banners.warning
    if args.ca_certificates:
        env["NODE_EXTRA_CA_CERTS"] = BUNDLE_PATH
    return env


class HeimdallConfig(pulumi.ComponentResource):
    config_map_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ConfigArgs,
        connection: DatabaseConnection,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:HeimdallConfig", name, None, opts)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-env",
            metadata=meta.metadata(namespace, "heimdall"),
            data=heimdall_env(args, connection),
            opts=pulumi.ResourceOptions(parent=self),
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=meta.metadata(
                namespace,
                "heimdall",
                "heimdall",
                annotations=dict(connection.service_account_annotations),
            ),
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.config_map_name = config_map.metadata.name
        self.service_account_name = service_account.metadata.name
        self.register_outputs(
            {
                "configMapName": self.config_map_name,
                "serviceAccountName": self.service_account_name,
            }
        )
