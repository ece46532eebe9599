"""Child processes for tests and benchmarks: a free loopback port, a clean stop, and the
`npm install` that brings a pinned Node.js tool into a cache folder."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path


def npm_install_command(npm: str, prefix: Path, package: str) -> list[str]:
    """`npm install` of one pinned package (name@version) under `prefix`, quietly."""
    return [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", package]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
