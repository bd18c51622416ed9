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

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from heimdall import kube
from heimdall.auth import auth_env
from heimdall.certificates import BUNDLE_PATH
from heimdall.database.contract import DatabaseConnection
from heimdall.settings.root import Settings


def heimdall_env(settings: Settings, connection: DatabaseConnection) -> dict[str, pulumi.Input[str]]:
    """Heimdall's plain environment; later keys win, so managed keys beat `env`."""
    env: dict[str, pulumi.Input[str]] = dict(settings.env)
    env.update(
        {
            "NODE_ENV": "production",
            "PORT": "3000",
            "ADMIN_EMAIL": settings.admin.email,
            **kube.database_env(connection),
        }
    )
    if settings.external_url_env:
        env["EXTERNAL_URL"] = settings.external_url_env
    env.update(application_env(settings))
    env.update(auth_env(settings.auth))
    return env


def application_env(settings: Settings) -> dict[str, str]:
    """Heimdall's own switches, set explicitly so the app never falls back to a default
    the stack did not choose (Heimdall's JWT_EXPIRE_TIME default, 60s, logs users out)."""

    env = {
        "JWT_EXPIRE_TIME": settings.jwt_expire_time,
        "LOCAL_LOGIN_DISABLED": kube.flag(settings.local_login_disabled),
        "REGISTRATION_DISABLED": kube.flag(settings.registration_disabled),
        "ONE_SESSION_PER_USER": kube.flag(settings.one_session_per_user),
        "MAX_FILE_UPLOAD_SIZE": str(settings.max_file_upload_size),
    }
    banner = settings.banners.classification
    if banner.text:
        env["CLASSIFICATION_BANNER_TEXT"] = banner.text
        if banner.text_color:
            env["CLASSIFICATION_BANNER_TEXT_COLOR"] = banner.text_color
        if banner.color:
            env["CLASSIFICATION_BANNER_COLOR"] = banner.color
    if settings.banners.warning:
        env["WARNING_BANNER"] = settings.banners.warning
    if settings.ca_certificates.enabled:
        env["NODE_EXTRA_CA_CERTS"] = BUNDLE_PATH
    return env


class HeimdallConfig(pulumi.ComponentResource):
    config_map_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: Settings,
        connection: DatabaseConnection,
        namespace: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("heimdall:app:HeimdallConfig", name, None, opts)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-env",
            metadata=kube.metadata(namespace, "heimdall"),
            data=heimdall_env(settings, connection),
            opts=pulumi.ResourceOptions(parent=self),
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=kube.metadata(
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
