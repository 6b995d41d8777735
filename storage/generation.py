"""Process caches of what every update reads (who is an officer where, the category tree), and
the one counter that tells every process when to drop them (issue 15).

- Any write to a watched table (seen in the SQL the engine sends, so ORM changes, bulk
  statements and the command line alike) raises ``cache_generation.value`` in the same
  transaction, just before it commits.
- Each update reads the counter together with its citizen (``CitizenRepo.with_generation``) and
  tells this module (``seen``). ``cache(session, name)`` then gives a dict that is valid for that
  generation: emptied when the counter moved, whichever process or command moved it; None (no
  caching) for a session that has not read the counter, or that is itself changing a watched
  table.

Caches are per engine (tests build many apps in one process) and only ever hold data read at or
after their generation.
"""

from __future__ import annotations

import re
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from storage.models.cache_generation import CacheGeneration

WATCHED = frozenset({"officer", "agency", "category"})
# An entry per key at most this many, then the cache starts over (a burst of newcomers).
MAX_ENTRIES = 50_000

_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_CHANGED = "lapor_watched_write"  # on a connection: this transaction wrote a watched table
_SEEN = "lapor_generation"  # on a session: the generation this update read
_ROW = 1

_caches: WeakKeyDictionary[Engine, tuple[int, dict[str, dict[Any, Any]]]] = WeakKeyDictionary()


def install(engine: AsyncEngine) -> None:
    """Watch ``engine``'s writes (``storage.db.create_engine`` calls it)."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _seen_write(conn, _cursor, statement: str, *_: Any) -> None:
        if (match := _WRITE.match(statement)) and match.group(1).lower() in WATCHED:
            conn.info[_CHANGED] = True

    @event.listens_for(sync, "rollback")
    def _forget(conn) -> None:
        if not conn.invalidated:  # its ``info`` would raise (the server went away: nothing to forget)
            conn.info.pop(_CHANGED, None)


@event.listens_for(Session, "before_commit")
def _raise_generation(session: Session) -> None:
    # Runs inside AsyncSession.commit's greenlet: the session may still execute here. SQLAlchemy
    # calls this before the commit's own flush, so pending changes are flushed first: otherwise an
    # officer revoked by an attribute set just before the commit would not move the counter in
    # that transaction, and other processes would keep the officer cached.
    session.flush()
    conn = session.connection()
    if not conn.info.pop(_CHANGED, False):
        return
    session.info.pop(_SEEN, None)  # what this update cached may predate its own change
    dialect = conn.dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(CacheGeneration).values(id=_ROW, value=1)
    session.execute(stmt.on_conflict_do_update(index_elements=["id"],
                                               set_={"value": CacheGeneration.value + 1}))


def current():
    """The counter, as a scalar subquery to read along with another row (0 before any change)."""
    return select(CacheGeneration.value).where(CacheGeneration.id == _ROW).scalar_subquery()


async def read(session: AsyncSession) -> int:
    return (await session.scalar(select(current()))) or 0


def seen(session: AsyncSession, generation: int | None) -> None:
    """This update read the counter as ``generation``: its caches may be used."""
    session.info[_SEEN] = generation or 0


def cache(session: AsyncSession, name: str) -> dict[Any, Any] | None:
    """The process cache ``name`` for the generation this update read, or None: read from the
    database (and do not cache)."""
    generation = session.info.get(_SEEN)
    if generation is None:
        return None
    engine = session.sync_session.get_bind().engine  # bound to an update's connection, or an engine
    assert isinstance(engine, Engine)
    held = _caches.get(engine)
    if held is None or generation > held[0]:
        held = _caches[engine] = (generation, {})
    elif generation < held[0]:
        return None  # an update that read the counter before it moved
    named = held[1].setdefault(name, {})
    if len(named) >= MAX_ENTRIES:
        named.clear()
    return named
