"""Files of an anonymous report reach the agency cleaned and under a neutral name; a public
report's go by the citizen's own file_id as before (bot/services/file_cleaning.py)."""

from __future__ import annotations

import io

from aiogram.methods import GetFile, SendMediaGroup
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from bot.services.intake import DraftAttachment
from bot.ui.case_callbacks import VerifyAction, VerifyCb
from storage.models import Attachment
from tests.files import ARTIST, jpeg_with_exif, pdf_with_author
from tests.handlers.casework_helpers import ADMIN, FAST_DELIVERY, drain, file_report, outbox_rows, report, seed
from tests.handlers.harness import Fault, Harness

REPORTER, O1, O2 = 770_013_579, 6661, 6662
KTP = "KTP_Siti_Aminah_6409011234567890.jpg"
FILES = [
    DraftAttachment("photo-a", "ua", "photo", 1000, "image/jpeg"),
    DraftAttachment("doc-ktp", "uk", "document", 1000, "image/jpeg", KTP),
    DraftAttachment("doc-pdf", "up", "document", 1000, "application/pdf", "Surat_Siti_Aminah.pdf"),
    DraftAttachment("doc-xls", "ux", "document", 1000, "application/vnd.ms-excel", "Data_Siti.xls"),
]


async def _assigned(h: Harness, privacy: str) -> int:
    ids = await seed(h, reporter_id=REPORTER, officers={O1: "A", O2: "A"})
    rid = (await file_report(h, REPORTER, agency_id=ids["A"], privacy=privacy, attachments=list(FILES))).id
    await drain(h)
    await h.press(h.user(ADMIN, "Admin"), 1, VerifyCb(a=VerifyAction.ASSIGN, r=rid, v=str(ids["A"])).pack())
    await drain(h)
    return rid


def _officer_file_values(h: Harness) -> list[str]:
    values = []
    for request in h.requests:
        if getattr(request, "chat_id", None) not in (O1, O2):
            continue
        if isinstance(request, SendMediaGroup):
            values += [m.media for m in request.media]
        for kind in ("photo", "document", "video", "voice"):
            if getattr(request, kind, None) is not None:
                values.append(getattr(request, kind))
    return values


async def test_an_anonymous_reports_files_reach_officers_cleaned_under_neutral_names(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _assigned(h, "anonymous")
        tracking_id = (await report(h, rid)).tracking_id
        values = _officer_file_values(h)
        assert values, "no files reached the officers"
        originals = {f.file_id for f in FILES}
        # Never the citizen's own file: a re-send by file_id keeps its name and bytes.
        assert not originals & {v for v in values if isinstance(v, str)}
        uploads = [u for u in h.telegram.uploads if u[0] in (O1, O2)]
        names = {name for _chat, name, _content, _id in uploads}
        assert names <= {f"{tracking_id}-{n}.{ext}" for n, ext in ((1, "jpg"), (2, "jpg"), (3, "pdf"), (4, "xls"))}
        assert len(names) == 4
        for _chat, name, content, _id in uploads:
            assert b"Siti" not in content and ARTIST.encode() not in content, name
            if name.endswith(".jpg"):
                image = Image.open(io.BytesIO(content))
                assert not image.getexif() and "comment" not in image.info
            if name.endswith(".pdf"):
                assert not (PdfReader(io.BytesIO(content)).metadata or {}).get("/Author")
        assert not any(KTP in repr(r) for r in h.requests if getattr(r, "chat_id", None) in (O1, O2))
        # The cleaned copies are remembered: every later re-send uses them.
        async with h.app.session_factory() as s:
            kept = (await s.scalars(select(Attachment).where(Attachment.report_id == rid))).all()
        uploaded_ids = {file_id for *_rest, file_id in uploads}
        assert all(a.clean_file_id in uploaded_ids for a in kept)


async def test_a_later_resend_uses_the_cleaned_copy_without_downloading_again(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        rid = await _assigned(h, "anonymous")
        downloads = sum(isinstance(r, GetFile) for r in h.requests)
        async with h.app.session_factory() as s:
            kept = (await s.scalars(select(Attachment).where(Attachment.report_id == rid))).all()
            from bot.services.file_cleaning import enqueue_files

            await enqueue_files(s, O1, await s.get(type(await report(h, rid)), rid), kept,
                                lambda n, t: f"{n}/{t}", "test")
            await s.commit()
        rows = [r for r in await outbox_rows(h) if r.group_key == "test"]
        assert rows and all("clean_files" not in r.payload for r in rows)
        mark = h.mark()
        await drain(h)
        assert not any(isinstance(r, GetFile) for r in h.since(mark))
        assert sum(isinstance(r, GetFile) for r in h.requests) == downloads
        assert set(_officer_file_values(h)[-len(kept):]) <= {a.clean_file_id for a in kept}


async def test_a_failed_download_is_retried_and_never_falls_back_to_the_original(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        h.telegram.fail(GetFile, Fault.server_error(), times=2)
        await _assigned(h, "anonymous")
        rows = [r for r in await outbox_rows(h) if r.chat_id in (O1, O2) and "clean_files" in r.payload]
        assert rows
        # Retried later (backoff), not failed and not sent with the original.
        assert any(r.status == "pending" and r.attempts >= 1 for r in rows), [(r.status, r.last_error) for r in rows]
        originals = {f.file_id for f in FILES}
        assert not originals & {v for v in _officer_file_values(h) if isinstance(v, str)}
        # Once the download works again, everything goes out cleaned.
        async with h.app.session_factory() as s:
            for row in rows:
                (await s.get(type(row), row.id)).next_attempt_at = row.created_at
            await s.commit()
        await drain(h)
        after = [(r.status, r.last_error) for r in await outbox_rows(h) if r.chat_id in (O1, O2)]
        assert all(status == "sent" for status, _error in after), after


async def test_a_public_reports_files_go_by_the_citizens_file_id(tmp_path):
    async with Harness.create(tmp_path, **FAST_DELIVERY) as h:
        await _assigned(h, "public")
        assert not any(isinstance(r, GetFile) for r in h.requests)
        assert {f.file_id for f in FILES} <= set(_officer_file_values(h))
        assert not h.telegram.uploads


def test_the_sample_files_do_carry_what_must_go():
    # The tests above would pass vacuously if the samples had no metadata to strip.
    assert ARTIST.encode() in jpeg_with_exif() and Image.open(io.BytesIO(jpeg_with_exif())).getexif()
    assert PdfReader(io.BytesIO(pdf_with_author())).metadata["/Author"] == ARTIST
