"""Real file-system faults for the attack tests: run a command with a small, or read-only, tmpfs
mounted over one folder, in a private mount namespace (``unshare -rm``: no privileges needed where
user namespaces are enabled, nothing visible to other processes, gone when the command ends)."""
from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest


@functools.lru_cache(maxsize=1)
def _why_not() -> str:
    if shutil.which("unshare") is None:
        return "util-linux's unshare is not installed"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp"],
                           capture_output=True, text=True)
    return "" if probe.returncode == 0 else f"cannot mount a private tmpfs here ({probe.stderr.strip()[:200]})"


def need_private_mounts() -> None:
    """Skip the calling test, saying why, where a private tmpfs cannot be mounted."""
    if _why_not():
        pytest.skip(_why_not())


def run_on_tmpfs(mount: Path, argv: list[str], *, size: str = "1m", setup: list[str] | None = None,
                 readonly: bool = False, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run ``argv`` with a fresh tmpfs of ``size`` over ``mount`` (an existing folder). ``setup`` (an
    argv) runs first, on the writable tmpfs; with ``readonly`` the tmpfs is then remounted read-only,
    so even root cannot write there."""
    need_private_mounts()
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 97; shift 2; '
    if setup:
        script += f'{" ".join(_sh(a) for a in setup)} || exit 98; '
    if readonly:
        script += 'mount -o remount,ro "$MNT" || exit 99; '
    script += 'exec "$@"'
    return subprocess.run(["unshare", "-rm", "env", f"MNT={mount}", "sh", "-c", script, "sh", size, str(mount), *argv],
                          capture_output=True, text=True, timeout=timeout, **kw)


def _sh(arg: str) -> str:
    return "'" + str(arg).replace("'", "'\\''") + "'"
