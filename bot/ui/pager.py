"""The ◀/▶ buttons of the admin console's paged lists."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder


def add_pager(kb: InlineKeyboardBuilder, page: int, pages: int, make: Callable[[int], CallbackData]) -> int:
    """Adds ◀/▶ buttons; returns how many it added (for ``adjust``)."""
    added = 0
    if page > 0:
        kb.button(text="◀", callback_data=make(page - 1))
        added += 1
    if page + 1 < pages:
        kb.button(text="▶", callback_data=make(page + 1))
        added += 1
    return added
