"""The new ``lapor-bot`` subcommands end to end on a SQLite file: categories import, API keys,
the webhook log."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def config(tmp_path) -> list[str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[telegram]\ntoken = "123456789:AAHarnessTokenForTestsOnly_abcdefghij"\n'
                   f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n')
    return ["--config", str(cfg)]


def test_categories_import_after_the_agencies(config, capsys, tmp_path):
    categories = str(EXAMPLES / "categories.toml")
    # The default agencies must exist first: nothing is imported, every problem is named.
    assert main([*config, "categories", "import", categories]) == 1
    assert "default_agency 'PUPR' is not in the agency directory" in capsys.readouterr().err
    assert main([*config, "agencies", "import", str(EXAMPLES / "agencies-ppu.toml")]) == 0
    assert main([*config, "categories", "import", "--dry-run", categories]) == 0
    assert "dry run, nothing written" in capsys.readouterr().out
    assert main([*config, "categories", "import", categories]) == 0
    out = capsys.readouterr().out
    assert "+ jalan-rusak" in out and "updated 0" in out
    assert main([*config, "categories", "import", categories]) == 0
    assert "created 0, updated 0" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent\nx,X,nowhere\n")
    assert main([*config, "categories", "import", str(bad)]) == 1
    assert "line 2: parent 'nowhere'" in capsys.readouterr().err


def test_api_keys_create_list_revoke(config, capsys):
    assert main([*config, "apikeys", "create", "kiosk Waru"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("lk_") and len(key) > 40
    assert main([*config, "apikeys", "create", "kiosk Waru"]) == 1  # names are unique
    assert "exists already" in capsys.readouterr().err
    assert main([*config, "apikeys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "kiosk Waru" in listed and "active" in listed and key not in listed
    assert main([*config, "apikeys", "revoke", "kiosk Waru"]) == 0
    assert main([*config, "apikeys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main([*config, "apikeys", "revoke", "nobody"]) == 1


def test_webhook_log_when_empty(config, capsys):
    assert main([*config, "webhooks", "log"]) == 0
    assert capsys.readouterr().out.strip() == "no webhook deliveries"
