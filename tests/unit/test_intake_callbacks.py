"""The form's buttons pack their payload without a pydantic model (bot/ui/intake_callbacks.pack):
the same string as aiogram's ``IntakeCb(...).pack()``, and refused where that is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.ui.intake_callbacks import IntakeCb, pack


@pytest.mark.parametrize("fields", [
    ("a1b2c3", "kind", "set", "complaint"),
    ("a1b2c3", "agency", "page", "k12.3"),
    ("a1b2c3", "title", "back", ""),
    ("x" * 20, "attachments", "follow", "LPR-2026-000123"),
    ("ф", "date", "yday", "🙂"),
])
def test_pack_is_aiograms(fields: tuple[str, str, str, str]) -> None:
    form, step, action, value = fields
    assert pack(form, step, action, value) == IntakeCb(form=form, step=step, action=action, value=value).pack()
    assert IntakeCb.unpack(pack(form, step, action, value)) == IntakeCb(form=form, step=step, action=action,
                                                                          value=value)


@pytest.mark.parametrize("fields", [
    ("a:b", "kind", "set", "x"),  # the separator inside a field
    ("ab", "kind", "set", "x:y"),
    ("ab", "kind", "set", "y" * 60),  # over Telegram's 64 bytes
    ("ab", "kind", "set", 5),  # not text
])
def test_pack_refuses_what_aiogram_refuses(fields: tuple) -> None:
    form, step, action, value = fields
    with pytest.raises((ValueError, ValidationError)):
        IntakeCb(form=form, step=step, action=action, value=value).pack()
    with pytest.raises(ValueError):
        pack(form, step, action, value)
