"""Which handler answers which update, pinned for every audience (issue 15, the dispatch pass).

The routers' order decides who takes an update (handlers/__init__.py); the dispatch layer is cut
for speed (bot/routing.py), and that must never change the handler an update reaches. Each step
below feeds one update through the real dispatcher and records every handler that was called
for it, in order (one that raised ``SkipHandler`` and passed the update on included, marked as
such). The expected table was recorded on the routing before it was flattened.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject

from bot.ui.case_callbacks import OfficerAction, OfficerCb
from handlers.intake.flow import Form
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, file_report, seed
from tests.handlers.harness import Harness, Sent
from tests.handlers.intake_helpers import consenting_citizen, seed_agencies, tap

REPORTER, OFFICER, STRANGER = 5001, 5101, 5002


def _record_calls(root: Router, calls: list[str]) -> None:
    seen: set[int] = set()
    for router in root.chain_tail:
        for name, observer in router.observers.items():
            if name == "update":  # the dispatcher's own, which feeds the rest
                continue
            for handler in observer.handlers:
                if id(handler) not in seen:
                    seen.add(id(handler))
                    _wrap(handler, calls)


def _wrap(handler: HandlerObject, calls: list[str]) -> None:
    original = handler.call
    target = handler.callback
    name = f"{target.__module__.removeprefix('handlers.')}.{target.__qualname__}"

    async def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        try:
            return await original(*args, **kwargs)
        except SkipHandler:
            calls[-1] = f"{name} (skipped)"
            raise

    handler.call = call  # type: ignore[method-assign]


def _newest_button(h: Harness, user: Any) -> tuple[Sent, str]:
    for sent in reversed(h.sent_to(user)):
        for _label, data in sent.buttons:
            if data:
                return sent, data
    raise AssertionError("no button")


class Steps:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.calls: list[str] = []
        self.table: list[tuple[str, list[str]]] = []
        _record_calls(h.app.dp, self.calls)

    async def __call__(self, label: str, step: Any) -> Any:
        start = len(self.calls)
        result = await step
        self.table.append((label, self.calls[start:]))
        return result


async def test_each_update_reaches_the_handler_it_reached_before_the_routing_was_flattened(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        agencies = await seed(h, reporter_id=REPORTER, officers={OFFICER: "A"})
        await seed_agencies(h)
        report = await file_report(h, REPORTER, agency_id=agencies["A"])
        step = Steps(h)
        newcomer, reporter, officer, admin = h.user(5003, "Nadia"), h.user(REPORTER), h.user(OFFICER), h.user(ADMIN)
        stranger = h.user(STRANGER)
        group = h.group()

        # A newcomer: /start, the language and consent buttons.
        await step("newcomer /start", h.send(newcomer, "/start"))
        await step("newcomer language button", tap(h, newcomer, "Indonesia"))
        await step("newcomer consent button", tap(h, newcomer, "Setuju"))
        # The form, step by step, with a command, a sticker and a stale button on the way.
        await step("/lapor", h.send(newcomer, "/lapor"))
        await step("form: classification button", tap(h, newcomer, "Pengaduan"))
        await step("form: /bantuan inside the form", h.send(newcomer, "/bantuan"))
        await step("form: agency kind button", tap(h, newcomer, "Dinas dan badan"))
        await step("form: next page button", tap(h, newcomer, "Berikutnya"))
        await step("form: agency button", tap(h, newcomer, "Pekerjaan Umum"))
        await step("form: title text", h.send(newcomer, "Jalan rusak berlubang"))
        await step("form: sticker where text is asked", h.send_sticker(newcomer))
        await step("form: body text", h.send(newcomer, "Jalan di depan pasar berlubang besar sejak tiga minggu."))
        await step("form: date text", h.send(newcomer, "kemarin"))
        await step("form: privacy button", tap(h, newcomer, "Anonim"))
        await step("form: location", h.send_location(newcomer))
        await step("form: photo", h.send_photo(newcomer))
        await step("form: files done button", tap(h, newcomer, "Selesai"))
        await step("form: stale classification button", tap(h, newcomer, "Pengaduan"))
        await step("form: submit button", tap(h, newcomer, "Kirim"))
        # Outside the form: commands, free text, an unknown command.
        await step("citizen /laporan", h.send(newcomer, "/laporan"))
        await step("citizen /pengaturan", h.send(newcomer, "/pengaturan"))
        await step("citizen /privasi", h.send(newcomer, "/privasi"))
        await step("citizen /bantuan", h.send(newcomer, "/bantuan"))
        await step("citizen free text", h.send(newcomer, "halo, apa kabar?"))
        await step("citizen unknown command", h.send(newcomer, "/tidakada"))
        await step("citizen /lapor then /batal", h.send(newcomer, "/lapor"))
        await step("citizen /batal", h.send(newcomer, "/batal"))
        await step("citizen /klaim without a code", h.send(newcomer, "/klaim"))
        await step("citizen /start with an unknown invite", h.send(newcomer, "/start inv_nothing"))
        await step("a reporter /start", h.send(reporter, "/start"))
        await step("a reporter free text", h.send(reporter, "Apakah laporan saya sudah dibaca?"))
        # A stranger who never pressed /start.
        await step("stranger text", h.send(stranger, "tolong"))
        await step("stranger /lapor", h.send(stranger, "/lapor"))
        # The officer and the admin.
        await step("officer /start", h.send(officer, "/start"))
        await step("officer /kotak", h.send(officer, "/kotak"))
        await step("officer: the newest button", h.press(officer, *_newest_button(h, officer)))
        staff_button = OfficerCb(a=OfficerAction.LIST, p=0).pack()
        await step("officer: the inbox's page button", h.press(officer, h.last(officer).message_id, staff_button))
        await step("officer /status", h.send(officer, f"/status {report.tracking_id}"))
        await step("officer /templat", h.send(officer, "/templat"))
        await step("officer /statistik (admin only)", h.send(officer, "/statistik"))
        await step("admin /start", h.send(admin, "/start"))
        await step("admin /verifikasi", h.send(admin, "/verifikasi"))
        await step("admin: the newest button", h.press(admin, *_newest_button(h, admin)))
        await step("admin /petugas", h.send(admin, "/petugas"))
        await step("admin /instansi", h.send(admin, "/instansi"))
        await step("admin /statistik", h.send(admin, "/statistik"))
        await step("admin /grup", h.send(admin, "/grup"))
        await step("admin /audit", h.send(admin, "/audit"))
        await step("admin /undang", h.send(admin, "/undang"))
        await step("admin /umumkan", h.send(admin, "/umumkan"))
        await step("admin: the announcement's text", h.send(admin, "Jalan Propinsi ditutup besok pagi."))
        await step("admin /batal", h.send(admin, "/batal"))
        await step("admin free text", h.send(admin, "halo"))
        await step("admin /lapor_untuk", h.send(admin, "/lapor_untuk"))
        await step("admin /batal in the walk-in form", h.send(admin, "/batal"))
        # Group chats.
        await step("bot added to a group", h.bot_membership(group, admin, added=True))
        await step("group: text", h.send_in_group(stranger, group, "halo semua"))
        await step("group: /lapor", h.send_in_group(stranger, group, "/lapor"))
        await step("group: /hubungkan by an officer", h.send_in_group(officer, group, "/hubungkan"))
        # Buttons nobody takes, and a staff button pressed without the role.
        sent = h.last(newcomer)
        await step("a forged button", h.press(newcomer, sent.message_id, "nothing:1"))
        await step("an unknown payload of a known prefix", h.press(newcomer, sent.message_id, "vq:zz"))
        await step("an officer's button pressed by a citizen", h.press(newcomer, sent.message_id, staff_button))

        assert step.table == EXPECTED


# Recorded on main at d6b8ff2, before bot/routing.py.
EXPECTED: list[tuple[str, list[str]]] = [
    ('newcomer /start', ['start.start']),
    ('newcomer language button', ['start.language_chosen']),
    ('newcomer consent button', ['start.consent_accepted']),
    ('/lapor', ['intake.commands.start_form']),
    ('form: classification button', ['intake.choices.classification_chosen']),
    ('form: /bantuan inside the form', ['intake.commands.help_in_form']),
    ('form: agency kind button', ['intake.choices.agency_kind']),
    ('form: next page button', ['intake.choices.agency_page']),
    ('form: agency button', ['intake.choices.agency_picked']),
    ('form: title text', ['intake.texts.title_typed']),
    ('form: sticker where text is asked', ['intake.guard.unexpected']),
    ('form: body text', ['intake.texts.body_typed']),
    ('form: date text', ['intake.texts.date_typed']),
    ('form: privacy button', ['intake.choices.privacy_chosen']),
    ('form: location', ['intake.texts.location_shared']),
    ('form: photo', ['intake.files.file_sent']),
    ('form: files done button', ['intake.files.files_done']),
    ('form: stale classification button', ['intake.guard.stale_button']),
    ('form: submit button', ['intake.summary.submit']),
    ('citizen /laporan', ['my_reports.my_reports']),
    ('citizen /pengaturan', ['settings.show']),
    ('citizen /privasi', ['privacy.show']),
    ('citizen /bantuan', ['help.show_help']),
    ('citizen free text', ['reporter.unprompted (skipped)', 'fallback.unknown_message']),
    ('citizen unknown command', ['fallback.unknown_message']),
    ('citizen /lapor then /batal', ['intake.commands.start_form']),
    ('citizen /batal', ['cancel.cancel_command']),
    ('citizen /klaim without a code', ['claim.claim']),
    ('citizen /start with an unknown invite', ['invites.open_invite']),
    ('a reporter /start', ['start.start']),
    ('a reporter free text', ['reporter.unprompted (skipped)', 'fallback.unknown_message']),
    ('stranger text', ['reporter.unprompted (skipped)', 'fallback.unknown_message']),
    ('stranger /lapor', ['intake.commands.start_form']),
    ('officer /start', ['start.start']),
    ('officer /kotak', ['officer.inbox']),
    ('officer: the newest button', ['intake.from_text.new_report_button']),
    ("officer: the inbox's page button", ['officer.inbox_page']),
    ('officer /status', ['my_reports.status']),
    ('officer /templat', ['templates.template_command']),
    ('officer /statistik (admin only)', ['fallback.unknown_message']),
    ('admin /start', ['start.start']),
    ('admin /verifikasi', ['admin_verify.show_queue']),
    ('admin: the newest button', ['admin_verify.open_case']),
    ('admin /petugas', ['admin_officers.officers_command']),
    ('admin /instansi', ['admin_directory.directory']),
    ('admin /statistik', ['admin_stats.statistics']),
    ('admin /grup', ['admin_groups.list_groups']),
    ('admin /audit', ['admin_audit.audit_log']),
    ('admin /undang', ['invites.invite_command']),
    ('admin /umumkan', ['admin_broadcast.start_compose']),
    ("admin: the announcement's text", ['admin_broadcast.composed']),
    ('admin /batal', ['cancel.cancel_command']),
    ('admin free text', ['reporter.unprompted (skipped)', 'fallback.unknown_message']),
    ('admin /lapor_untuk', ['admin_walk_in.start']),
    ('admin /batal in the walk-in form', ['cancel.cancel_command']),
    ('bot added to a group', ['group_chats.membership_changed']),
    ('group: text', ['group_chats.ignore']),
    ('group: /lapor', ['group_chats.ignore']),
    ('group: /hubungkan by an officer', ['group_chats.link']),
    ('a forged button', ['fallback.stale_button']),
    ('an unknown payload of a known prefix', ['fallback.stale_button']),
    ("an officer's button pressed by a citizen", ['fallback.staff_only']),
]


async def test_a_form_button_reads_the_form_once_for_all_the_filters_it_passes(tmp_path, monkeypatch):
    """``CurrentFormButton`` sits in front of most of the form's button handlers: a press on its way
    to the last of them read the form from the FSM data for each (handlers/intake/flow.py)."""
    async with Harness.create(tmp_path) as h:
        await seed_agencies(h)
        citizen = h.user(5003, "Nadia")
        await consenting_citizen(h, citizen)
        await h.send(citizen, "/lapor")
        await tap(h, citizen, "Pengaduan")
        await tap(h, citizen, "Dinas dan badan")
        await tap(h, citizen, "Berikutnya")
        await tap(h, citizen, "Pekerjaan Umum")
        await h.send(citizen, "Jalan rusak berlubang")
        await h.send(citizen, "Jalan di depan pasar berlubang besar sejak tiga minggu.")
        await h.send(citizen, "kemarin")
        await tap(h, citizen, "Anonim")
        await h.send_location(citizen)
        await h.send_photo(citizen)
        built = []
        original = Form.from_data.__func__
        monkeypatch.setattr(Form, "from_data", classmethod(lambda cls, data: built.append(1) or original(cls, data)))
        await tap(h, citizen, "Selesai")  # files done: late among the form's button handlers
        assert "Kirim" in str(h.last(citizen).buttons)
        assert len(built) == 1
