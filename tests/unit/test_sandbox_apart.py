"""The product runs without the sandbox loaded.

import-linter's contract forbids the product to import ``sandbox`` but has to allow one import,
``bot.cli -> sandbox.app``, for the ``lapor-bot sandbox`` subcommand; it cannot tell a lazy import
inside that function from one at the top of the module. This test can.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bot_app_cli_and_handlers_load_without_the_sandbox() -> None:
    code = (
        "import sys\n"
        "import bot.app, bot.cli, handlers\n"
        "bot.cli.build_parser().parse_args(['sandbox', '--port', '0'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sandbox'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
