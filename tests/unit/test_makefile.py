"""The README's two commands: `make run` installs what running needs, `make test` adds the test
tools (Playwright alone is a third of the environment)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _plan(target: str) -> str:
    """What `make` would run for ``target`` on a fresh machine (-B: as if nothing were built)."""
    # Not the flags of a `make test` this may be running under ("Entering directory ...").
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    proc = subprocess.run(["make", "--no-print-directory", "-n", "-B", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout


def test_make_run_installs_only_what_running_needs():
    plan = _plan("run")
    assert "pip install -q -e ." in plan and "[test]" not in plan
    assert plan.rstrip().endswith("lapor-bot run")


def test_make_test_adds_the_test_extras():
    plan = _plan("test")
    assert "pip install -q -e '.[test]'" in plan
    assert plan.rstrip().endswith("pytest -q -n 2 --dist worksteal")
