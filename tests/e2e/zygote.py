"""Start the real bot process without paying its imports every time (a fork server).

Importing the bot costs about six seconds of CPU (aiogram builds several hundred pydantic models
at import), and the end-to-end tests start the bot some hundred and fifty times: most of CI's
time went there. The zygote is one Python process that imports the bot once and forks a child
per start. The child is a real, separate process running ``bot.cli.main`` with its own
environment, working directory, log file, signals and exit code, exactly what
``python -m bot run`` would run after its imports; only the interpreter start-up is shared.
The command line (``lapor-bot agencies import`` and the like) goes the same way. The console
entry point itself is still started the ordinary way by ``tests/e2e/test_process_lifecycle.py``
and by the start-up tests that check what a bad configuration prints.

Protocol, one connection per child on a Unix socket: the client sends one JSON line (argv,
env, cwd, and log, or stdout and stderr: file paths), the zygote answers ``{"pid": N}`` and
later ``{"rc": CODE}`` when the child exits (negative for a signal, as asyncio's
``returncode``). A client that hangs up has its child killed, and the zygote kills every child
and exits when its stdin closes (the test run ended or died), so no bot outlives the tests.

Single-threaded on purpose: forking a process that has threads can leave locks held forever in
the child.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys


def _preload() -> None:
    # What `lapor-bot run` imports on its way to polling (bot.cli imports the rest lazily).
    # aiogram's types are built here, all of them, once: a fork inherits them. Deferred (as
    # bot.cli.main does in a fresh interpreter) each of the suite's ~150 bot starts built its own
    # (~0.6 s of CPU for the everyday ones at build_app, more on first use of the others), part of
    # why the suite grew from 888 s to 1,054 s (2026-12-02). The deferred start itself is tested in
    # fresh interpreters (tests/e2e/test_startup_footprint.py, tests/unit/test_aiogram_models.py).
    import aiogram.types  # noqa: F401
    import aiosqlite  # noqa: F401
    import alembic.command  # noqa: F401
    import asyncpg  # noqa: F401
    import redis.asyncio  # noqa: F401

    import bot.app
    import bot.cli  # noqa: F401
    import storage.migrate  # noqa: F401


def _child(request: dict, closing: list[socket.socket]) -> None:
    """In the forked child: become the bot process, never return."""
    code = 70
    try:
        for sock in closing:
            sock.close()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            out = os.open(request.get(name) or request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(out, fd)
            os.close(out)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.argv = ["lapor-bot", *request["argv"]]
        from bot.cli import main

        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        # What the interpreter does at exit: join worker threads, run atexit handlers.
        import atexit
        import threading

        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def serve(path: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin, selectors.EVENT_READ, "lifeline")
    children: dict[int, socket.socket] = {}  # pid -> its client's connection
    print("ready", flush=True)

    def kill_all() -> None:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    while True:
        for key, _ in sel.select(timeout=0.05):
            if key.data == "lifeline":
                if not sys.stdin.buffer.read1(1024):
                    kill_all()
                    return
            elif key.data == "accept":
                conn, _ = listener.accept()
                conn.settimeout(10)
                with conn.makefile("rb") as f:
                    request = json.loads(f.readline())
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request, [listener, conn, *children.values()])
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                children[pid] = conn
                sel.register(conn, selectors.EVENT_READ, pid)
            else:  # a client hung up (or wrote): its child goes
                pid = key.data
                try:
                    gone = not key.fileobj.recv(1024)
                except OSError:
                    gone = True
                if gone:
                    sel.unregister(key.fileobj)
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is None:
                continue
            try:
                sel.unregister(conn)
            except (KeyError, ValueError):
                pass
            try:
                conn.sendall(json.dumps({"rc": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            except OSError:
                pass
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
