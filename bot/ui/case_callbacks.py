"""callback_data of casework buttons (admin queue, officer actions, the reporter's replies).

Every field can be forged by a client: services re-check the role, the agency and the status on
the server. Prefixes and action codes are short because callback_data is limited to 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.ui.callback_types import Page, RowId, SmallInt


class VerifyAction(StrEnum):
    LIST = "ls"  # the queue, page ``p``
    OPEN = "op"
    ASSIGN = "as"  # assign to agency ``v``
    PICK = "pk"  # choose another agency: the kinds
    KIND = "kd"  # agencies of kind ``v``, page ``p``
    SEARCH = "sr"  # type part of a name
    REJECT = "rj"  # the reason templates
    REASON = "rr"  # reject with reason ``v``
    SKIP_NOTE = "sn"  # reject without free text
    POSTPONE = "pp"
    ARCHIVE = "ar"  # the archive reasons
    ARCHIVE_REASON = "ax"  # archive with reason ``v``
    ARCHIVE_SKIP_NOTE = "an"  # archive without free text
    SUPERVISORY = "sv"  # set (``v`` "1") or clear ("0") the supervisory flag


class VerifyCb(CallbackData, prefix="vq"):
    a: VerifyAction
    r: RowId = 0
    v: str = ""
    p: Page = 0


class OfficerAction(StrEnum):
    TAKE = "tk"
    ASK = "ask"
    ANSWER = "ans"
    RETURN = "ret"  # bukan wewenang
    OPEN = "op"
    LIST = "ls"
    MUTE = "mu"  # stop the reporter's additions on the report
    UNMUTE = "um"


class OfficerCb(CallbackData, prefix="oc"):
    a: OfficerAction
    r: RowId = 0
    p: Page = 0


class KecamatanAction(StrEnum):
    LIST = "ls"  # the villages' overdue reports, page ``p``
    OPEN = "op"  # one of them, read-only
    REMIND = "rm"  # remind the village's officers of it


class KecamatanCb(CallbackData, prefix="kc"):
    """A kecamatan officer's view of its kelurahan and desa (look and remind only)."""

    a: KecamatanAction
    r: RowId = 0
    p: Page = 0


class TemplateCb(CallbackData, prefix="tpl"):
    t: RowId


class TemplateAction(StrEnum):
    OPEN = "op"  # the template's card, from /templat
    EDIT = "ed"  # ask for the new text
    RETIRE = "rt"  # no longer offered
    RESTORE = "rs"  # offered again


class TemplateManageCb(CallbackData, prefix="tmg"):
    a: TemplateAction
    t: RowId


class DraftAction(StrEnum):
    SEND = "sd"  # the draft shown, as it is
    EDIT = "ed"  # give the text to copy; the officer sends their version


class DraftCb(CallbackData, prefix="dft"):
    a: DraftAction
    r: RowId  # the report the officer's text step is about


class ReporterAction(StrEnum):
    REPLY = "re"  # Jawab: answer the officer's question
    SATISFIED = "ok"  # Puas: show the rating buttons
    RATE = "rt"  # rating ``v``
    NOT_SOLVED = "no"  # Belum selesai
    SKIP_COMMENT = "sk"
    CHOOSE = "ch"  # which report the text just sent answers
    ADD_INFO = "ad"  # from /laporan: add information to an open report
    CONFIRM_ADD = "ca"  # "Tambahkan informasi ke LPR-…?": yes
    DROP_ADD = "da"  # ... no


class ReporterCb(CallbackData, prefix="rp"):
    a: ReporterAction
    r: RowId
    v: SmallInt = 0
