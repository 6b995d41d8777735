"""Response templates (issue 13): edited, retired and restored by whoever may write them, and
opened as an editable draft when an officer picks one, never sent word for word."""

from __future__ import annotations

import pytest
from aiogram.types import User
from sqlalchemy import select, update

from bot.ui.case_callbacks import (
    DraftAction,
    DraftCb,
    OfficerAction,
    OfficerCb,
    TemplateAction,
    TemplateCb,
    TemplateManageCb,
    VerifyAction,
    VerifyCb,
)
from storage.models import AuditLog, Citizen, ReportEvent, ResponseTemplate
from tests.handlers.casework_helpers import (
    ADMIN,
    FAST_DELIVERY,
    drain,
    file_report,
    report,
    seed,
    tap,
)
from tests.handlers.harness import Harness, Sent
from tests.handlers.intake_helpers import fsm

REPORTER, O1, OB = 5551, 6661, 6663
BODY = "Lubang sudah ditambal <hari ini> & jalan aman."
ESCAPED = "Lubang sudah ditambal &lt;hari ini&gt; &amp; jalan aman."


async def _world(h: Harness) -> dict[str, int]:
    return await seed(h, reporter_id=REPORTER, officers={O1: "A", OB: "B"})


async def _assigned(h: Harness, ids: dict[str, int]) -> int:
    rid = (await file_report(h, REPORTER, agency_id=ids["A"])).id
    await drain(h)
    await h.press(h.user(ADMIN, "Admin"), 1, VerifyCb(a=VerifyAction.ASSIGN, r=rid, v=str(ids["A"])).pack())
    await drain(h)
    assert (await report(h, rid)).status == "assigned"
    return rid


async def _template(h: Harness, title: str) -> ResponseTemplate:
    async with h.app.session_factory() as s:
        return await s.scalar(select(ResponseTemplate).where(ResponseTemplate.title == title))


async def _events(h: Harness, rid: int, kind: str) -> list[str | None]:
    async with h.app.session_factory() as s:
        rows = await s.scalars(select(ReportEvent.note).where(ReportEvent.report_id == rid, ReportEvent.kind == kind))
        return list(rows)


async def _set_language(h: Harness, telegram_id: int, language: str) -> None:
    async with h.app.session_factory() as s:
        await s.execute(update(Citizen).where(Citizen.telegram_id == telegram_id).values(language=language))
        await s.commit()


async def _officer_with_a_template_and_a_case(h: Harness, language: str | None = None) -> tuple[User, int]:
    """Officer O1 (reading ``language``, if given) wrote the template "Sudah ditangani" (BODY), and a
    report was assigned to their agency: the officer and the report's id."""
    ids = await _world(h)
    if language is not None:
        await _set_language(h, O1, language)
    officer = h.user(O1, "Officer6661")
    await h.send(officer, f"/templat Sudah ditangani | {BODY}")
    return officer, await _assigned(h, ids)


async def _pick_the_template(h: Harness, officer: User, rid: int, step: OfficerAction) -> None:
    """The officer starts ``step`` (answer, ask, return) on the report and picks "Sudah ditangani"."""
    await h.press(officer, 1, OfficerCb(a=step, r=rid).pack())
    await tap(h, officer, "Sudah ditangani")


async def _open_the_card(h: Harness, officer: User) -> Sent:
    """The template's card, opened from the /templat list."""
    await h.send(officer, "/templat")
    await tap(h, officer, "Sudah ditangani")
    return h.last(officer)


# -- managing: edit, retire, restore ---------------------------------------------------------------
async def test_an_officer_edits_retires_and_restores_their_agencys_template(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        officer = h.user(O1, "Officer6661")
        await h.send(officer, "/templat Sudah ditangani | Laporan Anda sudah kami tangani.")
        card = await _open_the_card(h, officer)
        assert "Laporan Anda sudah kami tangani." in card.text and "Aktif" in card.text
        assert [label for label, _ in card.buttons] == ["✏️ Ubah teks", "🗄 Nonaktifkan"]

        # Edit: the current text comes to copy (escaped), the new one replaces it.
        await tap(h, officer, "Ubah teks")
        assert "<pre>Laporan Anda sudah kami tangani.</pre>" in h.last_text(officer)
        await h.send(officer, BODY)
        assert "diperbarui" in h.last_text(officer)
        assert (await _template(h, "Sudah ditangani")).body == BODY
        assert (await fsm(h, officer))[0] is None

        # Retire: the card shows it retired and the answer step no longer offers it.
        card = await _open_the_card(h, officer)
        cq = await h.press(officer, card, card.button("Nonaktifkan"))
        assert "Dinonaktifkan" in h.answered(cq).text
        assert not (await _template(h, "Sudah ditangani")).active
        edited = h.last(officer)
        assert edited.method == "EditMessageText" and "Nonaktif" in edited.text
        assert [label for label, _ in edited.buttons] == ["♻️ Aktifkan lagi"]
        rid = await _assigned(h, ids)
        await h.press(officer, 1, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        assert "templat" not in h.last_text(officer)
        assert not any(data.startswith("tpl:") for _, data in h.last(officer).buttons)
        # ... and its old button, still on an earlier message, no longer works.
        tid = (await _template(h, "Sudah ditangani")).id
        cq = await h.press(officer, 1, TemplateCb(t=tid).pack())
        assert h.answered(cq).show_alert
        assert (await fsm(h, officer))[0] == "OfficerForm:text"
        await h.send(officer, "/batal")

        # Restore: offered again.
        cq = await h.press(officer, edited, edited.button("Aktifkan lagi"))
        assert h.answered(cq) is not None
        assert (await _template(h, "Sudah ditangani")).active
        await h.press(officer, 1, OfficerCb(a=OfficerAction.ANSWER, r=rid).pack())
        assert "Sudah ditangani" in [label for label, _ in h.last(officer).buttons]


CARD = {  # the card's buttons, the refusal of the second tap
    "id": (["✏️ Ubah teks", "🗄 Nonaktifkan"], "baru saja berubah"),
    "en": (["✏️ Edit text", "🗄 Retire"], "changed in the meantime"),
}


@pytest.mark.parametrize("language", ["id", "en"])
async def test_a_double_tap_on_retire_retires_once_and_answers_each_tap(tmp_path, language):
    labels, refusal = CARD[language]
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _world(h)
        await _set_language(h, O1, language)
        officer = h.user(O1, "Officer6661")
        await h.send(officer, "/templat Sudah ditangani | Laporan Anda sudah kami tangani.")
        card = await _open_the_card(h, officer)
        assert [label for label, _ in card.buttons] == labels
        first, second = await h.double_tap(officer, card, card.button(labels[1]))
        assert h.answered(first) is not None and not h.answered(first).show_alert
        assert h.answered(second).show_alert and refusal in h.answered(second).text
        assert not (await _template(h, "Sudah ditangani")).active
        assert h.failed() == []


@pytest.mark.parametrize(
    ("who", "owner", "allowed"),
    [
        (O1, "A", True), (OB, "A", False), (ADMIN, "A", False),  # an agency's: its own officers
        (ADMIN, None, True), (O1, None, False),  # a global one: the admins
    ],
)  # fmt: skip
async def test_only_who_may_write_a_template_may_change_it(tmp_path, who, owner, allowed):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        writer = h.user(O1 if owner == "A" else ADMIN, "Writer")
        await h.send(writer, "/templat Sudah ditangani | Laporan Anda sudah kami tangani.")
        tid = (await _template(h, "Sudah ditangani")).id
        assert (await _template(h, "Sudah ditangani")).agency_id == (ids["A"] if owner else None)
        user = h.user(who, "Someone")
        # The /templat list offers buttons for one's own templates only.
        await h.send(user, "/templat")
        offered = any(data == TemplateManageCb(a=TemplateAction.OPEN, t=tid).pack()
                      for _, data in h.last(user).buttons)
        assert offered is allowed
        # A forged press is refused on the server, with an alert, and changes nothing.
        for action in (TemplateAction.EDIT, TemplateAction.RETIRE):
            cq = await h.press(user, 1, TemplateManageCb(a=action, t=tid).pack())
            answer = h.answered(cq)
            assert answer is not None
            if not allowed:
                assert answer.show_alert and "tidak dapat mengubah templat" in answer.text
        assert (await _template(h, "Sudah ditangani")).active is not allowed
        assert ((await fsm(h, user))[0] == "TemplateForm:body") is allowed


async def test_editing_or_retiring_a_template_leaves_answers_sent_with_it_intact(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        officer, rid = await _officer_with_a_template_and_a_case(h)
        await _pick_the_template(h, officer, rid, OfficerAction.ANSWER)
        await tap(h, officer, "Kirim apa adanya")
        await drain(h)
        assert await _events(h, rid, "answered") == [BODY]
        tid = (await _template(h, "Sudah ditangani")).id
        await h.press(officer, 1, TemplateManageCb(a=TemplateAction.EDIT, t=tid).pack())
        await h.send(officer, "Teks baru yang lain sama sekali.")
        await h.press(officer, 1, TemplateManageCb(a=TemplateAction.RETIRE, t=tid).pack())
        assert await _events(h, rid, "answered") == [BODY]
        async with h.app.session_factory() as s:
            template = await s.get(ResponseTemplate, tid)
            assert (template.body, template.active) == ("Teks baru yang lain sama sekali.", False)
            # Who wrote, changed and retired it is kept in the audit trail.
            trail = (await s.execute(select(AuditLog.action, AuditLog.target, Citizen.telegram_id)
                                     .join(Citizen, Citizen.id == AuditLog.actor_citizen_id)
                                     .where(AuditLog.action.like("template_%")).order_by(AuditLog.id))).all()
            assert [tuple(row) for row in trail] == [
                ("template_add", f"template:{tid}", O1), ("template_edit", f"template:{tid}", O1),
                ("template_retire", f"template:{tid}", O1)]


# -- the draft: never sent word for word -----------------------------------------------------------
LABELS = {
    "id": ("Kirim apa adanya", "Ubah", "Kirim", "Belum ada yang terkirim", "Versi Anda"),
    "en": ("Send as it is", "Edit", "Send it", "Nothing has been sent yet", "Your version"),
}


@pytest.mark.parametrize("language", ["id", "en"])
async def test_a_picked_template_is_a_draft_the_officer_sends_as_it_is(tmp_path, language):
    send_as_is, edit, _send, nothing_sent, _version = LABELS[language]
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        officer, rid = await _officer_with_a_template_and_a_case(h, language)
        to_reporter = len(h.sent_to(REPORTER))
        await _pick_the_template(h, officer, rid, OfficerAction.ANSWER)
        await drain(h)
        # Shown to the officer, escaped, with the two choices; nothing reached the reporter.
        draft = h.last(officer)
        assert nothing_sent in draft.text and ESCAPED in draft.text and BODY not in draft.text
        labels = [label for label, _ in draft.buttons]
        assert labels[:2] == [f"📤 {send_as_is}", f"✏️ {edit}"]
        assert len(h.sent_to(REPORTER)) == to_reporter
        assert (await report(h, rid)).status == "assigned"
        assert await _events(h, rid, "answered") == []
        # An anonymous report: nothing of the reporter's name in the draft either.
        assert "Zenobia" not in draft.text and "Quartermain" not in draft.text

        await tap(h, officer, send_as_is)
        await drain(h)
        assert (await report(h, rid)).status == "answered"
        assert await _events(h, rid, "answered") == [BODY]
        assert ESCAPED in h.last_text(REPORTER)
        assert (await fsm(h, officer))[0] is None
        # The draft's buttons are gone from it: a second tap has nothing to press.
        _text, markup = h.telegram.shown(O1, draft.message_id)
        assert markup is None or not any((b.callback_data or "").startswith("dft:")
                                         for row in markup.inline_keyboard for b in row)


@pytest.mark.parametrize("language", ["id", "en"])
async def test_the_officer_edits_the_draft_and_confirms_their_version(tmp_path, language):
    send_as_is, edit, send, _nothing_sent, version = LABELS[language]
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        officer, rid = await _officer_with_a_template_and_a_case(h, language)
        await _pick_the_template(h, officer, rid, OfficerAction.RETURN)
        first_draft = h.last(officer)
        await tap(h, officer, edit)
        # The text to copy, in a code block, escaped.
        assert f"<pre>{ESCAPED}</pre>" in h.last_text(officer)
        mine = "Bukan wewenang kami: jalan provinsi <UPT>."
        await h.send(officer, mine)
        await drain(h)
        # Shown back for confirmation; still nothing sent.
        preview = h.last(officer)
        assert version in preview.text and "&lt;UPT&gt;" in preview.text
        assert [label for label, _ in preview.buttons][:2] == [f"📤 {send}", f"✏️ {edit}"]
        assert (await report(h, rid)).status == "assigned"

        # The first draft lost its buttons, and an old tap on its "send as it is" does nothing.
        assert h.telegram.shown(O1, first_draft.message_id)[1] is None
        cq = await h.press(officer, first_draft, first_draft.button(send_as_is))
        assert h.answered(cq).show_alert
        assert (await report(h, rid)).status == "assigned"

        await h.press(officer, preview, preview.button(send))
        await drain(h)
        assert (await report(h, rid)).status == "returned"
        assert await _events(h, rid, "returned") == [mine]


async def test_a_draft_over_the_limit_is_refused_before_it_is_shown_for_sending(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        officer, rid = await _officer_with_a_template_and_a_case(h)
        await _pick_the_template(h, officer, rid, OfficerAction.ASK)
        await tap(h, officer, "Ubah")
        await h.send(officer, "x" * 1001)
        assert "1000" in h.last_text(officer)
        assert not any(data.startswith("dft:") for _, data in h.last(officer).buttons)
        assert (await fsm(h, officer))[0] == "OfficerForm:draft"
        assert (await fsm(h, officer))[1]["draft"] == BODY


async def test_a_draft_button_without_the_draft_is_answered_as_stale(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await _world(h)
        officer = h.user(O1, "Officer6661")
        rid = await _assigned(h, ids)
        cq = await h.press(officer, 1, DraftCb(a=DraftAction.SEND, r=rid).pack())
        assert h.answered(cq) is not None
        assert (await report(h, rid)).status == "assigned"
