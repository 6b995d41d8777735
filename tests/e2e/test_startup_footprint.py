"""What the real ``lapor-bot run`` process holds once it has started and answered (issue 15).

Idle memory and start-up time are measured in bench/idle.py; this test keeps what made them
smaller: the heavy libraries of rarely used features (charts: matplotlib and numpy, only in the
chart worker's process; XLSX: openpyxl; cleaning a file: Pillow) are not imported by starting
and answering, nor Alembic for the schema check of a migrated database nor the Redis client
without Redis, and aiogram's ~450 Telegram types are built on first use, not at import
(``bot/aiogram_models.py``). The process is the console entry point in a fresh interpreter; a
``sitecustomize`` module on its path writes, at exit, what it had loaded and built.
"""

from __future__ import annotations

import json
import signal

import pytest

from sandbox.botapi import SimUser
from storage.migrate import upgrade_head

pytestmark = pytest.mark.e2e

# Alembic (with Mako and Pygments) only to migrate: the database below is migrated beforehand, as
# at every start but the first; the Redis client only with Redis.
HEAVY = ("matplotlib", "numpy", "openpyxl", "PIL", "sandbox", "alembic", "mako", "pygments", "redis")

REPORTER = """
import atexit, json, os, sys

def _report():
    types = sys.modules.get("aiogram.types")
    models = [getattr(types, n) for n in getattr(types, "__all__", ())]
    models = [m for m in models if hasattr(m, "__pydantic_complete__")]
    with open(os.environ["FOOTPRINT_REPORT"], "w") as out:
        json.dump({"top_level": sorted({m.split(".")[0] for m in sys.modules}),
                   "types": len(models), "built": sum(bool(m.__pydantic_complete__) for m in models)}, out)

atexit.register(_report)
"""


async def test_a_started_bot_holds_no_heavy_library_and_few_built_types(api_server, bot_process, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(REPORTER)
    report = tmp_path / "footprint.json"
    bot_process.real_exec = True
    await upgrade_head(bot_process.db_url)
    bot_process.extra_env.update(PYTHONPATH=str(tmp_path), FOOTPRINT_REPORT=str(report))
    await bot_process.start()
    warga = api_server.add_user(SimUser(id=5002, first_name="Sari"))
    await api_server.user_sends_text(warga, "/start")
    assert (await api_server.wait_for_bot_message(warga.id, timeout=60)).text
    assert await bot_process.stop(signal.SIGTERM) == 0

    footprint = json.loads(report.read_text())
    assert [name for name in HEAVY if name in footprint["top_level"]] == []
    # Eagerly, all of them are built at import; an update and a few answers build a handful.
    assert footprint["types"] > 400
    assert footprint["built"] < footprint["types"] / 4, footprint["built"]
