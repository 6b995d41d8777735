"""Categories in the form (two taps at most, "Lainnya" allowed) and at verification (the admin
sets or corrects it; the category's default agency is offered for the assignment)."""

from __future__ import annotations

from sqlalchemy import select

from bot.ui.case_extras import CategoryAction, CategoryCb
from storage.models import AuditLog, Report
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, report, seed
from tests.handlers.casework_helpers import tap as tap_in
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import (
    consenting_citizen,
    fsm,
    last_with_buttons,
    limit_violations,
    seed_agencies,
    seed_categories,
    tap,
    texts_since,
)

REPORTER = 5551


async def _at_category_step(h: Harness):
    """Agencies, categories, and a citizen at the form's category step: (user, category ids)."""
    await seed_agencies(h)
    cats = await seed_categories(h)
    user = h.user(1001)
    await consenting_citizen(h, user)
    await h.send(user, "/lapor")
    await tap(h, user, "Pengaduan")
    state, _data = await fsm(h, user)
    assert state.endswith("category")
    return user, cats


async def _to_summary(h: Harness, user) -> None:
    """From the agency step to the summary."""
    await tap(h, user, "Tidak tahu")
    await h.send(user, "Jalan berlubang di depan pasar")
    await h.send(user, "Jalan di depan pasar berlubang besar, sudah tiga minggu belum diperbaiki.")
    await tap(h, user, "Kemarin")
    await tap(h, user, "Biasa")
    await h.send(user, "Jl. Propinsi km 3, Penajam")
    await tap(h, user, "Lewati")


async def _finish(h: Harness, user) -> Report:
    await _to_summary(h, user)
    await tap(h, user, "Kirim")
    async with h.app.session_factory() as s:
        return await s.scalar(select(Report).order_by(Report.id.desc()))


async def test_a_subtopic_in_two_taps_is_filed_with_the_report(tmp_path):
    async with Harness.create(tmp_path) as h:
        user, cats = await _at_category_step(h)
        topics = [label for label, _ in last_with_buttons(h, user).buttons]
        assert topics[:2] == ["Infrastruktur", "Kesehatan"] and any("Lainnya" in t for t in topics)
        await tap(h, user, "Infrastruktur")  # tap 1 opens the subtopics, in place
        await tap(h, user, "Jalan rusak")  # tap 2 chooses
        state, data = await fsm(h, user)
        assert state.endswith("agency") and data["draft"]["category_id"] == cats["jalan-rusak"]
        filed = await _finish(h, user)
        assert filed.category_id == cats["jalan-rusak"]
        assert limit_violations(h) == []


async def test_a_topic_without_subtopics_is_one_tap_and_other_is_allowed(tmp_path):
    async with Harness.create(tmp_path) as h:
        user, cats = await _at_category_step(h)
        await tap(h, user, "Kesehatan")
        assert (await fsm(h, user))[1]["draft"]["category_id"] == cats["kesehatan"]
        # Back from the agency step returns to the category step, where "Lainnya" is fine.
        await tap(h, user, "Kembali")
        assert (await fsm(h, user))[0].endswith("category")
        await tap(h, user, "Lainnya")
        filed = await _finish(h, user)
        assert filed.category_id is None


async def test_the_summary_shows_and_edits_the_category(tmp_path):
    async with Harness.create(tmp_path) as h:
        user, _cats = await _at_category_step(h)
        await tap(h, user, "Kesehatan")
        mark = h.mark()
        await _to_summary(h, user)
        assert any("Kategori:</b> Kesehatan" in t for t in texts_since(h, mark))
        await tap(h, user, "✏️ Kategori")
        await tap(h, user, "Infrastruktur")
        mark = h.mark()
        await tap(h, user, "Drainase")
        assert any("Kategori:</b> Drainase" in t for t in texts_since(h, mark))
        assert (await fsm(h, user))[0].endswith("confirm")


async def test_a_withdrawn_or_forged_category_is_refused_and_the_form_stays(tmp_path):
    async with Harness.create(tmp_path) as h:
        user, cats = await _at_category_step(h)
        async with h.app.session_factory() as s:
            from storage.models import Category

            (await s.get(Category, cats["kesehatan"])).active = False
            await s.commit()
        before = await fsm(h, user)
        sent = last_with_buttons(h, user)
        cq = await h.press(user, sent, sent.button("Kesehatan"))
        assert h.answered(cq).show_alert
        assert await fsm(h, user) == before
        form_id = before[1]["form_id"]
        for value in ("999999", "-1", "x", str(cats["infrastruktur"]) + "0"):
            cq = await h.press(user, sent, f"rf:{form_id}:ct:set:{value}")
            assert h.answered(cq).show_alert and await fsm(h, user) == before


async def test_without_a_category_tree_the_step_is_not_asked(tmp_path):
    async with Harness.create(tmp_path) as h:
        await seed_agencies(h)
        user = h.user(1001)
        await consenting_citizen(h, user)
        mark = h.mark()
        await h.send(user, "/lapor")
        await tap(h, user, "Pengaduan")
        assert (await fsm(h, user))[0].endswith("agency")
        assert any("langkah 2 dari 8" in t for t in texts_since(h, mark))


# -- verification ---------------------------------------------------------------------------------
async def test_the_admin_sets_the_category_and_its_default_agency_is_offered(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={})
        cats = await seed_categories(h, default_agency_id=ids["B"])
        filed = await file_report(h, REPORTER, agency_id=None)
        await drain(h)
        admin = h.user(ADMIN, "Admin")
        await tap_in(h, admin, "Buka")
        assert not any("Disposisi ke" in label for label, _ in h.last(ADMIN).buttons)
        await tap_in(h, admin, "🏷 Kategori")
        await tap_in(h, admin, "Infrastruktur")
        await tap_in(h, admin, "Jalan rusak")
        assert (await report(h, filed.id)).category_id == cats["jalan-rusak"]
        assert "Jalan rusak" in h.last_text(ADMIN)
        await tap_in(h, admin, "Buka")  # the card again: the category's default agency first
        assert "Kategori:</b> Jalan rusak" in "".join(m.text or "" for m in h.sent_to(ADMIN)[-3:])
        await tap_in(h, admin, "Disposisi ke Dinas Beta")
        await drain(h)
        assert (await report(h, filed.id)).agency_id == ids["B"]
        async with h.app.session_factory() as s:
            entry = await s.scalar(select(AuditLog).where(AuditLog.action == "categorize"))
        assert entry.detail["to"] == "jalan-rusak"
        # Corrected back to "Lainnya": allowed in any status.
        await tap_in(h, admin, "Buka")
        await tap_in(h, admin, "🏷 Kategori")
        await tap_in(h, admin, "Lainnya")
        assert (await report(h, filed.id)).category_id is None
        assert limit_violations(h) == []


async def test_only_an_admin_may_set_a_category(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={6661: "A"})
        cats = await seed_categories(h)
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        for who in (h.user(REPORTER), h.user(6661)):
            for action in CategoryAction:
                data = CategoryCb(action=action, report_id=filed.id, category_id=cats["kesehatan"]).pack()
                cq = await h.press(who, 1, data)
                assert h.answered(cq).show_alert
        assert (await report(h, filed.id)).category_id is None


async def test_the_admin_cannot_open_what_is_not_a_topic_with_subtopics(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        ids = await seed(h, reporter_id=REPORTER, officers={})
        cats = await seed_categories(h)
        filed = await file_report(h, REPORTER, agency_id=ids["A"])
        admin = h.user(ADMIN, "Admin")
        # A subtopic, a topic without subtopics, a category that does not exist: no menu opens.
        for category_id in (cats["jalan-rusak"], cats["kesehatan"], 999_999):
            mark = h.mark()
            data = CategoryCb(action=CategoryAction.OPEN, report_id=filed.id, category_id=category_id).pack()
            cq = await h.press(admin, 1, data)
            assert h.answered(cq).show_alert and not h.since(mark)[1:]
        assert (await report(h, filed.id)).category_id is None
