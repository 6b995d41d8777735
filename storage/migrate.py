"""Apply and inspect Alembic migrations without an ``alembic.ini`` in the working directory.

The configuration is built in code and points at the ``storage/migrations`` package directory, so
an installed ``lapor-bot`` can migrate its database from anywhere. Async callers share one
connection with Alembic (Alembic's "connection sharing" recipe): ``env.py`` sees it in
``config.attributes["connection"]`` and runs on it instead of opening its own engine.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The one initial migration is named 0001_initial.py: no date or random id in the name.
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # An attribute, not an ini option: ConfigParser would choke on a "%" in a password.
        cfg.attributes["url"] = url
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def pending(url: str) -> bool:
    """True when the database is behind the newest migration."""
    return await current_revision(url) != head_revision()


async def upgrade_head(url: str) -> None:
    """Bring the database to the newest migration; a no-op when it is already there."""
    cfg = alembic_config(url)

    def run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()
