"""Apply and inspect Alembic migrations without an ``alembic.ini`` in the working directory.

The configuration is built in code and points at the ``storage/migrations`` package directory, so
an installed ``lapor-bot`` can migrate its database from anywhere. Async callers share one
connection with Alembic (Alembic's "connection sharing" recipe): ``env.py`` sees it in
``config.attributes["connection"]`` and runs on it instead of opening its own engine.

The check at every start (``pending``) does without Alembic: importing it brings Mako and
Pygments (~10 MB and most of a second of CPU, issue 15), and a database already at the head,
the usual start, needs none of it. It reads the version table as Alembic keeps it and the head
from the version files; Alembic itself is imported to migrate, or when the files are not one line
of revisions.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Where Alembic keeps a database's revision (its default: one table, one row).
VERSION_TABLE = "alembic_version"


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

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
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""

    def read(conn: Connection) -> str | None:
        # What Alembic's MigrationContext.get_current_revision reads, without importing Alembic.
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) > 1:
            raise RuntimeError(f"the database is at several revisions: {rows}")
        return rows[0] if rows else None

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def pending(url: str) -> bool:
    """True when the database is behind the newest migration."""
    return await current_revision(url) != (head_from_files() or head_revision())


def head_from_files() -> str | None:
    """The newest revision, read from the version files' ``revision`` and ``down_revision``
    when they form one line without branches or dependencies (the project keeps one migration,
    regenerated); None otherwise, for Alembic to decide."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
                node.target if isinstance(node, ast.AnnAssign) else None)
            if isinstance(target, ast.Name) and node.value is not None:
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    found[target.id] = node  # computed: not for this reading
        if "revision" not in found:
            continue  # __init__.py
        down = found.get("down_revision")
        if (found.get("branch_labels") or found.get("depends_on") or not isinstance(found["revision"], str)
                or not isinstance(down, str | None)):
            return None
        revisions.add(found["revision"])
        if down is not None:
            parents.add(down)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


async def upgrade_head(url: str) -> None:
    """Bring the database to the newest migration; a no-op when it is already there."""
    from alembic import command

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
