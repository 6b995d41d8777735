"""Inline keyboards of casework: the admin queue and picker, officer actions, reporter replies."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.enums import AgencyKind
from bot.ui.case_callbacks import (
    DraftAction,
    DraftCb,
    KecamatanAction,
    KecamatanCb,
    OfficerAction,
    OfficerCb,
    ReporterAction,
    ReporterCb,
    TemplateAction,
    TemplateCb,
    TemplateManageCb,
    VerifyAction,
    VerifyCb,
)
from bot.ui.render import truncate

BUTTON_LABEL_MAX = 40
REJECT_REASONS = ("general", "scope", "duplicate", "incomplete")
# Arsipkan: why a report needs no follow-up.
ARCHIVE_REASONS = ("solved", "no_action", "greeting")


def _btn(text: str, data: VerifyCb | OfficerCb | ReporterCb | TemplateCb | TemplateManageCb | DraftCb | KecamatanCb,
         ) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _pager(make, page: int, pages: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_btn("◀", make(page - 1)))
    if pages > 1:
        row.append(_btn(f"{page + 1}/{pages}", make(page)))
    if page < pages - 1:
        row.append(_btn("▶", make(page + 1)))
    return row


# -- admin ---------------------------------------------------------------------------------
def queue_kb(items: Sequence[tuple[int, str]], page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [[_btn(label, VerifyCb(a=VerifyAction.OPEN, r=rid, p=page))] for rid, label in items]
    if pager := _pager(lambda p: VerifyCb(a=VerifyAction.LIST, p=p), page, pages):
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def verify_actions_kb(report_id: int, suggested: tuple[int, str] | None,
                      supervisory: bool | None = None) -> InlineKeyboardMarkup:
    """``supervisory``: the report's flag, None when it cannot have one (not a complaint)."""
    rows = []
    if suggested is not None:
        agency_id, name = suggested
        rows.append(
            [
                _btn(
                    _("Assign to {agency}").format(agency=truncate(name, BUTTON_LABEL_MAX)),
                    VerifyCb(a=VerifyAction.ASSIGN, r=report_id, v=str(agency_id)),
                )
            ]
        )
    rows.append([_btn(_("Choose an agency"), VerifyCb(a=VerifyAction.PICK, r=report_id))])
    rows.append(
        [
            _btn(_("Reject"), VerifyCb(a=VerifyAction.REJECT, r=report_id)),
            _btn(_("Postpone"), VerifyCb(a=VerifyAction.POSTPONE, r=report_id)),
        ]
    )
    # The same problem as a report already filed: the admin types that one's tracking ID.
    rows.append([_btn(_("🔁 Duplicate of…"), VerifyCb(a=VerifyAction.REASON, r=report_id, v="duplicate"))])
    rows.append([_btn(_("🗄 Archive"), VerifyCb(a=VerifyAction.ARCHIVE, r=report_id))])
    if supervisory is not None:
        label = _("✅ Supervisory: undo") if supervisory else _("🔎 Mark as supervisory")
        rows.append([_btn(label, VerifyCb(a=VerifyAction.SUPERVISORY, r=report_id, v="0" if supervisory else "1"))])
    rows.append([_btn(_("Back to the queue"), VerifyCb(a=VerifyAction.LIST))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def agency_kind_label(kind: str) -> str:
    labels = {
        AgencyKind.OPD: _("Agencies (dinas/badan)"),
        AgencyKind.BUMD: _("Regional companies (BUMD)"),
        AgencyKind.KECAMATAN: _("Districts (kecamatan)"),
        AgencyKind.KELURAHAN: _("Kelurahan"),
        AgencyKind.DESA: _("Villages (desa)"),
    }
    return labels.get(kind, kind)  # type: ignore[call-overload]


def pick_kinds_kb(report_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_btn(agency_kind_label(kind), VerifyCb(a=VerifyAction.KIND, r=report_id, v=kind.value))]
        for kind in AgencyKind
    ]
    rows.append([_btn(_("Search by name"), VerifyCb(a=VerifyAction.SEARCH, r=report_id))])
    rows.append([_btn(_("Back"), VerifyCb(a=VerifyAction.OPEN, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def pick_agencies_kb(
    report_id: int, agencies: Sequence[tuple[int, str]], *, kind: str = "", page: int = 0, pages: int = 1
) -> InlineKeyboardMarkup:
    rows = [
        [_btn(truncate(name, BUTTON_LABEL_MAX), VerifyCb(a=VerifyAction.ASSIGN, r=report_id, v=str(aid)))]
        for aid, name in agencies
    ]
    if kind and (pager := _pager(lambda p: VerifyCb(a=VerifyAction.KIND, r=report_id, v=kind, p=p), page, pages)):
        rows.append(pager)
    rows.append([_btn(_("Back"), VerifyCb(a=VerifyAction.PICK, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def reject_reason_label(code: str) -> str:
    labels = {
        "general": _("Too general"),
        "scope": _("Not about a public service"),
        "duplicate": _("Duplicate of another report"),
        "incomplete": _("Incomplete"),
    }
    return labels.get(code, code)


def reject_reasons_kb(report_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_btn(reject_reason_label(code), VerifyCb(a=VerifyAction.REASON, r=report_id, v=code))]
        for code in REJECT_REASONS
    ]
    rows.append([_btn(_("Back"), VerifyCb(a=VerifyAction.OPEN, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def skip_note_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_btn(_("Reject without a note"), VerifyCb(a=VerifyAction.SKIP_NOTE, r=report_id))]]
    )


def archive_reason_label(code: str) -> str:
    labels = {
        "solved": _("Already solved"),
        "no_action": _("Needs no follow-up"),
        "greeting": _("A greeting or thanks, not a report"),
    }
    return labels.get(code, code)


def archive_reasons_kb(report_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_btn(archive_reason_label(code), VerifyCb(a=VerifyAction.ARCHIVE_REASON, r=report_id, v=code))]
        for code in ARCHIVE_REASONS
    ]
    rows.append([_btn(_("Back"), VerifyCb(a=VerifyAction.OPEN, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def skip_archive_note_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_btn(_("Archive without a note"), VerifyCb(a=VerifyAction.ARCHIVE_SKIP_NOTE, r=report_id))]]
    )


# -- officer -------------------------------------------------------------------------------
def officer_actions_kb(report_id: int, status: str) -> InlineKeyboardMarkup:
    from bot.domain.enums import ReportStatus as S
    from bot.domain.lifecycle import can_transition

    rows = []
    if can_transition(status, S.IN_PROGRESS) and status == S.ASSIGNED:
        rows.append([_btn(_("Take it up"), OfficerCb(a=OfficerAction.TAKE, r=report_id))])
    second = []
    if can_transition(status, S.AWAITING_REPORTER):
        second.append(_btn(_("Ask for information"), OfficerCb(a=OfficerAction.ASK, r=report_id)))
    if can_transition(status, S.ANSWERED):
        second.append(_btn(_("Post the answer"), OfficerCb(a=OfficerAction.ANSWER, r=report_id)))
    if second:
        rows.append(second)
    if can_transition(status, S.RETURNED):
        rows.append([_btn(_("Not our authority"), OfficerCb(a=OfficerAction.RETURN, r=report_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def mute_reporter_button(report_id: int, *, muted: bool) -> InlineKeyboardButton:
    if muted:
        return _btn(_("🔔 Let the reporter's messages through"), OfficerCb(a=OfficerAction.UNMUTE, r=report_id))
    return _btn(_("🔇 Mute the reporter's messages"), OfficerCb(a=OfficerAction.MUTE, r=report_id))


def inbox_kb(items: Sequence[tuple[int, str]], page: int, pages: int, *,
             villages_overdue: int = 0) -> InlineKeyboardMarkup:
    rows = [[_btn(label, OfficerCb(a=OfficerAction.OPEN, r=rid, p=page))] for rid, label in items]
    if pager := _pager(lambda p: OfficerCb(a=OfficerAction.LIST, p=p), page, pages):
        rows.append(pager)
    if villages_overdue:
        # A kecamatan officer: the overdue reports of the kelurahan and desa under it.
        rows.append([_btn(_("🏘 Overdue in your villages: {n}").format(n=villages_overdue),
                          KecamatanCb(a=KecamatanAction.LIST))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# -- kecamatan: its villages' overdue reports, look and remind only ------------------------------
def villages_overdue_kb(items: Sequence[tuple[int, str]], page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [[_btn(label, KecamatanCb(a=KecamatanAction.OPEN, r=rid, p=page))] for rid, label in items]
    if pager := _pager(lambda p: KecamatanCb(a=KecamatanAction.LIST, p=p), page, pages):
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def overseer_case_kb(report_id: int, page: int) -> InlineKeyboardMarkup:
    """No casework buttons: the kecamatan looks and reminds; the village acts."""
    return InlineKeyboardMarkup(inline_keyboard=[
        [_btn(_("🔔 Remind the village's officers"), KecamatanCb(a=KecamatanAction.REMIND, r=report_id, p=page))],
        [_btn(_("⬅️ Back to the list"), KecamatanCb(a=KecamatanAction.LIST, p=page))],
    ])


def templates_kb(templates: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    if not templates:
        return None
    rows = [[_btn(truncate(title, BUTTON_LABEL_MAX), TemplateCb(t=tid))] for tid, title in templates]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def draft_kb(report_id: int, *, edited: bool) -> InlineKeyboardMarkup:
    """Under a draft: send it (as it is, or the officer's version), or change it."""
    send = _("📤 Send it") if edited else _("📤 Send as it is")
    return InlineKeyboardMarkup(inline_keyboard=[[
        _btn(send, DraftCb(a=DraftAction.SEND, r=report_id)),
        _btn(_("✏️ Edit"), DraftCb(a=DraftAction.EDIT, r=report_id)),
    ]])


def managed_templates_kb(templates: Sequence[tuple[int, str, bool]]) -> InlineKeyboardMarkup | None:
    """/templat: one button per template the user may change; (id, title, in use)."""
    if not templates:
        return None
    rows = [[_btn(("📄 " if active else "🗄 ") + truncate(title, BUTTON_LABEL_MAX),
                  TemplateManageCb(a=TemplateAction.OPEN, t=tid))]
            for tid, title, active in templates]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def template_card_kb(template_id: int, *, active: bool) -> InlineKeyboardMarkup:
    if not active:
        return InlineKeyboardMarkup(inline_keyboard=[[
            _btn(_("♻️ Use it again"), TemplateManageCb(a=TemplateAction.RESTORE, t=template_id))]])
    return InlineKeyboardMarkup(inline_keyboard=[[
        _btn(_("✏️ Edit text"), TemplateManageCb(a=TemplateAction.EDIT, t=template_id)),
        _btn(_("🗄 Retire"), TemplateManageCb(a=TemplateAction.RETIRE, t=template_id)),
    ]])


# -- reporter ------------------------------------------------------------------------------
def answer_question_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_btn(_("Reply"), ReporterCb(a=ReporterAction.REPLY, r=report_id))]]
    )


def confirm_addition_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _btn(_("✅ Yes, add it"), ReporterCb(a=ReporterAction.CONFIRM_ADD, r=report_id)),
        _btn(_("✖️ No"), ReporterCb(a=ReporterAction.DROP_ADD, r=report_id)),
    ]])


def add_information_button(report_id: int) -> InlineKeyboardButton:
    return _btn(_("➕ Add information"), ReporterCb(a=ReporterAction.ADD_INFO, r=report_id))


def after_answer_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _btn(_("Satisfied"), ReporterCb(a=ReporterAction.SATISFIED, r=report_id)),
                _btn(_("Not solved yet"), ReporterCb(a=ReporterAction.NOT_SOLVED, r=report_id)),
            ]
        ]
    )


def rating_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_btn("⭐" * n, ReporterCb(a=ReporterAction.RATE, r=report_id, v=n)) for n in range(1, 4)],
            [_btn("⭐" * n, ReporterCb(a=ReporterAction.RATE, r=report_id, v=n)) for n in range(4, 6)],
        ]
    )


def skip_comment_kb(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_btn(_("Skip"), ReporterCb(a=ReporterAction.SKIP_COMMENT, r=report_id))]]
    )


def choose_report_kb(items: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_btn(label, ReporterCb(a=ReporterAction.CHOOSE, r=rid))] for rid, label in items
        ]
    )
