"""Settings: the file, the environment overriding it, and one clear line for every mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 35


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_once_a_token_is_filled_in(tmp_path):
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('token = "123456789:replace-with-the-token-from-BotFather"', f'token = "{TOKEN}"')
    s = load_settings(_write(tmp_path, text))
    assert s.database.url == "sqlite+aiosqlite:///lapor.db"
    assert s.app.timezone == "Asia/Makassar" and s.app.default_language == "id"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = _write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\n[roles]\nadmin_ids = [1]\n')
    monkeypatch.setenv("LAPOR_ROLES__ADMIN_IDS", "[7, 8]")
    monkeypatch.setenv("LAPOR_TELEGRAM__API_BASE", "http://127.0.0.1:9999/")
    monkeypatch.setenv("LAPOR_DATABASE__URL", "postgresql+asyncpg://postgres@127.0.0.1/x")
    s = load_settings(path)
    assert s.roles.admin_ids == [7, 8]
    assert s.telegram.api_base == "http://127.0.0.1:9999"
    assert s.database.url.startswith("postgresql+asyncpg://")


def test_token_from_environment_alone(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    assert load_settings().telegram.token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "telegram.token"),
        ('[telegram]\ntoken = "abc"\n', "telegram.token"),
        (f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "mysql://x"\n', "database.url"),
        (f'[telegram]\ntoken = "{TOKEN}"\n[app]\ntimezone = "Mars/Base"\n', "app.timezone"),
        (f'[telegram]\ntoken = "{TOKEN}"\n[roles]\nadmin_ids = "me"\n', "roles.admin_ids"),
        (f'[telegram]\ntoken = "{TOKEN}"\n[telegram2]\nx = 1\n', "telegram2"),
        ('[telegram\ntoken = "x"', "cannot read"),
    ],
)
def test_bad_settings_name_the_key(tmp_path, text, names):
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, text))
    assert names in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path):
    path = _write(tmp_path, '[telegram]\ntoken = "nope"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "run"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "telegram.token" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_lease_must_outlast_a_request(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("LAPOR_DELIVERY__LEASE_SECONDS", "20")
    with pytest.raises(ConfigError, match="lease_seconds"):
        load_settings()
    monkeypatch.setenv("LAPOR_TELEGRAM__REQUEST_TIMEOUT", "5")
    assert load_settings().delivery.lease_seconds == 20


def test_webhook_mode_needs_a_url(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("LAPOR_TELEGRAM__MODE", "webhook")
    with pytest.raises(ConfigError, match="webhook_url"):
        load_settings()
