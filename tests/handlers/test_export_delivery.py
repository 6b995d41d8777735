"""/ekspor at scale through the real dispatcher: a year over the upload limit arrives as one
zip per group of months, each with its part in the caption; nothing is left on disk."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from aiogram.methods import SendDocument

from bot.services import export_files
from storage.models import Agency, Citizen, Report
from tests.handlers.harness import Harness

ADMIN_ID = 9000


async def test_a_large_year_arrives_split_by_month_and_the_files_are_removed(tmp_path, monkeypatch):
    async with Harness.create(tmp_path) as h:
        async with h.app.session_factory() as s:
            c = Citizen(telegram_id=5100, first_name="Budi", consent_at=datetime.now(UTC))
            a = Agency(name="Dinas PUPR", kind="opd")
            s.add_all([c, a])
            await s.flush()
            for month in (2, 8):
                for i in range(5):
                    s.add(Report(tracking_id=f"LPR-{month}{i}", citizen_id=c.id, classification="complaint",
                                 title="t", body="b", privacy="public", status="submitted",
                                 agency_id=a.id, submitted_at=datetime(2024, month, 3 + i, 2, tzinfo=UTC)))
            await s.commit()
        # Five rows' worth of bytes: the two months cannot share a file.
        monkeypatch.setattr(export_files, "PART_LIMIT", 5 * export_files.BYTES_PER_ROW["zip"])
        admin = h.user(ADMIN_ID, "Admin")
        before = set(Path(tempfile.gettempdir()).glob("lapor-export-*"))
        mark = h.mark()
        await h.send(admin, "/ekspor 2024 csv")
        docs = [r for r in h.since(mark) if isinstance(r, SendDocument)]
        assert [d.document.filename for d in docs] == ["lapor-2024-01-07.zip", "lapor-2024-08-12.zip"]
        assert "Bagian 1 dari 2: bulan 1–7, 5 laporan." in docs[0].caption
        assert "Bagian 2 dari 2" in docs[1].caption and "10 laporan" in docs[1].caption
        ids = []
        for d in docs:
            with zipfile.ZipFile(io.BytesIO(d.document.data)) as zf:
                (name,) = zf.namelist()
                ids += [line.split(",")[0] for line in zf.read(name).decode("utf-8-sig").splitlines()[1:]]
        assert ids == [f"LPR-2{i}" for i in range(5)] + [f"LPR-8{i}" for i in range(5)]
        assert set(Path(tempfile.gettempdir()).glob("lapor-export-*")) <= before
