"""Callback data of the admin console (broadcasts, directory, exports).

Every value can be forged by a client: the admin audience's router is gated on the role and
the services ask the access rules again. Prefixes are short because callback_data is limited to 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.services.broadcasts import AudienceKind
from bot.services.export import ExportFormat
from bot.ui.callback_types import Page, RowId, Year


class BcAudienceCb(CallbackData, prefix="bca"):
    kind: AudienceKind


class BcAgencyCb(CallbackData, prefix="bcag"):
    agency_id: RowId


class BcAgencyPageCb(CallbackData, prefix="bcagp"):
    page: Page


class BcAreaCb(CallbackData, prefix="bcar"):
    """Browse the areas: the kecamatan (``kecamatan_id`` 0) or one kecamatan's villages, a page."""

    kecamatan_id: RowId = 0
    page: Page = 0


class BcAreaPickCb(CallbackData, prefix="bcarp"):
    """The area chosen: a kecamatan (with its villages), a kelurahan or a desa."""

    agency_id: RowId


class BcConfirm(StrEnum):
    SEND = "send"


class BcConfirmCb(CallbackData, prefix="bcc"):
    action: BcConfirm


class BcStopCb(CallbackData, prefix="bcs"):
    broadcast_id: RowId


class DirPageCb(CallbackData, prefix="dirp"):
    page: Page


class DirAgencyCb(CallbackData, prefix="dira"):
    agency_id: RowId
    page: Page  # the list page to go back to


class OverdueCb(CallbackData, prefix="ovd"):
    """A page of the overdue list (from the daily escalation); ``new``: as a new message."""

    page: Page
    new: bool = False


class ExportCb(CallbackData, prefix="expf"):
    year: Year
    fmt: ExportFormat


class StatsAgenciesCb(CallbackData, prefix="stag"):
    """/statistik's "per agency" button: the year the summary was about."""

    year: Year
