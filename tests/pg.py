"""A real PostgreSQL server for tests, and a way to run the scripts the program renders.

`PostgresServer` runs `initdb` into a temporary directory and `postgres` on a free loopback
port (127.0.0.1), with its unix socket in that directory, then stops it and removes the
directory. Host connections need the password (scram-sha-256); the harness itself talks
over the unix socket (trust).

Binaries: the highest /usr/lib/postgresql/<version>/bin that has `initdb` (Debian's
`postgresql` package), else `initdb` on PATH. Tests skip, saying so, only when there are
none.

PostgreSQL refuses to run as root. When the tests run as root (CI), the server (and
initdb) run as the unprivileged system user `nobody` (subprocess `user=`/`group=`, no
supplementary groups), in a directory that user owns; nothing is added to the system.
Otherwise they run as the current user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

UNPRIVILEGED_USER = "nobody"
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def postgres_bin_dir() -> Optional[Path]:
    candidates = [Path(p) for p in Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/"))]
    candidates = [p for p in candidates if (p / "initdb").exists()]
    if candidates:

        def version(path: Path) -> tuple[int, ...]:
            return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)

        return max(candidates, key=version)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


MISSING_REASON = (
    f"PostgreSQL server binaries not found (searched {POSTGRES_BIN_GLOB} and PATH for "
    "initdb); install Debian's postgresql package"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory; `start()`/`stop()` may repeat."""

    def __init__(self, bin_dir: Path, password: str, tls: Optional[TlsFiles] = None) -> None:
        self.bin_dir = bin_dir
        self.password = password
        self.port = free_port()
        self.host = "127.0.0.1"
        # As root, under /tmp: the unprivileged user must be able to reach the directory,
        # and TMPDIR may point somewhere only root can enter.
        base = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="heimdall-pg-", dir=base))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            self.run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.tls = self._own_tls(tls) if tls else None
        self._initdb()

    # --- the server ------------------------------------------------------------------------

    def _server_env(self) -> dict[str, str]:
        return {"PATH": f"{self.bin_dir}:/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.root)}

    def _chown(self, path: Path) -> None:
        if self.run_as:
            os.chown(path, self.run_as["user"], self.run_as["group"])

    def _own_tls(self, tls: TlsFiles) -> TlsFiles:
        # The server reads its key only if the server's user owns it with mode 0600.
        cert, key = self.root / "server.crt", self.root / "server.key"
        shutil.copy(tls.cert, cert)
        shutil.copy(tls.key, key)
        key.chmod(0o600)
        for path in (cert, key):
            self._chown(path)
        return TlsFiles(cert=cert, key=key)

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data),
                "-U", "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=self.root,
            env=self._server_env(),
            **self.run_as,
        )
        pwfile.unlink()

    def start(self, timeout: float = 30) -> None:
        options = [
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
            "-c", "synchronous_commit=off",
            "-c", "max_connections=40",
            "-c", "log_connections=on",
        ]
        if self.tls:
            options += [
                "-c", "ssl=on",
                "-c", f"ssl_cert_file={self.tls.cert}",
                "-c", f"ssl_key_file={self.tls.key}",
            ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D", str(self.data),
                    "-p", str(self.port),
                    "-k", str(self.root),
                    *options,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._server_env(),
                start_new_session=True,
                **self.run_as,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{self.log.read_text()}")
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-q", "-h", str(self.root), "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not start within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- talking to it -----------------------------------------------------------------------

    def psql(self, sql: str, database: str = "heimdall", **kwargs: Any) -> str:
        """Run SQL as the superuser over the unix socket; returns unaligned output."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1",
                "-h", str(self.root),
                "-p", str(self.port),
                "-U", "postgres",
                "-d", database,
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
            env=self.client_env(),
            **kwargs,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def client_env(self, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        """A clean environment for client tools: no PG* variables from the caller."""
        env = {
            "PATH": f"{self.bin_dir}:/usr/bin:/bin",
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.root),
        }
        env.update(extra or {})
        return env

    def connection_log(self) -> str:
        return self.log.read_text(errors="replace")


# --- the rendered scripts --------------------------------------------------------------------


@contextlib.contextmanager
def seeded_server(
    bin_dir: Path, password: str, database: str, seed_sql: str, tls: Optional[TlsFiles] = None
) -> Iterator[PostgresServer]:
    """A started server holding `database` (quoted: any name) filled by `seed_sql`; stopped
    and removed on exit, whatever happened."""
    server = PostgresServer(bin_dir, password, tls=tls)
    try:
        server.start()
        server.psql(f'CREATE DATABASE "{database}"', database="postgres")
        server.psql(seed_sql, database=database)
        yield server
    finally:
        server.close()


def container_env(container: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """The container's environment as rendered, with `overrides` (host, port, paths).

    Values the pod reads from Secrets must be given in `overrides`: the test supplies what
    the cluster would.
    """
    env: dict[str, str] = {}
    for item in container.get("env", []):
        name = item["name"]
        if "value" in item:
            env[name] = str(item["value"])
        elif name not in overrides:
            raise KeyError(f"{name} comes from {item.get('valueFrom')}; the test must supply it")
    env.update(overrides)
    return env


def container_script(container: Mapping[str, Any]) -> str:
    """The shell script of a container rendered as ["/bin/sh", "-c", script]."""
    command = container["command"]
    assert command[:2] == ["/bin/sh", "-c"], command
    script: str = command[2]
    return script


def run_script(
    script: str, env: Mapping[str, str], timeout: float = 60, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def start_script(script: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start a script in its own process group (so a test can stop all of it)."""
    return subprocess.Popen(
        ["/bin/sh", "-c", script],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def make_tls_files(directory: Path, name: str) -> Optional[TlsFiles]:
    """A self-signed certificate for 127.0.0.1 (its own CA); None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return TlsFiles(cert=cert, key=key)
