"""An anonymous reporter is told, before sending them, what a map point and a file may reveal;
only a coarse point is kept, and files no cleaner can strip go only if the citizen says so."""

from __future__ import annotations

from aiogram.types import Video
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storage.models import Report
from tests.handlers.harness import Harness
from tests.handlers.intake_helpers import consenting_citizen, drive, fsm, limit_violations, tap, texts_since

EXACT = (-1.2563417, 116.8312789)


async def _video(h: Harness, user, n: int, album: str | None = None) -> None:
    video = Video(file_id=f"video-{n}", file_unique_id=f"vu{n}", width=640, height=360, duration=3,
                  file_name=f"rumah_siti_{n}.mp4", mime_type="video/mp4", file_size=90_000)
    await h.send_message(user, video=video, media_group_id=album)


async def _at_privacy(h: Harness):
    """A citizen in the form, at the privacy step."""
    u = h.user(1001, "Siti")
    await consenting_citizen(h, u)
    await drive(h, u, "pr")
    return u


async def _submitted(h: Harness) -> Report:
    async with h.app.session_factory() as s:
        return await s.scalar(select(Report).options(selectinload(Report.attachments)))


async def test_an_anonymous_reporter_is_warned_before_the_location_and_only_a_coarse_point_is_kept(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = await _at_privacy(h)
        await tap(h, u, "Anonim")
        prompt = h.last_text(u)
        assert "Titik yang tepat dapat mengenali Anda" in prompt and "100 m" in prompt
        mark = h.mark()
        await h.send_location(u, *EXACT)
        assert any("Lokasi perkiraan tersimpan" in t for t in texts_since(h, mark))
        _state, data = await fsm(h, u)
        # Not even the form's saved data keeps the exact point.
        assert (data["draft"]["latitude"], data["draft"]["longitude"]) == (-1.256, 116.831)
        await tap(h, u, "Lewati")
        await tap(h, u, "Kirim")
        report = await _submitted(h)
        assert (report.latitude, report.longitude) == (-1.256, 116.831)
        assert limit_violations(h) == []


async def test_a_regular_reporter_keeps_the_exact_point(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = await _at_privacy(h)
        await tap(h, u, "Biasa")
        assert "mengenali Anda" not in h.last_text(u)
        await h.send_location(u, *EXACT)
        await tap(h, u, "Lewati")
        await tap(h, u, "Kirim")
        assert ((await _submitted(h)).latitude, (await _submitted(h)).longitude) == EXACT


async def test_made_anonymous_from_the_summary_the_point_is_coarsened_and_a_video_waits_for_a_choice(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = await _at_privacy(h)
        await tap(h, u, "Biasa")
        await h.send_location(u, *EXACT)
        await _video(h, u, 1)
        await h.send_photo(u)
        await tap(h, u, "Selesai")
        await tap(h, u, "✏️ Privasi")
        await tap(h, u, "Anonim")
        text = h.last_text(u)
        assert "hanya titik perkiraan" in text and "tidak bisa dibersihkan" in text
        state, data = await fsm(h, u)
        assert state.endswith(":attachments")
        assert (data["draft"]["latitude"], data["draft"]["longitude"]) == (-1.256, 116.831)
        assert [a["kind"] for a in data["draft"]["attachments"]] == ["photo"]
        await tap(h, u, "Jangan kirim")
        await tap(h, u, "Selesai")
        await tap(h, u, "Kirim")
        report = await _submitted(h)
        assert [a.kind for a in report.attachments] == ["photo"]
        assert report.privacy == "anonymous" and report.latitude == -1.256


async def test_an_anonymous_reports_video_goes_only_if_the_citizen_says_so(tmp_path):
    async with Harness.create(tmp_path) as h:
        u = await _at_privacy(h)
        await tap(h, u, "Anonim")
        mark = h.mark()
        await h.send(u, "Jl. Propinsi km 3")
        assert any("dibersihkan dari data tersembunyi" in t for t in texts_since(h, mark))  # the files step
        await h.send_document(u, "KTP_Siti.pdf")  # a PDF can be cleaned: attached at once
        assert "Terlampir 1" in h.last_text(u)
        # An album of two videos: one question, not two.
        mark = h.mark()
        await _video(h, u, 1, album="alb")
        await _video(h, u, 2, album="alb")
        asked = [t for t in (getattr(r, "text", "") or "" for r in h.since(mark)) if "tidak bisa dibersihkan" in t]
        assert len(asked) == 1
        await tap(h, u, "Tetap kirim")
        assert "2 file akan dikirim apa adanya" in h.last_text(u)
        await _video(h, u, 3)
        await tap(h, u, "Selesai")  # not confirmed: left out, and said so
        assert "tidak ikut dikirim" in h.last_text(u)
        await tap(h, u, "Kirim")
        report = await _submitted(h)
        assert [a.kind for a in report.attachments] == ["document", "video", "video"]
        assert "video-3" not in {a.file_id for a in report.attachments}
        assert limit_violations(h) == []
