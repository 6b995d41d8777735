"""FSM storage: the database storage on SQLite and PostgreSQL, and the Redis one from build_fsm.

The same contract runs against both, so a handler behaves the same whichever is configured.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy import func, select, text, update

from bot.fsm import build_fsm
from bot.isolation import RenewedRedisIsolation
from storage.fsm import SqlAlchemyStorage
from storage.models import FsmState
from storage.unit_of_work import bound_session

# Each engineer and CI run has a database number of its own: never a hard-coded one here.
REDIS_URL = os.environ.get("LAPOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

MakeStorage = Callable[[], Awaitable[BaseStorage]]
# With a Redis URL build_fsm never touches the database.
NO_DB: Any = None


class ReportForm(StatesGroup):
    title = State()
    body = State()


KEY = StorageKey(bot_id=1, chat_id=100, user_id=100)


class StorageContract:
    """Behaviour every FSM storage we configure must have. Subclasses provide ``make_storage``."""

    async def test_empty_key_has_no_state_and_no_data(self, make_storage: MakeStorage):
        storage = await make_storage()
        assert await storage.get_state(KEY) is None
        assert await storage.get_data(KEY) == {}

    async def test_state_object_string_and_none(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_state(KEY, ReportForm.title)
        assert await storage.get_state(KEY) == "ReportForm:title"
        await storage.set_state(KEY, "ReportForm:body")
        assert await storage.get_state(KEY) == "ReportForm:body"
        await storage.set_state(KEY, None)
        assert await storage.get_state(KEY) is None

    async def test_set_data_replaces(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_data(KEY, {"title": "Jalan rusak", "photos": ["a", "b"]})
        assert await storage.get_data(KEY) == {"title": "Jalan rusak", "photos": ["a", "b"]}
        await storage.set_data(KEY, {"body": "Berlubang"})
        assert await storage.get_data(KEY) == {"body": "Berlubang"}

    async def test_state_and_data_are_independent(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_state(KEY, ReportForm.body)
        await storage.set_data(KEY, {"title": "x"})
        await storage.set_state(KEY, None)
        assert await storage.get_data(KEY) == {"title": "x"}
        await storage.set_state(KEY, ReportForm.title)
        await storage.set_data(KEY, {})
        assert await storage.get_state(KEY) == "ReportForm:title"
        assert await storage.get_data(KEY) == {}

    async def test_update_data_merges(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_data(KEY, {"title": "Lampu mati", "kind": "complaint"})
        merged = await storage.update_data(KEY, {"kind": "aspiration", "body": "Sudah 2 minggu"})
        expected = {"title": "Lampu mati", "kind": "aspiration", "body": "Sudah 2 minggu"}
        assert merged == expected
        assert await storage.get_data(KEY) == expected

    async def test_update_data_on_empty_key(self, make_storage: MakeStorage):
        storage = await make_storage()
        assert await storage.update_data(KEY, {"step": 1}) == {"step": 1}
        assert await storage.get_data(KEY) == {"step": 1}

    async def test_returned_data_is_a_copy(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_data(KEY, {"n": 1})
        got = await storage.get_data(KEY)
        got["n"] = 2
        assert await storage.get_data(KEY) == {"n": 1}

    async def test_unicode_and_nested_values_round_trip(self, make_storage: MakeStorage):
        storage = await make_storage()
        data = {
            "body": "Jembatan <rusak> & licin — 🙏",
            "loc": {"lat": -1.25, "lon": 116.8},
            "ok": True,
        }
        await storage.set_data(KEY, data)
        assert await storage.get_data(KEY) == data

    @pytest.mark.parametrize(
        "other",
        [
            StorageKey(bot_id=2, chat_id=100, user_id=100),
            StorageKey(bot_id=1, chat_id=101, user_id=100),
            StorageKey(bot_id=1, chat_id=100, user_id=101),
            StorageKey(bot_id=1, chat_id=100, user_id=100, thread_id=7),
            StorageKey(bot_id=1, chat_id=100, user_id=100, business_connection_id="bc1"),
            StorageKey(bot_id=1, chat_id=100, user_id=100, destiny="dialog"),
        ],
        ids=["bot", "chat", "user", "thread", "business", "destiny"],
    )
    async def test_keys_are_separate(self, make_storage: MakeStorage, other: StorageKey):
        storage = await make_storage()
        await storage.set_state(KEY, ReportForm.title)
        await storage.set_data(KEY, {"who": "first"})
        assert await storage.get_state(other) is None
        assert await storage.get_data(other) == {}
        await storage.set_state(other, ReportForm.body)
        await storage.set_data(other, {"who": "second"})
        assert await storage.get_state(KEY) == "ReportForm:title"
        assert await storage.get_data(KEY) == {"who": "first"}
        assert await storage.get_state(other) == "ReportForm:body"
        assert await storage.get_data(other) == {"who": "second"}

    async def test_new_instance_sees_old_state(self, make_storage: MakeStorage):
        # A restart: a fresh storage object on the same backend picks up the half-filled form.
        first = await make_storage()
        await first.set_state(KEY, ReportForm.body)
        await first.set_data(KEY, {"title": "Sampah menumpuk"})
        await first.close()
        second = await make_storage()
        assert await second.get_state(KEY) == "ReportForm:body"
        assert await second.get_data(KEY) == {"title": "Sampah menumpuk"}

    async def test_clear(self, make_storage: MakeStorage):
        storage = await make_storage()
        await storage.set_state(KEY, ReportForm.title)
        await storage.set_data(KEY, {"title": "x"})
        # What FSMContext.clear() does.
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
        assert await storage.get_state(KEY) is None
        assert await storage.get_data(KEY) == {}

    async def test_non_dict_data_is_refused(self, make_storage: MakeStorage):
        storage = await make_storage()
        with pytest.raises(DataNotDictLikeError):
            await storage.set_data(KEY, [("a", 1)])  # type: ignore[arg-type]


class TestSqlAlchemyStorage(StorageContract):
    @pytest.fixture
    def make_storage(self, session_factory) -> MakeStorage:
        async def make() -> BaseStorage:
            return SqlAlchemyStorage(session_factory)

        return make

    async def count_rows(self, session_factory) -> int:
        async with session_factory() as s:
            return await s.scalar(select(func.count()).select_from(FsmState))

    async def test_clearing_both_deletes_the_row(self, session_factory):
        storage = SqlAlchemyStorage(session_factory)
        await storage.set_state(KEY, ReportForm.title)
        await storage.set_data(KEY, {"title": "x"})
        assert await self.count_rows(session_factory) == 1
        await storage.set_state(KEY, None)
        assert await self.count_rows(session_factory) == 1  # data still there
        await storage.set_data(KEY, {})
        assert await self.count_rows(session_factory) == 0

    async def test_clearing_an_unknown_key_creates_nothing(self, session_factory):
        storage = SqlAlchemyStorage(session_factory)
        await storage.set_state(KEY, None)
        await storage.set_data(KEY, {})
        assert await storage.update_data(KEY, {}) == {}
        assert await self.count_rows(session_factory) == 0

    async def test_data_must_be_json_serialisable(self, session_factory):
        storage = SqlAlchemyStorage(session_factory)
        with pytest.raises(TypeError, match="JSON"):
            await storage.set_data(KEY, {"when": datetime.now(UTC)})
        with pytest.raises(TypeError, match="JSON"):
            await storage.update_data(KEY, {"when": datetime.now(UTC)})
        assert await self.count_rows(session_factory) == 0

    async def test_writes_touch_updated_at(self, session_factory):
        storage = SqlAlchemyStorage(session_factory)
        await storage.set_state(KEY, ReportForm.title)
        old = datetime(2020, 1, 1, tzinfo=UTC)
        async with session_factory() as s, s.begin():
            await s.execute(update(FsmState).values(updated_at=old))
        await storage.update_data(KEY, {"a": 1})
        async with session_factory() as s:
            assert await s.scalar(select(FsmState.updated_at)) > old

    async def test_delete_stale(self, session_factory):
        storage = SqlAlchemyStorage(session_factory)
        fresh = StorageKey(bot_id=1, chat_id=5, user_id=5)
        await storage.set_state(KEY, ReportForm.title)
        await storage.set_state(fresh, ReportForm.body)
        async with session_factory() as s, s.begin():
            await s.execute(
                update(FsmState)
                .where(FsmState.chat_id == KEY.chat_id)
                .values(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
            )
        assert await storage.delete_stale(datetime.now(UTC) - timedelta(days=30)) == 1
        assert await storage.get_state(KEY) is None
        assert await storage.get_state(fresh) == "ReportForm:body"


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"lapor_test_{secrets.token_hex(6)}"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


class TestRedisStorage(StorageContract):
    @pytest.fixture
    async def make_storage(self, redis_prefix) -> AsyncIterator[MakeStorage]:
        made: list[BaseStorage] = []

        async def make() -> BaseStorage:
            storage, _ = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
            made.append(storage)
            return storage

        yield make
        for storage in made:
            await storage.close()

    async def test_keys_carry_prefix_and_bot_id(self, make_storage, redis_prefix):
        storage = await make_storage()
        await storage.set_state(StorageKey(bot_id=42, chat_id=7, user_id=8), ReportForm.title)
        client = Redis.from_url(REDIS_URL)
        try:
            keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}:*")]
        finally:
            await client.aclose()
        assert keys == [f"{redis_prefix}:42:7:8:default:state"]


async def test_build_fsm_without_redis_uses_the_database(session_factory):
    storage, isolation = build_fsm(None, session_factory)
    assert isinstance(storage, SqlAlchemyStorage)
    assert isinstance(isolation, SimpleEventIsolation)


async def test_build_fsm_with_redis_shares_one_pool_and_close_releases_it(redis_prefix):
    storage, isolation = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
    assert isinstance(storage, RedisStorage)
    assert isinstance(isolation, RenewedRedisIsolation)
    assert isolation.redis is storage.redis
    async with isolation.lock(KEY):
        await storage.set_state(KEY, ReportForm.title)
    pool = storage.redis.connection_pool
    assert any(c.is_connected for c in pool._available_connections)
    await isolation.close()
    await storage.close()
    connections = [*pool._available_connections, *pool._in_use_connections]
    assert connections
    assert not any(c.is_connected for c in connections)


# Redis's behaviour, the same whichever database the update's session is on.
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@SQLITE_ONLY
async def test_an_update_reads_what_the_chats_previous_update_left(session_factory, redis_prefix):
    """The chat's lock reads the state as it takes it (bot/fsm_redis.py): a waiting update reads
    it when its turn comes, not when it started waiting."""
    storage, isolation = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
    try:
        async with isolation.lock(KEY):
            waiting = asyncio.create_task(_state_read_in_turn(storage, isolation, session_factory))
            await asyncio.sleep(0.1)  # it tried and waits
            await storage.set_state(KEY, ReportForm.title)
        assert await waiting == "ReportForm:title"
    finally:
        await storage.close()


async def _state_read_in_turn(storage: BaseStorage, isolation: Any, session_factory) -> str | None:
    async with isolation.lock(KEY), session_factory() as session:
        with bound_session(session):
            return await storage.get_state(KEY)


@SQLITE_ONLY
async def test_after_a_rollback_an_update_reads_redis_not_what_its_lock_read(session_factory, redis_prefix):
    storage, isolation = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
    try:
        async with isolation.lock(KEY), session_factory() as session:
            with bound_session(session):
                assert await storage.get_state(KEY) is None  # as the lock read it
                await storage.set_state(KEY, ReportForm.title)
                await session.commit()  # now in Redis
                await storage.set_state(KEY, ReportForm.body)
                await session.execute(text("SELECT 1"))
                await session.rollback()  # forgets the update's reads and its unsaved step
                assert await storage.get_state(KEY) == "ReportForm:title"
    finally:
        await storage.close()


async def _rolled_back_step(storage: BaseStorage, session_factory) -> None:
    """An update that committed a step, then set the next one and rolled it back before any
    statement began a new transaction (SQLAlchemy sends no rollback event then)."""
    async with session_factory() as session:
        with bound_session(session):
            await storage.set_state(KEY, ReportForm.title)
            await session.commit()
            await storage.set_state(KEY, ReportForm.body)  # deferred: no statement, no transaction
            await session.rollback()
            await session.commit()  # e.g. the journal's "done" mark


async def test_a_rolled_back_step_is_not_written_at_the_next_commit(session_factory):
    storage = SqlAlchemyStorage(session_factory)
    await _rolled_back_step(storage, session_factory)
    assert await storage.get_state(KEY) == "ReportForm:title"


@SQLITE_ONLY
async def test_a_rolled_back_step_is_not_sent_to_redis_at_the_next_commit(session_factory, redis_prefix):
    storage, isolation = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
    try:
        async with isolation.lock(KEY):
            await _rolled_back_step(storage, session_factory)
        assert await storage.get_state(KEY) == "ReportForm:title"
    finally:
        await storage.close()


@SQLITE_ONLY
async def test_an_updates_writes_at_its_commit_keep_the_ttls_and_delete_what_is_cleared(session_factory,
                                                                                      redis_prefix):
    """The step's writes go to Redis in one script at the commit (bot/fsm_redis.py): with the
    storage's expiries, as aiogram's own ``set_state``/``set_data`` would set them, and an emptied
    state and data deleted."""
    storage, isolation = build_fsm(REDIS_URL, NO_DB, key_prefix=redis_prefix)
    assert isinstance(storage, RedisStorage)
    storage.state_ttl, storage.data_ttl = timedelta(minutes=10), 60
    state_key, data_key = storage.key_builder.build(KEY, "state"), storage.key_builder.build(KEY, "data")
    try:
        async with isolation.lock(KEY), session_factory() as session:
            with bound_session(session):
                await storage.set_data(KEY, {"a": 1})
                await storage.set_state(KEY, ReportForm.title)
                await session.commit()
        assert await storage.redis.get(state_key) == b"ReportForm:title"
        assert 590 < await storage.redis.ttl(state_key) <= 600
        assert 50 < await storage.redis.ttl(data_key) <= 60
        async with isolation.lock(KEY), session_factory() as session:
            with bound_session(session):
                await storage.set_state(KEY, None)
                await storage.set_data(KEY, {})
                await session.commit()
        assert await storage.redis.exists(state_key, data_key) == 0
    finally:
        await storage.close()
