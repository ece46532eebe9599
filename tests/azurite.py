"""Azurite (Microsoft's Azure Storage emulator) for the Blob backend's tests.

Installed once with npm into .cache/node (project-local, git-ignored, reused across runs)
and started on a free loopback port with its data in a temporary folder. Pinned to
3.35.0: later versions need Node.js 22.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from processes import free_port, npm_install_command, stop_process

ROOT = Path(__file__).resolve().parents[1]
VERSION = "3.35.0"
NODE_DIR = ROOT / ".cache" / "node"
BIN = NODE_DIR / "node_modules" / ".bin" / "azurite-blob"
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented; not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteUnavailable(RuntimeError):
    """Node/npm missing, or the install or start failed."""


def connection_string(port: int, host: str = "127.0.0.1") -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint=http://{host}:{port}/{ACCOUNT};"
    )


def installed_version() -> str | None:
    try:
        meta = json.loads((NODE_DIR / "node_modules" / "azurite" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("version") if BIN.exists() else None


def ensure_installed() -> Path:
    """The azurite-blob binary, installing the pinned version first when needed."""
    if installed_version() == VERSION:
        return BIN
    if not shutil.which("node"):
        raise AzuriteUnavailable("Node.js (node) is not installed; it is needed to run Azurite")
    npm = shutil.which("npm")
    if not npm:
        raise AzuriteUnavailable("npm is not installed; it is needed to install Azurite")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    cmd = npm_install_command(npm, NODE_DIR, f"azurite@{VERSION}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise AzuriteUnavailable(f"`{' '.join(cmd)}` failed: {err}") from err
    if proc.returncode != 0 or installed_version() != VERSION:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise AzuriteUnavailable(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {tail}")
    return BIN


def _die_with_parent() -> None:
    """Linux: Azurite gets SIGTERM when the test process dies without tearing down."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Azurite:
    """One running azurite-blob process; `stop()` ends it."""

    def __init__(self, location: Path) -> None:
        self.location = Path(location)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.startup_seconds = 0.0
        self.log_path = self.location / "azurite.log"

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def start(self) -> "Azurite":
        binary = ensure_installed()
        self.location.mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(3):  # another process may grab the free port before Azurite binds it
            self.port = free_port()
            began = time.monotonic()
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    [
                        str(binary),
                        "--blobHost",
                        "127.0.0.1",
                        "--blobPort",
                        str(self.port),
                        "--location",
                        str(self.location / "data"),
                        "--silent",
                        "--disableTelemetry",
                        "--skipApiVersionCheck",
                        # azure-storage-blob 12.7.0 (pinned by botbuilder-azure) sends
                        # x-ms-encryption-algorithm on every download, which Azure ignores
                        # but strict Azurite refuses.
                        "--loose",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            except OSError as err:
                raise AzuriteUnavailable(f"cannot run {binary}: {err}") from err
            finally:
                log.close()
            deadline = began + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _answers(self.port):
                    self.startup_seconds = time.monotonic() - began
                    return self
                time.sleep(0.05)
            last = self.log_path.read_text(errors="replace")[-2000:]
            self.stop()
        raise AzuriteUnavailable(f"Azurite did not start listening on loopback: {last}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process(proc)


def ci() -> bool:
    """In CI (CI=true) a missing Azurite is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
