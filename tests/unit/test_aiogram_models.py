"""aiogram's types built on first use (bot/aiogram_models.py) read and write what eagerly built
ones do, and every one of them can still be built: an aiogram upgrade that changes how its types
refer to each other fails here, not on the first such update in production. Each check runs in
a fresh interpreter (the test process has aiogram imported, eagerly, already)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USER = {"id": 5001, "is_bot": False, "first_name": "Siti", "language_code": "id"}
CHAT = {"id": 5001, "type": "private", "first_name": "Siti"}
KEYBOARD = {"inline_keyboard": [[{"text": "Setuju", "callback_data": "consent:yes"}]]}
MESSAGE = {"message_id": 7, "date": 1764633600, "chat": CHAT, "from": USER, "text": "/start inv_x",
           "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
UPDATES = [
    {"update_id": 1, "message": MESSAGE},
    {"update_id": 2, "message": {**MESSAGE, "text": None, "entities": None, "caption": "foto",
                                 "photo": [{"file_id": "p", "file_unique_id": "u", "width": 90, "height": 60}],
                                 "media_group_id": "g1"}},
    {"update_id": 3, "message": {**MESSAGE, "text": None, "entities": None,
                                 "location": {"latitude": -1.26, "longitude": 116.8}}},
    {"update_id": 4, "callback_query": {"id": "q1", "from": USER, "chat_instance": "c", "data": "consent:yes",
                                        "message": {**MESSAGE, "from": {**USER, "id": 1, "is_bot": True},
                                                    "reply_markup": KEYBOARD}}},
    {"update_id": 5, "my_chat_member": {"chat": {"id": -100, "type": "supergroup", "title": "Dinas", "is_forum": True},
                                        "from": USER, "date": 1764633600,
                                        "old_chat_member": {"status": "left", "user": USER},
                                        "new_chat_member": {"status": "member", "user": USER}}},
]

# Answers first (as the bot's getMe and first sendMessage come before any update), then updates,
# then what the bot sends: dumped as JSON to compare.
ROUND_TRIP = """
import json, sys
{prelude}
from aiogram.methods import GetMe, SendMessage
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardMarkup, Update
updates = json.loads(sys.argv[1])
out = [Response[GetMe.__returning__].model_validate({{"ok": True, "result": updates[0]["message"]["from"]}})
       .model_dump_json(),
       Response[SendMessage.__returning__].model_validate({{"ok": True, "result": updates[0]["message"]}})
       .model_dump_json()]
out += [Update.model_validate(u).model_dump_json() for u in updates]
keyboard = InlineKeyboardMarkup.model_validate(json.loads(sys.argv[2]))
out.append(json.dumps(SendMessage(chat_id=1, text="x", reply_markup=keyboard).model_dump(exclude_none=True),
                      default=str))
print(json.dumps(out))
"""
DEFER = "from bot.aiogram_models import defer_aiogram_builds\nassert defer_aiogram_builds()"


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_deferred_types_read_and_dump_updates_as_eager_ones_do() -> None:
    args = (json.dumps(UPDATES), json.dumps(KEYBOARD))
    deferred = json.loads(_run(ROUND_TRIP.format(prelude=DEFER), *args))
    eager = json.loads(_run(ROUND_TRIP.format(prelude=""), *args))
    assert deferred == eager
    assert '"photo"' in deferred[3] and '"consent:yes"' in deferred[5]


def test_every_deferred_type_and_method_can_be_built() -> None:
    code = DEFER + """
import aiogram.methods, aiogram.types
from aiogram.methods.base import Response
failed, built = [], 0
for module in (aiogram.types, aiogram.methods):
    for name in module.__all__:
        model = getattr(module, name)
        if not hasattr(model, "__pydantic_complete__") or name == "TelegramMethod":  # the generic base
            continue
        try:
            model.model_rebuild()
            if isinstance(model, type) and issubclass(model, aiogram.methods.TelegramMethod):
                Response[model.__returning__].model_rebuild()
        except Exception as exc:
            failed.append(f"{name}: {exc}")
        built += 1
        if not model.__pydantic_complete__:
            failed.append(name)
print(built, failed)
"""
    built, failed = _run(code).split(" ", 1)
    assert failed.strip() == "[]"
    assert int(built) > 550  # types and methods: the loop saw them all


BIND = "from bot.aiogram_models import bind_bot_directly\nassert bind_bot_directly() > 550"


def test_bound_types_read_and_dump_updates_as_pydantics_own_do() -> None:
    args = (json.dumps(UPDATES), json.dumps(KEYBOARD))
    bound = json.loads(_run(ROUND_TRIP.format(prelude=DEFER + "\n" + BIND), *args))
    assert bound == json.loads(_run(ROUND_TRIP.format(prelude=""), *args))


def test_every_type_and_method_binds_its_bot_directly() -> None:
    # An aiogram upgrade that gives its types another private attribute, or its own post-init,
    # leaves them on pydantic's path: the count above and this check fail, nothing breaks.
    code = DEFER + "\n" + BIND + """
import json, sys
import aiogram.methods, aiogram.types
from aiogram.client.context_controller import BotContextController
from aiogram.methods import SendMessage
from aiogram.types import Message, Update
from bot.aiogram_models import _bind_bot
left = [name for module in (aiogram.types, aiogram.methods) for name in module.__all__
        if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), BotContextController)
        and getattr(module, name).__dict__.get("model_post_init") is not _bind_bot]
bot = object()
update = Update.model_validate(json.loads(sys.argv[1]), context={"bot": bot})
query = update.callback_query
checks = [query.bot is bot, query.message.bot is bot, query.message.reply_markup.inline_keyboard[0][0].bot is bot,
          query.message.chat.bot is bot, Update.model_validate(json.loads(sys.argv[1])).bot is None,
          SendMessage(chat_id=1, text="x").bot is None, SendMessage(chat_id=1, text="x").as_(bot).bot is bot,
          Message.model_construct(message_id=1).bot is None, query.model_copy().bot is bot]
print(json.dumps([left, checks]))
"""
    left, checks = json.loads(_run(code, json.dumps(UPDATES[3])))
    assert left == []
    assert all(checks), checks
