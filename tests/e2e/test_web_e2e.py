"""``lapor-bot web`` as a real process: the pages and the Open311 API on their own port, with an
API key made by ``lapor-bot apikeys create``; a report POSTed there is readable at once and the
process stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

import aiohttp
import pytest

from tests.e2e.test_webhook_e2e import _free_port, _wait_port
from tests.e2e.zygote_client import run_cli, spawn_bot

pytestmark = pytest.mark.e2e
TOKEN = "123456789:AAHarnessTokenForTestsOnly_abcdefghij"


def _env(tmp_path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_TELEGRAM__TOKEN=TOKEN, LAPOR_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
               LAPOR_WEB__PORT=str(port), LAPOR_WEB__PUBLIC_BASE_URL="https://lapor.example.go.id",
               PYTHONUNBUFFERED="1")
    return env


def _cli(tmp_path, env, *args: str) -> str:
    done = run_cli(list(args), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_lapor_bot_web_serves_the_api_and_the_pages(tmp_path):
    port = _free_port()
    env = _env(tmp_path, port)
    key = _cli(tmp_path, env, "apikeys", "create", "kiosk").strip().splitlines()[-1]
    assert "kiosk" in _cli(tmp_path, env, "apikeys", "list")
    proc = await spawn_bot(["web"], env=env, cwd=tmp_path, log=tmp_path / "web.log")
    try:
        await _wait_port(port)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            form = {"api_key": key, "service_code": "lainnya", "address_string": "Pasar Penajam",
                    "description": "Lampu jalan di depan pasar mati sejak seminggu."}
            async with http.post(f"{base}/open311/v2/requests.json", data=form) as r:
                assert r.status == 200, await r.text()
                tracking = (await r.json())[0]["service_request_id"]
            async with http.get(f"{base}/open311/v2/requests/{tracking}.xml") as r:
                assert r.status == 200 and f"<service_request_id>{tracking}</service_request_id>" in await r.text()
            async with http.get(f"{base}/r/{tracking}") as r:
                assert r.status == 200 and tracking in await r.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, (tmp_path / "web.log").read_text()
    assert _cli(tmp_path, env, "webhooks", "log").strip() == "no webhook deliveries"  # no targets configured
