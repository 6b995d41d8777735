"""Settings: the file, the environment overriding it, and one clear line for every mistake."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import EXAMPLE_TOKEN, ConfigError, Settings, load_settings, redact_url

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


# -- issue 14: unknown keys, the placeholder token, the environment named ----------------------
@pytest.mark.parametrize(
    ("text", "env", "names"),
    [
        # Used to be "configuration OK": the bot then ran without a single coordinator.
        (f'[telegram]\ntoken = "{TOKEN}"\n[roles]\nadmins = [1]\n', {}, ["roles.admins", "admin_ids"]),
        (f'[telegram]\ntoken = "{TOKEN}"\ntoken_file = "x"\n', {}, ["telegram.token_file"]),
        (f'[telegram]\ntoken = "{TOKEN}"\n[delivery]\nglobal_rate = 5\nmax_attempt = 3\n', {},
         ["delivery.max_attempt", "max_attempts"]),
        (f'[telegram]\ntoken = "{TOKEN}"\n', {"LAPOR_TELEGRAM__TOKN": "x"},
         ["telegram.tokn", "LAPOR_TELEGRAM__TOKN"]),
    ],
)
def test_unknown_keys_are_refused_and_named(tmp_path, monkeypatch, text, env, names):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, text))
    message = str(err.value)
    assert all(name in message for name in names), message
    assert "\n" not in message


def test_the_example_placeholder_token_is_refused(tmp_path):
    path = _write(tmp_path, (ROOT / "config.example.toml").read_text(encoding="utf-8"))
    with pytest.raises(ConfigError, match=r"telegram\.token .*placeholder"):
        load_settings(path)


@pytest.mark.parametrize("token_line", ["", 'token = "abc"\n', f'token = "{EXAMPLE_TOKEN}"\n'])
def test_commands_without_telegram_do_not_need_a_token(tmp_path, token_line):
    path = _write(tmp_path, f'[telegram]\n{token_line}[roles]\nadmin_ids = [5]\n')
    settings = load_settings(path, need_token=False)
    assert settings.telegram.token is None and settings.roles.admin_ids == [5]
    with pytest.raises(ConfigError, match="telegram.token"):
        load_settings(path)


def test_without_a_token_other_mistakes_still_count(tmp_path):
    path = _write(tmp_path, '[telegram]\ntoken = "abc"\n[roles]\nadmins = [1]\n')
    with pytest.raises(ConfigError, match="roles.admins"):
        load_settings(path, need_token=False)


@pytest.mark.parametrize("value", ["me", "[1,", "1, 2"])
def test_a_malformed_list_variable_is_named_not_the_file(tmp_path, monkeypatch, value):
    path = _write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\n')
    monkeypatch.setenv("LAPOR_ROLES__ADMIN_IDS", value)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert "LAPOR_ROLES__ADMIN_IDS" in message and str(path) not in message, message
    assert "\n" not in message


def test_a_wrong_value_says_whether_it_came_from_the_environment_or_the_file(tmp_path, monkeypatch):
    path = _write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\n[roles]\nadmin_ids = "x"\n')
    with pytest.raises(ConfigError, match=f"roles.admin_ids .*in {path}"):
        load_settings(path)
    monkeypatch.setenv("LAPOR_ROLES__ADMIN_IDS", '["me"]')
    with pytest.raises(ConfigError, match=r"roles.admin_ids .*from LAPOR_ROLES__ADMIN_IDS\)$"):
        load_settings(path)


def test_bot_username_is_checked_and_kept_without_the_at(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("LAPOR_TELEGRAM__USERNAME", "@LaporPenajamBot")
    assert load_settings().telegram.username == "LaporPenajamBot"
    monkeypatch.setenv("LAPOR_TELEGRAM__USERNAME", "t.me/lapor")
    with pytest.raises(ConfigError, match="telegram.username"):
        load_settings()


def test_every_setting_is_in_the_example_with_a_comment():
    """config.example.toml names every key (set or commented out) under its section, with a
    comment line somewhere above it in the same section."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip("[] ")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    for section, field in Settings.model_fields.items():
        lines = sections.get(section)
        assert lines is not None, f"[{section}] is missing from config.example.toml"
        for key in field.annotation.model_fields:
            at = [i for i, line in enumerate(lines) if re.match(rf"^(# )?{key} =", line)]
            assert at, f"[{section}] {key} is missing from config.example.toml"
            assert any(line.startswith("# ") and " = " not in line for line in lines[: at[0]]), key


# -- secrets never shown ---------------------------------------------------------------------
SECRETS = ["Pg-Pa55word", "r3dis-pass", "hook-s3cret", "proxy-pw", "q-pa55"]


def test_redacted_settings_show_no_secret_but_every_host(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("LAPOR_TELEGRAM__API_BASE", "http://botapi:proxy-pw@10.0.0.5:8081")
    monkeypatch.setenv("LAPOR_TELEGRAM__MODE", "webhook")
    monkeypatch.setenv("LAPOR_TELEGRAM__WEBHOOK_URL", "https://lapor.example/telegram")
    monkeypatch.setenv("LAPOR_TELEGRAM__WEBHOOK_SECRET", "hook-s3cret")
    monkeypatch.setenv("LAPOR_DATABASE__URL",
                       "postgresql+asyncpg://lapor:Pg-Pa55word@db.internal:5432/lapor?password=q-pa55")
    monkeypatch.setenv("LAPOR_REDIS__URL", "redis://:r3dis-pass@cache.internal:6379/0")
    settings = load_settings()
    shown = str(settings.redacted()) + repr(settings) + str(settings)
    for secret in [*SECRETS, TOKEN, TOKEN.partition(":")[2]]:
        assert secret not in shown
    for host in ["db.internal", "cache.internal", "10.0.0.5", "lapor.example"]:
        assert host in str(settings.redacted())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite+aiosqlite:///lapor.db", "sqlite+aiosqlite:///lapor.db"),
        ("postgresql+asyncpg://u:p%40ss@h/db", "postgresql+asyncpg://u:***@h/db"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("postgresql+asyncpg://h/db?user=u&password=p", "postgresql+asyncpg://h/db?user=u&password=***"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


# -- issue 10: a webhook nobody else can post to -------------------------------------------
def test_webhook_mode_needs_a_secret(monkeypatch):
    monkeypatch.setenv("LAPOR_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("LAPOR_TELEGRAM__MODE", "webhook")
    monkeypatch.setenv("LAPOR_TELEGRAM__WEBHOOK_URL", "https://lapor.example/telegram")
    with pytest.raises(ConfigError, match=r"^telegram\.webhook_secret is required"):
        load_settings()
    # Telegram accepts only these characters in setWebhook's secret_token.
    monkeypatch.setenv("LAPOR_TELEGRAM__WEBHOOK_SECRET", "not allowed!")
    with pytest.raises(ConfigError, match="telegram.webhook_secret"):
        load_settings()
    monkeypatch.setenv("LAPOR_TELEGRAM__WEBHOOK_SECRET", "Ok_secret-123")
    assert load_settings().telegram.webhook_secret.get_secret_value() == "Ok_secret-123"


def test_the_pool_follows_the_updates_handled_at_once_unless_set():
    # One connection per update at once, and the background work's (bot/config.py POOL_RESERVE):
    # a pool of 10 under 20 updates at once opened and closed overflow connections (issue 15).
    from bot.config import POOL_RESERVE, DatabaseSettings

    assert DatabaseSettings().pool_for(40) == 40 + POOL_RESERVE
    assert DatabaseSettings(pool_size=12).pool_for(40) == 12
