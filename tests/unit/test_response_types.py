"""aiogram's Response[...] classes are built once per process (bot/response_types.py)."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import GetChatMenuButton, Response

from bot.app import build_bot
from bot.config import Settings
from bot.response_types import PinResponseTypes, pinned_response_type


def test_a_pinned_response_class_outlives_garbage_collection():
    returning = GetChatMenuButton.__returning__
    held = weakref.ref(pinned_response_type(returning))
    gc.collect()
    # pydantic's own cache holds it weakly: without the pin a collection may drop it, and the
    # next answer would build the whole schema again.
    assert held() is not None
    assert Response[returning] is held()


def test_every_bot_pins_its_response_classes():
    bot = build_bot(Settings(telegram={"token": "123456789:AAPinTokenForTestsOnly_abcdefghijklm"}))
    assert any(isinstance(m, PinResponseTypes) for m in bot.session.middleware)
