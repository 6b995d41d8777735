"""The real process as an operator runs it: health checks and metrics on their port in polling
mode, and JSON log lines that follow an update without naming the citizen."""

from __future__ import annotations

import json
import signal

import aiohttp
import pytest

from sandbox.botapi import SimUser
from tests.e2e.test_webhook_e2e import _free_port, _wait_port

pytestmark = pytest.mark.e2e


async def test_health_metrics_and_json_logs_of_the_running_bot(api_server, bot_process):
    port = _free_port()
    bot_process.extra_env.update(LAPOR_OPS__PORT=str(port), LAPOR_OPS__LOG_FORMAT="json")
    await bot_process.start()
    await _wait_port(port)
    base = f"http://127.0.0.1:{port}"
    warga = api_server.add_user(SimUser(id=6409011234, first_name="Siti", username="siti_ppu"))
    await api_server.user_sends_text(warga, "/start")
    await api_server.wait_for_bot_message(warga.id, timeout=20)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200
        async with http.get(f"{base}/readyz") as r:
            body = await r.json()
            assert r.status == 200, body
            assert body["checks"] == {"database": "ok", "telegram": "ok", "scheduler": "ok"}
        async with http.get(f"{base}/metrics") as r:
            metrics = await r.text()
    assert 'lapor_updates_total{outcome="handled",type="message"} 1.0' in metrics
    assert 'lapor_telegram_requests_total{client="replies",result="ok"}' in metrics
    assert "lapor_outbox_pending" in metrics and 'lapor_reports_open{status="submitted"} 0.0' in metrics
    assert await bot_process.stop(signal.SIGTERM) == 0

    lines = [json.loads(line) for line in bot_process.full_log().splitlines() if line.startswith("{")]
    assert lines, bot_process.log()
    assert any(line.get("message", "").startswith("health checks and metrics on") for line in lines)
    log = bot_process.full_log()
    assert "6409011234" not in log and "siti_ppu" not in log and "Siti" not in log
