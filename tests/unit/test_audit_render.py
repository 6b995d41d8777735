"""/audit describes each action in words, with what it acted on, never by its internal keys
("export:2026", "broadcast:1", "agency:3") (issue 14)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.ui.audit_render import describe
from storage.models import AuditLog

WITA = ZoneInfo("Asia/Makassar")
ENTRIES = [
    AuditLog(action="assign", target="LPR-AB12-CD34",
             detail={"report_id": 1, "agency_id": 3, "agency": "Dinas PUPR", "from_status": "submitted"}),
    AuditLog(action="reject", target="LPR-AB12-CD35", detail={"report_id": 2, "from_status": "submitted"}),
    AuditLog(action="broadcast", target="broadcast:1",
             detail={"audience": "citizens", "agency_id": None, "recipients": 1250, "media": None}),
    AuditLog(action="broadcast_stop", target="broadcast:1", detail={"cancelled": 12}),
    AuditLog(action="invite", target="agency:3",
             detail={"invite_id": 4, "agency": "Dinas PUPR", "expires_at": "2026-12-04T06:05:00+00:00"}),
    AuditLog(action="invite_redeem", target="agency:3",
             detail={"invite_id": 4, "agency": "Dinas PUPR", "invited_by_citizen_id": 1}),
    AuditLog(action="revoke", target="agency:3",
             detail={"officer_id": 5, "agency": "Dinas PUPR", "officer_telegram_id": 6661}),
    AuditLog(action="export", target="export:2026", detail={"format": "csv", "rows": 41}),
    AuditLog(action="identity_erase", target="citizen:12", detail={"reports_anonymised": 3, "by": "citizen"}),
    AuditLog(action="consent_withdraw", target="citizen:12", detail={"reports_anonymised": 1, "by": "admin"}),
    AuditLog(action="template_add", target="template:7", detail={"title": "Sudah <ditangani>", "agency_id": None}),
    AuditLog(action="template_edit", target="template:7", detail={"title": "Sudah <ditangani>", "agency_id": 3}),
    AuditLog(action="template_retire", target="template:7", detail={"title": "Sudah <ditangani>", "agency_id": 3}),
    AuditLog(action="template_restore", target="template:7", detail={"title": "Sudah <ditangani>", "agency_id": 3}),
]
EXPECTED = {
    "id": [
        "mendisposisikan <code>LPR-AB12-CD34</code> ke <b>Dinas PUPR</b>",
        "menolak <code>LPR-AB12-CD35</code>",
        "mengirim pengumuman #1 ke semua warga: 1.250 penerima",
        "menghentikan pengumuman #1: 12 pesan tidak jadi dikirim",
        "mengundang pejabat penghubung untuk <b>Dinas PUPR</b> (tautan berlaku sampai 4 Des 2026 14.05 WITA)",
        "bergabung dengan <b>Dinas PUPR</b> sebagai pejabat penghubung lewat tautan undangan",
        "mencabut pejabat penghubung <b>Dinas PUPR</b>",
        "mengekspor laporan yang masuk tahun 2026 (CSV, 41 baris)",
        "menghapus identitas warga #12: 3 laporan dijadikan anonim (atas permintaan warga sendiri di /privasi)",
        "menarik persetujuan warga #12: 1 laporan berjalan dijadikan anonim",
        "menambahkan templat tanggapan “Sudah &lt;ditangani&gt;”",
        "mengubah templat tanggapan “Sudah &lt;ditangani&gt;”",
        "menonaktifkan templat tanggapan “Sudah &lt;ditangani&gt;”",
        "mengaktifkan lagi templat tanggapan “Sudah &lt;ditangani&gt;”",
    ],
    "en": [
        "assigned <code>LPR-AB12-CD34</code> to <b>Dinas PUPR</b>",
        "rejected <code>LPR-AB12-CD35</code>",
        "sent announcement #1 to all citizens: 1,250 recipient(s)",
        "stopped announcement #1: 12 message(s) left unsent",
        "invited a liaison officer for <b>Dinas PUPR</b> (link valid until Dec 4, 2026, 2:05\u202fPM WITA)",
        "joined <b>Dinas PUPR</b> as a liaison officer with an invite link",
        "revoked a liaison officer of <b>Dinas PUPR</b>",
        "exported the reports received in 2026 (CSV, 41 rows)",
        "erased citizen #12's identity: 3 report(s) anonymised (at the citizen's own request in /privasi)",
        "withdrew citizen #12's consent: 1 open report(s) anonymised",
        "added the response template “Sudah &lt;ditangani&gt;”",
        "edited the response template “Sudah &lt;ditangani&gt;”",
        "retired the response template “Sudah &lt;ditangani&gt;”",
        "offered the response template “Sudah &lt;ditangani&gt;” again",
    ],
}


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_action_reads_as_a_sentence(locale):
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        lines = [describe(e, WITA) for e in ENTRIES]
    assert lines == EXPECTED[locale]
    assert not any(key in line for line in lines for key in ("export:", "broadcast:", "agency:", "_stop", "template:"))


def test_an_unknown_action_shows_its_key_escaped():
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        assert describe(AuditLog(action="merge<x>", target="a&b", detail={}), WITA) == "merge&lt;x&gt; a&amp;b"
