"""The test side of ``tests/e2e/zygote.py``: one zygote per test process, started on first use.

``spawn_bot`` returns a ``ZygoteChild`` that behaves like ``asyncio.subprocess.Process`` where
the tests use it: ``pid``, ``returncode``, ``send_signal``, ``kill``, ``wait``; ``run_cli`` is
``subprocess.run([python, "-m", "bot", *argv], capture_output=True, text=True)`` through it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_lock = threading.Lock()
_zygote: subprocess.Popen | None = None
_socket_path: str | None = None


def _ensure_zygote() -> str:
    """Start the zygote once (blocking: it imports the bot) and return its socket path."""
    global _zygote, _socket_path
    with _lock:
        if _zygote is not None and _zygote.poll() is None:
            assert _socket_path is not None
            return _socket_path
        path = os.path.join(tempfile.mkdtemp(prefix="lapor-zygote-"), "sock")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
        # stdin is the lifeline: when this test process ends, the zygote and its children go.
        _zygote = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.zygote", path],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert _zygote.stdout is not None
        line = _zygote.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"the e2e zygote did not start (exit {_zygote.poll()})")
        _socket_path = path
        return path


class ZygoteChild:
    def __init__(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._writer = writer
        self._exited = asyncio.get_running_loop().create_task(self._watch(reader))

    async def _watch(self, reader: asyncio.StreamReader) -> None:
        line = await reader.readline()
        self.returncode = json.loads(line)["rc"] if line else -signal.SIGKILL
        self._writer.close()

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    async def wait(self) -> int:
        await asyncio.shield(self._exited)
        assert self.returncode is not None
        return self.returncode


async def spawn_bot(argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> ZygoteChild:
    path = await asyncio.to_thread(_ensure_zygote)
    reader, writer = await asyncio.open_unix_connection(path)
    request = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(log)}
    writer.write(json.dumps(request).encode() + b"\n")
    await writer.drain()
    answer = await reader.readline()
    if not answer:
        raise RuntimeError("the e2e zygote closed the connection without starting the bot")
    return ZygoteChild(json.loads(answer)["pid"], reader, writer)


def run_cli(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120,
            check: bool = False) -> subprocess.CompletedProcess[str]:
    """One ``lapor-bot`` command, blocking, its output captured."""
    path = _ensure_zygote()
    out_dir = Path(tempfile.mkdtemp(prefix="lapor-cli-"))
    out, err = out_dir / "stdout", out_dir / "stderr"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        request = {"argv": argv, "env": env, "cwd": str(cwd), "log": str(err), "stdout": str(out),
                   "stderr": str(err)}
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as answers:
            json.loads(answers.readline())  # {"pid": N}
            line = answers.readline()
    code = json.loads(line)["rc"] if line else -signal.SIGKILL
    done = subprocess.CompletedProcess(["lapor-bot", *argv], code,
                                       out.read_text() if out.exists() else "",
                                       err.read_text() if err.exists() else "")
    if check:
        done.check_returncode()
    return done
