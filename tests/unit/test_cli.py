"""The ``lapor-bot`` command line as a newcomer meets it: where options go, which commands need a
token, what is printed, and one line (exit code 2) for every mistake."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 35
DIRECTORY = ROOT / "examples" / "agencies-ppu.toml"
# Nothing listens here: a command that tried to reach Telegram would fail.
DEAD_API = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no ./config.toml of the developer's, exports land here


def _config(tmp_path: Path, body: str = "") -> Path:
    path = tmp_path / "lapor.toml"
    path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n{body}',
                    encoding="utf-8")
    return path


def _fails_with_one_line(capsys, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# -- --config anywhere ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "a.toml", "check-config"],
        ["check-config", "--config", "a.toml"],
        ["agencies", "import", "f.toml", "--config", "a.toml"],
        ["agencies", "--config", "a.toml", "import", "f.toml"],
        ["export", "--year", "2026", "--config", "a.toml", "-v"],
    ],
)
def test_config_works_before_or_after_the_command(argv):
    args = build_parser().parse_args(argv)
    assert args.config == "a.toml"
    assert args.verbose == ("-v" in argv)


def test_without_config_option_the_default_is_kept():
    args = build_parser().parse_args(["check-config"])
    assert args.config is None and args.verbose is False


# -- check-config ----------------------------------------------------------------------------
def test_check_config_hides_every_secret(tmp_path, capsys, monkeypatch):
    path = tmp_path / "c.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\n'
        'webhook_url = "https://lapor.example/telegram"\nwebhook_secret = "hook-s3cret"\n'
        '[database]\nurl = "postgresql+asyncpg://lapor:Pg-Pa55word@db.internal:5432/lapor"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LAPOR_REDIS__URL", "redis://:r3dis-pass@cache.internal:6379/0")
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("configuration OK")
    for secret in ["Pg-Pa55word", "r3dis-pass", "hook-s3cret", TOKEN.partition(":")[2]]:
        assert secret not in out
    assert "db.internal" in out and "cache.internal" in out
    # Says that the webhook only takes Telegram's requests.
    assert "without the webhook_secret header are refused" in out


@pytest.mark.parametrize(
    ("body", "env", "needles"),
    [
        # The example's placeholder has the shape of a token.
        ('[telegram]\ntoken = "123456789:replace-with-the-token-from-BotFather"\n', {},
         ["telegram.token", "placeholder"]),
        (f'[telegram]\ntoken = "{TOKEN}"\n[roles]\nadmins = [1]\n', {}, ["roles.admins"]),
        (f'[telegram]\ntoken = "{TOKEN}"\n[role]\nadmin_ids = [1]\n', {}, ["[role]", "unknown section"]),
        (f'[telegram]\ntoken = "{TOKEN}"\n', {"LAPOR_ROLES__ADMIN_IDS": "111, 222"},
         ["LAPOR_ROLES__ADMIN_IDS"]),
        (f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\nwebhook_url = "https://x.example/t"\n', {},
         ["telegram.webhook_secret"]),
        ("", {}, ["telegram.token is required"]),
    ],
)
def test_check_config_refuses_with_one_line(tmp_path, capsys, monkeypatch, body, env, needles):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    err = _fails_with_one_line(capsys, ["check-config", "--config", str(_config(tmp_path, body))],
                               "configuration error", *needles)
    if env:
        assert "lapor.toml" not in err  # the variable is to blame, not the file


def test_run_refuses_the_example_config_as_it_is(tmp_path):
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "placeholder" in proc.stderr and proc.stderr.strip().count("\n") == 0


# -- commands that never talk to Telegram ------------------------------------------------------
def test_migrate_needs_no_token_and_prints_one_line(tmp_path):
    # A subprocess: logging is configured by the command itself, as in real use.
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(_config(tmp_path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("database at revision")
    # Alembic's "Context impl SQLiteImpl", "Running upgrade ..." lines are not for operators.
    assert proc.stderr == ""


def test_agencies_import_and_export_need_no_token(tmp_path, capsys):
    cfg = str(_config(tmp_path, '[telegram]\ntoken = "123456789:replace-with-the-token-from-BotFather"\n'))
    assert main(["agencies", "import", str(DIRECTORY), "--dry-run", "--config", cfg]) == 0
    assert "dry run, nothing written" in capsys.readouterr().out
    assert main(["agencies", "import", str(DIRECTORY), "--config", cfg]) == 0
    assert main(["export", "--year", "2026", "--config", cfg]) == 0
    assert main(["officers", "list", "--config", cfg]) == 0


def test_export_without_out_goes_to_a_git_ignored_exports_folder(tmp_path, capsys):
    cfg = str(_config(tmp_path))
    assert main(["export", "--year", "2025", "--config", cfg]) == 0
    written = list((tmp_path / "exports").iterdir())
    assert [p.name for p in written] == [f"lapor-2025_{_today()}.csv"]
    assert f"written to exports/lapor-2025_{_today()}.csv" in capsys.readouterr().out
    if shutil.which("git") and (ROOT / ".git").exists():
        for name in [f"exports/{written[0].name}", "lapor-2025.xlsx", "lapor-2025.csv"]:
            ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT)
            assert ignored.returncode == 0, f"{name} is not git-ignored"


def _today() -> str:
    from bot.domain.workdays import WorkCalendar

    return WorkCalendar("Asia/Makassar").today().isoformat()


def test_export_format_follows_out_and_a_mismatch_is_warned_about(tmp_path, capsys):
    cfg = str(_config(tmp_path))
    assert main(["export", "--year", "2025", "--out", "a.xlsx", "--config", cfg]) == 0
    openpyxl.load_workbook(tmp_path / "a.xlsx")  # an XLSX, not a CSV named .xlsx
    assert "warning" not in capsys.readouterr().err

    assert main(["export", "--year", "2025", "--format", "xlsx", "--out", "b.csv", "--config", cfg]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "b.csv" in err and "XLSX" in err
    assert (tmp_path / "b.csv").read_bytes().startswith(b"PK")  # what was asked for, still


# -- officers invite without the network ----------------------------------------------------------
def test_invite_checks_the_agency_before_anything_else(tmp_path, capsys):
    # No token and no username anywhere: the mistake the operator made is the one reported.
    cfg = str(_config(tmp_path))
    assert main(["officers", "invite", "Dinas Tidak Ada", "--config", cfg]) == 1
    assert "no agency matches" in capsys.readouterr().err


def test_invite_without_any_username_says_how_to_give_one(tmp_path, capsys):
    cfg = str(_config(tmp_path))
    assert main(["agencies", "import", str(DIRECTORY), "--config", cfg]) == 0
    _fails_with_one_line(capsys, ["officers", "invite", "PUPR", "--config", cfg],
                         "[telegram] username", "--bot-username")


def test_invite_takes_the_username_from_the_configuration(tmp_path, capsys):
    cfg = str(_config(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\napi_base = "{DEAD_API}"\n'
                                'username = "@LaporPenajamBot"\n'))
    assert main(["agencies", "import", str(DIRECTORY), "--config", cfg]) == 0
    capsys.readouterr()
    assert main(["officers", "invite", "PUPR", "--config", cfg]) == 0
    assert "https://t.me/LaporPenajamBot?start=inv_" in capsys.readouterr().out


def test_invite_takes_the_username_the_running_bot_remembered(tmp_path, capsys):
    from bot.services.bot_identity import remember_username
    from storage.db import create_engine, create_session_factory

    cfg = str(_config(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\napi_base = "{DEAD_API}"\n'))
    assert main(["agencies", "import", str(DIRECTORY), "--config", cfg]) == 0

    async def remember(bot_id: int, username: str) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await remember_username(create_session_factory(engine), bot_id, username)
        await engine.dispose()

    # Another bot's name is never used for this token's links: Telegram is asked (and is away).
    asyncio.run(remember(999999, "other_bot"))
    capsys.readouterr()
    assert main(["officers", "invite", "PUPR", "--config", cfg]) == 1
    assert "cannot ask Telegram" in capsys.readouterr().err

    asyncio.run(remember(123456, "lapor_ppu_bot"))
    assert main(["officers", "invite", "PUPR", "--config", cfg]) == 0
    assert "https://t.me/lapor_ppu_bot?start=inv_" in capsys.readouterr().out


# -- bad options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sandbox", "--citizens", "0"], "--citizens"),
        (["sandbox", "--citizens", "-3"], "--citizens"),
        (["sandbox", "--citizens", "many"], "--citizens"),
        (["sandbox", "--port", "70000"], "--port"),
        (["officers", "invite", "PUPR", "--hours", "0"], "--hours"),
        (["officers", "invite"], "agency"),
        (["bogus"], "bogus"),
    ],
)
def test_bad_options_are_one_line_not_a_traceback(capsys, argv, needle):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert needle in err
