"""/audit lines: what an admin did, as a sentence, never the internal keys ("export:2026")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.services.audit import AuditAction
from bot.ui.admin_keyboards import audience_label
from bot.ui.formatting import number, short_datetime
from bot.ui.render import esc
from storage.models import AuditLog


def _key_tail(target: str | None) -> str:
    """"broadcast:7" → "7"; the targets are written by bot/services (see AuditAction)."""
    return (target or "").rpartition(":")[2]


def _agency(detail: dict) -> str:
    return f"<b>{esc(detail['agency'])}</b>" if detail.get("agency") else _("an agency")


def _by_citizen(detail: dict) -> str:
    return " " + _("(at the citizen's own request in /privasi)") if detail.get("by") == "citizen" else ""


def describe(entry: AuditLog, tz: ZoneInfo) -> str:
    """The action with what it acted on, from the entry's target and detail."""
    d = entry.detail or {}
    tail = esc(_key_tail(entry.target))
    match entry.action:
        case AuditAction.ASSIGN:
            return _("assigned {report} to {agency}").format(
                report=f"<code>{esc(entry.target)}</code>", agency=_agency(d))
        case AuditAction.REJECT:
            return _("rejected {report}").format(report=f"<code>{esc(entry.target)}</code>")
        case AuditAction.ARCHIVE:
            return _("archived {report}").format(report=f"<code>{esc(entry.target)}</code>")
        case AuditAction.SUPERVISORY:
            report = f"<code>{esc(entry.target)}</code>"
            if d.get("supervisory"):
                return _("marked {report} as supervisory").format(report=report)
            return _("cleared the supervisory mark of {report}").format(report=report)
        case AuditAction.BROADCAST:
            return _("sent announcement #{id} to {audience}: {n} recipient(s)").format(
                id=tail, audience=audience_label(d.get("audience", "")).lower(),
                n=number(d.get("recipients", 0)))
        case AuditAction.BROADCAST_STOP:
            return _("stopped announcement #{id}: {n} message(s) left unsent").format(
                id=tail, n=number(d.get("cancelled", 0)))
        case AuditAction.INVITE:
            text = _("invited a liaison officer for {agency}").format(agency=_agency(d))
            if expires := d.get("expires_at"):
                text += " " + _("(link valid until {when})").format(
                    when=short_datetime(datetime.fromisoformat(expires), tz))
            return text
        case AuditAction.INVITE_REDEEM:
            return _("joined {agency} as a liaison officer with an invite link").format(agency=_agency(d))
        case AuditAction.DATA_EXPORT:
            return _("sent a copy of citizen #{id}'s data ({n} reports)").format(
                id=tail, n=number(d.get("reports", 0))) + _by_citizen(d)
        case AuditAction.CONSENT_WITHDRAW:
            return _("withdrew citizen #{id}'s consent: {n} open report(s) anonymised").format(
                id=tail, n=number(d.get("reports_anonymised", 0))) + _by_citizen(d)
        case AuditAction.IDENTITY_ERASE:
            return _("erased citizen #{id}'s identity: {n} report(s) anonymised").format(
                id=tail, n=number(d.get("reports_anonymised", 0))) + _by_citizen(d)
        case AuditAction.RETENTION:
            return _("retention: removed {messages} message text(s), {relayed} reporter message(s), "
                     "the personal fields of {reports} closed report(s), {forms} unfinished form(s)").format(
                messages=number(d.get("sent_messages", 0)), relayed=number(d.get("relayed_texts", 0)),
                reports=number(d.get("closed_reports", 0)), forms=number(d.get("stale_forms", 0)))
        case AuditAction.REVOKE:
            return _("revoked a liaison officer of {agency}").format(agency=_agency(d))
        case AuditAction.EXPORT:
            return _("exported the reports received in {year} ({format}, {n} rows)").format(
                year=tail, format=esc(str(d.get("format", "?")).upper()), n=number(d.get("rows", 0)))
        case AuditAction.MUTE_REPORTER:
            return _("muted the reporter's messages on {report}").format(
                report=f"<code>{esc(str(d.get('tracking_id', tail)))}</code>")
        case AuditAction.UNMUTE_REPORTER:
            return _("let the reporter's messages through again on {report}").format(
                report=f"<code>{esc(str(d.get('tracking_id', tail)))}</code>")
        case AuditAction.TEMPLATE_ADD:
            return _("added the response template “{title}”").format(title=esc(str(d.get("title", tail))))
        case AuditAction.TEMPLATE_EDIT:
            return _("edited the response template “{title}”").format(title=esc(str(d.get("title", tail))))
        case AuditAction.TEMPLATE_RETIRE:
            return _("retired the response template “{title}”").format(title=esc(str(d.get("title", tail))))
        case AuditAction.TEMPLATE_RESTORE:
            return _("offered the response template “{title}” again").format(title=esc(str(d.get("title", tail))))
    # An action this version does not know (written by a newer one): its key, escaped.
    return esc(" ".join(p for p in (entry.action, entry.target) if p))
