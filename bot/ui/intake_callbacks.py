"""callback_data of the /lapor form.

Every button carries the form id (random, per run of the form) and the step it belongs to, so a
press from a finished form, an earlier step or a forged payload can be recognised and refused.
Packed, the longest payload is well under Telegram's 64 bytes (``rf:<6>:ag:page:k<id>.<page>``).
"""

from __future__ import annotations

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData

from bot.ui.callback_types import RowId


class ReportFromTextCb(CallbackData, prefix="rft"):
    """"Make a report from this message", under a message the bot did not understand. The text
    itself waits in the chat's FSM data (callback_data holds 64 bytes), keyed by its message id."""

    message_id: RowId


class IntakeCb(CallbackData, prefix="rf"):
    form: str
    step: str
    action: str
    value: str = ""


def pack(form: str, step: str, action: str, value: str = "") -> str:
    """``IntakeCb(form=form, step=step, action=action, value=value).pack()``: the same string and
    the same refusals (a field that is not text, a separator inside one, over 64 bytes), without
    building and dumping a pydantic model for each button (~13 µs; a form step shows 4 to 10 of
    them, issue 15). ``tests/unit/test_intake_callbacks.py`` holds the two equal."""
    fields = (IntakeCb.__prefix__, form, step, action, value)
    for field in fields:
        if not isinstance(field, str) or IntakeCb.__separator__ in field:
            raise ValueError(f"cannot pack {field!r} into the form's callback data")
    packed = IntakeCb.__separator__.join(fields)
    if len(packed.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"callback data too long: {packed!r}")
    return packed


# Actions (kept short: they ride in callback_data).
SET = "set"  # choose a value (classification, privacy)
BACK = "back"
CANCEL = "cancel"
SKIP = "skip"
DONE = "done"
CLEAR = "clear"  # remove the attachments collected so far
TODAY = "today"
YESTERDAY = "yday"
KINDS = "kinds"  # agency: back to the groups
KIND = "kind"  # agency: open a group
PAGE = "page"  # agency: another page of a list; value "<list>.<page>"
KEC = "kec"  # agency: open the kelurahan/desa of one kecamatan
PICK = "pick"  # agency: choose one
UNKNOWN = "unk"  # agency: "Tidak tahu", the admin routes it; category: "Lainnya / Tidak tahu"
OPEN = "open"  # category: the subtopics of topic ``value``
TOP = "top"  # category: back to the topics
EDIT = "edit"  # summary: edit one field; value is the step
SUBMIT = "submit"
KEEP = "keep"  # description: keep the draft (a message written before the form began)
FOLLOW = "follow"  # attachments: follow the nearby report ``value`` instead of filing this one
SEND_HELD = "sendheld"  # files (anonymous report): send the files no cleaner can strip anyway
DROP_HELD = "dropheld"  # ... or leave them out

# The agency group "Kelurahan/Desa" lists kecamatans first.
VILLAGES = "village"
