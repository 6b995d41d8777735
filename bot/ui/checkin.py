"""The "is it really solved?" check-in some working days after a report closed (FixMyStreet's
questionnaire). Both answers are re-checked on the server: owner, status, one answer only."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.callback_types import RowId, SmallInt


class CheckinCb(CallbackData, prefix="ci"):
    r: RowId
    # 1: solved, 0: not solved (reopen)
    ok: SmallInt


def checkin_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, solved"), callback_data=CheckinCb(r=report_id, ok=1).pack()
                ),
                InlineKeyboardButton(
                    text=_("No, not yet"), callback_data=CheckinCb(r=report_id, ok=0).pack()
                ),
            ]
        ]
    )
