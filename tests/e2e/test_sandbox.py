"""The sandbox runner without a browser: the page's backend, driven over HTTP as the page does.

One process: the local Bot API server, the real bot polling it, the page and its routes.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.cli import build_parser, cmd_sandbox
from bot.domain.enums import ReportStatus
from bot.services.agency_import import parse_file
from sandbox.app import Sandbox, SandboxOptions
from sandbox.guard import TOKEN_HEADER
from sandbox.seed import ADMIN_ID
from sandbox.web import image_size
from storage.models import Agency, Attachment, Officer, Report

pytestmark = pytest.mark.e2e

# Telegram allows about one message per second per chat; the fake server enforces it, so the
# simulated citizen reads each reply before the next tap, as a person would.
HUMAN_PAUSE = 1.1


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class PageClient:
    """What app.js does, in Python: send, press, upload, read a chat."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http = http
        self.base = base
        self.token = token

    async def json(self, method: str, path: str, **kw: Any) -> Any:
        headers = {TOKEN_HEADER: self.token, **kw.pop("headers", {})}
        async with self.http.request(method, self.base + path, headers=headers, **kw) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return body

    async def messages(self, user_id: int) -> list[dict[str, Any]]:
        return (await self.json("GET", f"/_sandbox/chats/{user_id}/messages"))["messages"]

    async def say(self, user_id: int, text: str) -> None:
        body = {"user_id": user_id, "type": "text", "text": text}
        await self.json("POST", f"/_sandbox/chats/{user_id}/send", json=body)

    async def press(self, user_id: int, label: str) -> dict[str, Any]:
        """Press the newest button whose text contains ``label``; the callback's answer."""
        for msg in reversed(await self.messages(user_id)):
            for row in msg["buttons"]:
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        pressed = await self.json(
                            "POST", f"/_sandbox/chats/{user_id}/press",
                            json={"user_id": user_id, "message_id": msg["message_id"],
                                  "callback_data": button["callback_data"]},
                        )
                        return await self.callback_answer(pressed["callback_query_id"])
        raise AssertionError(f"no button {label!r} in chat {user_id}")

    async def callback_answer(self, cq_id: str) -> dict[str, Any]:
        for _ in range(100):
            cq = await self.json("GET", f"/_sandbox/callbacks/{cq_id}")
            if cq["answer"] is not None:
                return cq["answer"]
            await self.json("GET", "/_sandbox/poll?since=0&timeout=0.1")
            await asyncio.sleep(0.1)
        raise AssertionError("the bot never answered the callback query")

    async def wait_text(self, user_id: int, needle: str, timeout: float = 15,
                        kind: str | None = None) -> dict[str, Any]:
        """The newest bot message containing ``needle`` (of ``kind``, if given: "photo", ...);
        waits on the long poll, not a timer."""
        version = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for msg in reversed(await self.messages(user_id)):
                if (msg["from_bot"] and not msg["deleted"] and kind in (None, msg["kind"])
                        and needle in (msg["text"] or msg["caption"] or "")):
                    await asyncio.sleep(HUMAN_PAUSE)
                    return msg
            polled = await self.json("GET", f"/_sandbox/poll?since={version}&timeout=2")
            version = polled["version"]
        texts = [m["text"] for m in await self.messages(user_id)]
        raise AssertionError(f"no bot message with {needle!r} in chat {user_id}: {texts[-3:]}")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxOptions(port=0, citizens=2))
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[PageClient]:
    async with aiohttp.ClientSession() as http:
        yield PageClient(http, sandbox.url, sandbox.token)


async def test_page_and_static_files_are_served(sandbox: Sandbox, page: PageClient) -> None:
    async with page.http.get(sandbox.url + "/") as resp:
        assert resp.status == 200
        html = await resp.text()
    assert "<title>LAPOR! Sandbox</title>" in html and "/static/app.js" in html
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        async with page.http.get(f"{sandbox.url}/static/{name}") as resp:
            assert resp.status == 200 and kind in resp.headers["Content-Type"]


async def test_the_page_carries_this_start_s_token_and_nothing_else_gets_in(
    sandbox: Sandbox, page: PageClient
) -> None:
    """Issue 10: any web page the operator visited could post commands to the sandbox (it acts
    as any admin), and a rebinding domain could read it. The page carries a token made at this
    start; calls without it, from another origin or to another Host name are refused."""
    async with page.http.get(sandbox.url + "/") as resp:
        html = await resp.text()
    assert f'content="{sandbox.token}"' in html
    send = f"{sandbox.url}/_sandbox/chats/{ADMIN_ID}/send"
    body = {"user_id": ADMIN_ID, "type": "text", "text": "/ekspor"}
    async with page.http.post(send, json=body) as resp:  # no token: a cross-site form or fetch
        assert resp.status == 403
    async with page.http.post(send, json=body, headers={TOKEN_HEADER: "guessed"}) as resp:
        assert resp.status == 403
    async with page.http.post(send, json=body, headers={
            TOKEN_HEADER: sandbox.token, "Origin": "https://evil.example"}) as resp:
        assert resp.status == 403
    port = sandbox.url.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", f"rebound.attacker.test:{port}"):
        async with page.http.get(sandbox.url + "/", headers={"Host": host}) as resp:
            assert resp.status == 403
        async with page.http.get(f"{sandbox.url}/_sandbox/people", headers={
                "Host": host, TOKEN_HEADER: sandbox.token}) as resp:
            assert resp.status == 403
    assert not [m for m in await page.messages(ADMIN_ID) if not m["from_bot"]]
    # The page's own calls pass: same origin, localhost or the IP, with the token.
    async with page.http.get(f"{sandbox.url}/_sandbox/people", headers={
            TOKEN_HEADER: sandbox.token, "Origin": sandbox.url}) as resp:
        assert resp.status == 200
    async with page.http.get(f"{sandbox.url}/_sandbox/people", headers={
            TOKEN_HEADER: sandbox.token, "Host": f"localhost:{port}"}) as resp:
        assert resp.status == 200
    # A new start makes a new token.
    assert Sandbox(SandboxOptions(port=0)).token != sandbox.token


async def test_people_are_the_seeded_directory_admin_officers_and_citizens(
    sandbox: Sandbox, page: PageClient
) -> None:
    people = await page.json("GET", "/_sandbox/people")
    entries = parse_file(sandbox.options.directory)

    assert people["admin"]["id"] == ADMIN_ID
    assert sorted(o["agency_name"] for o in people["officers"]) == sorted(e.name for e in entries)
    assert [c["name"] for c in people["citizens"]] == ["Warga 1", "Warga 2"]
    # Everyone on the page is a chat the bot can write to.
    every_id = [people["admin"]["id"], *(o["id"] for o in people["officers"]), *(c["id"] for c in people["citizens"])]
    assert set(every_id) <= set(sandbox.server.state.users)
    assert sandbox.app is not None
    async with sandbox.app.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Agency)) == len(entries)
        assert await session.scalar(
            select(func.count()).select_from(Officer).where(Officer.revoked_at.is_(None))
        ) == len(entries)

    added = await page.json("POST", "/_sandbox/people/citizens")
    assert added["user"]["name"] == "Warga 3"
    assert added["user"]["id"] in sandbox.server.state.users
    assert [c["name"] for c in (await page.json("GET", "/_sandbox/people"))["citizens"]][-1] == "Warga 3"


async def test_a_citizen_files_a_report_through_the_control_api(sandbox: Sandbox, page: PageClient) -> None:
    people = await page.json("GET", "/_sandbox/people")
    warga = people["citizens"][0]["id"]

    await page.say(warga, "/start")
    await page.wait_text(warga, "Pilih bahasa")
    await page.press(warga, "Bahasa Indonesia")
    await page.wait_text(warga, "Pemberitahuan data pribadi")
    await page.press(warga, "Saya setuju")
    await page.wait_text(warga, "Sekarang Anda dapat mengirim laporan")
    # The command menu the bot installed is what the page's "Menu" shows.
    commands = (await page.json("GET", f"/_sandbox/chats/{warga}/commands"))["commands"]
    assert "lapor" in [c["command"] for c in commands]

    await page.say(warga, "/lapor")
    await page.wait_text(warga, "langkah 1 dari 8")
    await page.press(warga, "Pengaduan")
    await page.wait_text(warga, "langkah 2 dari 8")
    await page.press(warga, "Dinas dan badan")
    await page.wait_text(warga, "Pilih instansi")
    await page.press(warga, "Dinas Pekerjaan Umum")
    await page.wait_text(warga, "langkah 3 dari 8")
    await page.say(warga, "Jalan rusak di depan sekolah")
    await page.wait_text(warga, "langkah 4 dari 8")
    await page.say(warga, "Jalan di depan SD 1 Penajam berlubang besar sejak sebulan.")
    await page.wait_text(warga, "langkah 5 dari 8")
    await page.press(warga, "Kemarin")
    await page.wait_text(warga, "langkah 6 dari 8")
    await page.press(warga, "Biasa")
    prompt = await page.wait_text(warga, "langkah 7 dari 8")
    # The location step offers a reply keyboard with a request_location button.
    assert prompt["reply_markup"]["keyboard"][0][0]["request_location"] is True
    await page.json("POST", f"/_sandbox/chats/{warga}/send",
                    json={"user_id": warga, "type": "location", "lat": -1.2527, "lon": 116.8311})
    await page.wait_text(warga, "langkah 8 dari 8")

    picture = png(40, 30)
    form = aiohttp.FormData()
    form.add_field("user_id", str(warga))
    form.add_field("file", picture, filename="jalan.png", content_type="image/png")
    uploaded = await page.json("POST", f"/_sandbox/chats/{warga}/upload", data=form)
    photo = uploaded["messages"][0]["media"]["photo"][-1]
    assert (photo["width"], photo["height"]) == (40, 30)
    async with page.http.get(f"{sandbox.url}/_sandbox/files/{photo['file_id']}",
                             params={"token": sandbox.token}) as resp:
        assert await resp.read() == picture
    await page.wait_text(warga, "Terlampir 1")
    await page.press(warga, "Selesai")
    await page.wait_text(warga, "Periksa laporan Anda")
    answer = await page.press(warga, "Kirim")
    assert answer["text"] == "Terkirim!"
    receipt = await page.wait_text(warga, "Nomor pelacakan")
    tracking = next(e for e in receipt["entities"] if e["type"] == "code")
    tracking_id = receipt["text"][tracking["offset"]:tracking["offset"] + tracking["length"]]

    # The real bot stored it and told the admin, whose chat the page shows.
    await page.wait_text(ADMIN_ID, f"Laporan baru {tracking_id}")
    assert sandbox.app is not None
    async with sandbox.app.session_factory() as session:
        report = await session.scalar(select(Report).where(Report.tracking_id == tracking_id))
        assert report is not None and report.status == ReportStatus.SUBMITTED
        assert report.title == "Jalan rusak di depan sekolah"
        assert (report.latitude, report.longitude) == (-1.2527, 116.8311)
        kinds = (await session.scalars(select(Attachment.kind).where(Attachment.report_id == report.id))).all()
        assert kinds == ["photo"]
    assert await page.json("GET", "/_sandbox/violations") == []


async def test_upload_refuses_an_unknown_user(sandbox: Sandbox, page: PageClient) -> None:
    form = aiohttp.FormData()
    form.add_field("user_id", "4242")
    form.add_field("file", b"%PDF-1.4", filename="a.pdf", content_type="application/pdf")
    async with page.http.post(f"{sandbox.url}/_sandbox/chats/4242/upload", data=form,
                              headers={TOKEN_HEADER: sandbox.token}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "unknown user"


async def test_demo_seed_has_reports_in_every_status_and_statistics_answer() -> None:
    async with Sandbox(SandboxOptions(port=0, seed_demo=True)) as sb, aiohttp.ClientSession() as http:
        assert sb.app is not None
        async with sb.app.session_factory() as session:
            statuses = (await session.scalars(select(Report.status))).all()
        assert len(statuses) >= 30
        assert set(statuses) == set(ReportStatus)

        page = PageClient(http, sb.url, sb.token)
        await page.say(ADMIN_ID, "/statistik")
        # The figures at once. Not any message naming "Statistik": the weekly summary the
        # start-up catch-up sends lists the Dinas Komunikasi, Informatika, Statistik dan Persandian.
        stats = await page.wait_text(ADMIN_ID, "📊 Statistik")
        assert "Diterima" in stats["text"]
        # The chart after them. The first chart starts the chart worker process (matplotlib
        # imported there), which takes its time on a loaded machine.
        await page.wait_text(ADMIN_ID, "Statistik", kind="photo", timeout=120)
        assert await page.json("GET", "/_sandbox/violations") == []


def test_cli_registers_the_sandbox_command() -> None:
    args = build_parser().parse_args(["sandbox", "--port", "0", "--seed-demo", "--citizens", "5"])
    assert args.func is cmd_sandbox
    assert (args.port, args.seed_demo, args.citizens, args.host) == (0, True, 5, "127.0.0.1")


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (png(7, 3), (7, 3)),
        (b"GIF89a" + struct.pack("<HH", 12, 34) + b"\0" * 8, (12, 34)),
        # SOI, an APP0 segment, then SOF0 with height 20 and width 10.
        (b"\xff\xd8" + b"\xff\xe0\x00\x04\x00\x00" + b"\xff\xc0\x00\x11\x08\x00\x14\x00\x0a" + b"\0" * 12,
         (10, 20)),
        (b"not an image", None),
    ],
)
def test_image_size_reads_the_header(data: bytes, size: tuple[int, int] | None) -> None:
    assert image_size(data) == size


async def test_an_agency_group_chat_beside_the_private_chats(sandbox: Sandbox, page: PageClient) -> None:
    """Issue 13: the first agency's forum group, linked, with its officer and a member who is no
    officer. A report assigned to the agency opens its own topic there; the member's press is
    refused, the officer's is not."""
    from datetime import UTC, datetime

    from bot.services.casework.verification import SubmissionHook
    from bot.services.intake import Draft, submit_report
    from storage.models import Citizen

    people = await page.json("GET", "/_sandbox/people")
    (group,) = people["groups"]
    officer = people["officers"][0]
    assert group["agency_name"] == officer["agency_name"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert [m["id"] for m in group["members"]][0] == officer["id"]
    staff = group["members"][1]["id"]
    assert staff not in {o["id"] for o in people["officers"]}
    chat = next(c for c in (await page.json("GET", "/_sandbox/state"))["chats"] if c["id"] == group["id"])
    assert chat["type"] == "supergroup" and chat["is_forum"] and chat["bot_status"] == "administrator"

    # A citizen's report, filed through the intake use case, then assigned by the admin's buttons.
    assert sandbox.app is not None
    warga = people["citizens"][0]["id"]
    async with sandbox.app.session_factory() as s:
        citizen = Citizen(telegram_id=warga, first_name="Warga 1", language="id", consent_at=datetime.now(UTC))
        s.add(citizen)
        await s.flush()
        draft = Draft(classification="complaint", agency_chosen=True, agency_id=group_agency_id(sandbox),
                      title="Jembatan kayu lapuk", body="Papan jembatan kayu di RT 03 sudah lapuk dan berlubang.",
                      incident_date="2024-05-02", location_text="RT 03",
                      attachments_done=True, privacy="anonymous", attachments=[])
        report = await submit_report(s, citizen, draft, sandbox.app.calendar, datetime.now(UTC),
                                     on_submitted=SubmissionHook(sandbox.app.dp["casework"]))
    await page.wait_text(ADMIN_ID, f"Laporan baru {report.tracking_id}")
    await page.press(ADMIN_ID, f"Buka {report.tracking_id}")
    await page.wait_text(ADMIN_ID, "Menunggu verifikasi")
    await page.press(ADMIN_ID, "Disposisi ke Dinas Pekerjaan Umum")
    card = await page.wait_text(group["id"], "Jembatan kayu lapuk")
    assert card["message_thread_id"] is not None
    chat = next(c for c in (await page.json("GET", "/_sandbox/state"))["chats"] if c["id"] == group["id"])
    assert [t["name"] for t in chat["topics"]] == [f"{report.tracking_id} · Jembatan kayu lapuk"]

    async def press_in_group(user_id: int, label: str) -> dict[str, Any]:
        button = next(b for row in card["buttons"] for b in row if label in b["text"])
        pressed = await page.json("POST", f"/_sandbox/chats/{group['id']}/press", json={
            "user_id": user_id, "message_id": card["message_id"], "callback_data": button["callback_data"]})
        return await page.callback_answer(pressed["callback_query_id"])

    refused = await press_in_group(staff, "Tindak lanjuti")
    assert refused["show_alert"]
    # The staff member writes in the report's topic: the bot (an admin) hears it, and tells nobody.
    await page.json("POST", f"/_sandbox/chats/{group['id']}/send", json={
        "user_id": staff, "type": "text", "text": "Sudah saya foto tadi pagi", "thread_id": card["message_thread_id"]})
    taken = await press_in_group(officer["id"], "Tindak lanjuti")
    assert not taken.get("show_alert")
    await page.wait_text(warga, "mulai menindaklanjuti")
    assert not [m for m in await page.messages(warga) if "foto tadi pagi" in (m["text"] or "")]
    assert await page.json("GET", "/_sandbox/violations") == []


def group_agency_id(sandbox: Sandbox) -> int:
    assert sandbox.people is not None
    return sandbox.people.groups[0].agency_id
