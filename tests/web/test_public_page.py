"""The public status page /r/<tracking id> and the transparency page.

What a page may show is the rule that protects reporters: never their identity, nothing of a
confidential report (which answers exactly like an unknown id), no content before verification,
no place of an anonymous report."""

from __future__ import annotations

import re

from bot.services.statistics import year_statistics
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import consenting_citizen, drive, seed_agencies, tap
from tests.web.helpers import BASE, REPORTER_NAME, SECRET_HANDLE, WEB, add_report, client, world

IDENTITY = (REPORTER_NAME, "Quartermain", SECRET_HANDLE, "5551")


def _no_identity(html: str) -> None:
    for secret in IDENTITY:
        assert secret not in html
    assert "Pak Budi" not in html  # notes never show


async def test_a_verified_report_shows_its_status_content_and_timeline(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        report = await add_report(h, ids, lapor_id="1916449")
        async with client(h) as c:
            resp = await c.get(f"/r/{report.tracking_id}")
            html = await resp.text()
            assert resp.status == 200
            assert "Diteruskan ke instansi" in html and "Dinas Pekerjaan Umum" in html and "Jalan rusak" in html
            assert "Jalan berlubang di depan pasar" in html and "Jl. Mawar 7" in html
            assert "Diverifikasi dan diteruskan ke Dinas Pekerjaan Umum" in html  # the timeline
            assert 'href="https://www.lapor.go.id/pengaduan/1916449"' in html
            _no_identity(html)
            # No JavaScript, nothing loaded from elsewhere.
            assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html.replace(
                'href="https://www.lapor.go.id/pengaduan/1916449"', ""))
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            english = await (await c.get(f"/r/{report.tracking_id.lower()}?lang=en")).text()
            assert "Forwarded to the agency" in english and 'lang="en"' in english
            assert 'href="?lang=id"' in english  # the switch stays on the page


async def test_before_verification_only_the_status_shows(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        report = await add_report(h, ids, status="submitted", verified=False)
        async with client(h) as c:
            html = await (await c.get(f"/r/{report.tracking_id}")).text()
        assert "Menunggu verifikasi" in html
        assert "Jalan berlubang" not in html and "Lubang besar" not in html and "Jl. Mawar" not in html


async def test_an_anonymous_report_never_shows_its_place(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        report = await add_report(h, ids, privacy="anonymous")
        async with client(h) as c:
            html = await (await c.get(f"/r/{report.tracking_id}")).text()
        assert "Jalan berlubang di depan pasar" in html
        assert "Jl. Mawar" not in html and "116.83" not in html and "-1.25" not in html
        _no_identity(html)


async def test_confidential_unknown_and_malformed_answer_exactly_alike(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        secret = await add_report(h, ids, privacy="confidential", title="Pungli di kantor kecamatan")
        unknown = await add_report(h, ids)
        async with h.app.session_factory() as s:  # a well-formed id that no longer exists
            from storage.models import Report, ReportEvent

            await s.execute(ReportEvent.__table__.delete().where(ReportEvent.report_id == unknown.id))
            await s.execute(Report.__table__.delete().where(Report.id == unknown.id))
            await s.commit()
        answers = []
        async with client(h) as c:
            for path in (f"/r/{secret.tracking_id}", f"/r/{unknown.tracking_id}", "/r/LPR-NOPE",
                         f"/r?id={secret.tracking_id}"):
                resp = await c.get(path, allow_redirects=False)
                headers = {k: v for k, v in resp.headers.items() if k not in ("Date", "Content-Length")}
                answers.append((resp.status, headers, await resp.read()))
        assert answers[0][0] == 404
        assert answers[1] == answers[0] and answers[2] == answers[0]
        assert b"Pungli" not in answers[0][2]
        # The look-up form redirects to the report's address, the same for any well-formed id.
        assert answers[3][0] == 303


async def test_the_transparency_page_shows_the_same_numbers_as_statistik(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        ids = await world(h)
        await add_report(h, ids, status="closed", days_ago=2)
        await add_report(h, ids, status="in_progress", days_ago=2, category=None)
        await add_report(h, ids, privacy="confidential", status="submitted", verified=False, days_ago=1)
        async with h.app.session_factory() as s:
            stats = await year_statistics(s, h.app.calendar.today().year, h.app.calendar)
        assert not h.app.dp["stats_cache"].months_kept()
        async with client(h) as c:
            resp = await c.get("/transparansi")
            html = await resp.text()
            assert h.app.dp["stats_cache"].months_kept()  # the months /statistik counts, counted once for both
            chart = await c.get(f"/transparansi/{stats.year}.png?lang=en")
            png = await chart.read()
            assert (await c.get("/transparansi?year=1999")).status == 404
        assert resp.status == 200
        figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)", html))
        assert figures["Diterima"] == str(stats.total.received) == "3"
        assert figures["Selesai"] == str(stats.total.completed)
        assert figures["Tunggakan"] == str(stats.total.backlog)
        assert "Jalan rusak" in html and "Lainnya / tidak tahu" in html  # per category
        assert chart.status == 200 and chart.content_type == "image/png" and png.startswith(b"\x89PNG")
        _no_identity(html)


async def test_the_receipt_links_to_the_page_unless_confidential(tmp_path):
    async with Harness.create(tmp_path, **WEB) as h:
        await seed_agencies(h)
        user = h.user(1001)
        await consenting_citizen(h, user)
        for privacy, linked in (("Biasa", True), ("Rahasia", False)):
            await drive(h, user, "pr")
            await tap(h, user, privacy)  # asked before the place now (issue 10)
            await h.send(user, "Jl. Propinsi km 3, Penajam")
            await tap(h, user, "Lewati")
            await tap(h, user, "Kirim")
            receipt = h.last_text(user)
            tracking = re.search(r"LPR-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt).group(0)
            assert (f'href="{BASE}/r/{tracking}"' in receipt) is linked
