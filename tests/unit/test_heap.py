"""The start-up heap is frozen before the bot serves anything (bot/heap.py): a full garbage
collection then skips the ~300,000 objects that live as long as the process."""

from __future__ import annotations

import gc
import os
import weakref
from types import SimpleNamespace
from unittest.mock import AsyncMock

import pytest

import bot.app
from bot import cli
from bot.config import Settings
from bot.heap import freeze_start_up_objects


@pytest.fixture(autouse=True)
def unfrozen():
    gc.unfreeze()  # other tests' objects go back to the collector afterwards as well
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def _tracked(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_objects_of_the_start_up_are_left_out_and_later_garbage_is_still_collected():
    early = Node()
    assert freeze_start_up_objects() > 0
    assert not _tracked(early)  # in the permanent generation: no pass visits it
    late = Node()
    assert _tracked(late)
    collected = []
    ref = weakref.ref(late, collected.append)
    del late
    gc.collect()
    assert ref() is None and collected


async def test_the_bot_freezes_its_start_up_objects_before_it_serves(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    settings = Settings(telegram={"token": "123456:" + "A" * 35},
                        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"})
    frozen_when_serving = []

    async def serve(app) -> None:
        frozen_when_serving.append(gc.get_freeze_count())

    app = SimpleNamespace(bot=SimpleNamespace(me=AsyncMock(return_value=SimpleNamespace(username="lapor_bot", id=1))),
                          close=AsyncMock())
    monkeypatch.setattr(cli, "_prepare_database", AsyncMock())
    monkeypatch.setattr(bot.app, "build_app", lambda s: app)
    monkeypatch.setattr(bot.app, "run_polling", serve)
    await cli._run(settings)
    assert frozen_when_serving and frozen_when_serving[0] > 0
