"""The issue's acceptance test, in headless Chromium: on the sandbox page a citizen files a
report, an officer takes and answers it, the citizen rates it and the admin sees it in the
statistics; without a token or network, and with no Bot API violation recorded.

Uses Debian's chromium (/usr/bin/chromium); Playwright never downloads a browser here.
"""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.app import Sandbox, SandboxOptions

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium; .ci/run installs it)"),
]

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
# A person reads each reply before tapping on; Telegram (and the fake server) allow about one
# message per second per chat, so a robot clicking at full speed would be refused with 429.
HUMAN_PAUSE = 1.1
WAIT_MS = 15_000
CHART_WAIT_MS = 120_000


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x30\x90\xd0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxOptions(port=0))
    await sb.start()
    yield sb
    await sb.stop()


async def _open(sandbox: Sandbox, viewport: dict[str, int]):
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=viewport)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.errors = errors
            await page.goto(sandbox.url + "/")
            await expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT_MS)
            yield page
        finally:
            await browser.close()


@pytest.fixture
async def page(sandbox: Sandbox):
    async for opened in _open(sandbox, {"width": 1600, "height": 1000}):
        yield opened


PHONE = {"width": 390, "height": 844}  # a common phone, in CSS pixels


@pytest.fixture
async def phone(sandbox: Sandbox):
    async for opened in _open(sandbox, PHONE):
        yield opened


class Chat:
    """One column of the page, used the way a person would."""

    def __init__(self, page, role: str) -> None:
        self.page = page
        self.root = page.locator(f'section.chat[data-role="{role}"]')
        self.bot_messages = self.root.locator("li.message.from-bot")

    async def say(self, text: str) -> None:
        box = self.root.get_by_role("textbox")
        await box.fill(text)
        await box.press("Enter")

    async def press(self, name: str) -> None:
        # The newest message carrying the button, as a person taps the one they just got.
        button = self.root.locator("li.message").get_by_role("button", name=name).last
        await expect(button).to_be_visible(timeout=WAIT_MS)
        await button.click()

    async def sees(self, text: str | re.Pattern[str], timeout_ms: int = WAIT_MS):
        message = self.bot_messages.filter(has_text=text).last
        await expect(message).to_be_visible(timeout=timeout_ms)
        await asyncio.sleep(HUMAN_PAUSE)
        return message


async def test_report_from_filing_to_rating_to_statistics(sandbox: Sandbox, page, tmp_path: Path) -> None:
    citizen, officer, admin = Chat(page, "citizen"), Chat(page, "officer"), Chat(page, "admin")
    assert sandbox.people is not None
    pupr = sandbox.people.officer_for("PUPR")
    # The officer column starts as the first agency's officer; switching is what a trainer does.
    await officer.root.get_by_label("Anda sebagai").select_option(str(pupr.user.id))
    await expect(officer.root).to_have_attribute("data-user-id", str(pupr.user.id))

    # -- the citizen files a report ----------------------------------------------------------
    await citizen.say("/start")
    await citizen.sees("Pilih bahasa")
    await citizen.press("Bahasa Indonesia")
    await citizen.sees("Pemberitahuan data pribadi")
    await citizen.press("Saya setuju")
    await citizen.sees("Sekarang Anda dapat mengirim laporan")
    await citizen.root.get_by_role("button", name="Menu").click()
    await citizen.root.locator(".menu").get_by_role("button", name=re.compile(r"^\/lapor\b")).click()
    step1 = await citizen.sees("langkah 1 dari 8")
    await expect(step1.locator("b").first).to_have_text(re.compile("Laporan baru"))  # HTML bold kept
    await citizen.press("Pengaduan")
    await citizen.sees("langkah 2 dari 8")
    await citizen.press("Dinas dan badan pemerintah")
    await citizen.sees("Pilih instansi")
    await citizen.press("Dinas Pekerjaan Umum dan Penataan Ruang")
    await citizen.sees("langkah 3 dari 8")
    await citizen.say("Jalan rusak <di depan> sekolah")
    await citizen.sees("langkah 4 dari 8")
    await citizen.say("Jalan di depan SD 1 Penajam berlubang besar sejak sebulan, membahayakan anak-anak.")
    await citizen.sees("langkah 5 dari 8")
    await citizen.press("Kemarin")
    await citizen.sees("langkah 6 dari 8")
    await citizen.press("Biasa")
    await citizen.sees("langkah 7 dari 8")
    # The reply keyboard's request_location button shares the preset location.
    await citizen.root.locator(".reply-keyboard").get_by_role("button", name="Kirim lokasi saya").click()
    await expect(citizen.root.locator("li.from-user .location").last).to_contain_text("-1.25270, 116.83110")
    await citizen.sees("langkah 8 dari 8")
    await expect(citizen.root.locator(".reply-keyboard")).to_be_hidden()
    photo = tmp_path / "jalan.png"
    photo.write_bytes(png(64, 48))
    await citizen.root.locator("input[type=file]").set_input_files(str(photo))
    await expect(citizen.root.locator("li.from-user img.photo").last).to_be_visible(timeout=WAIT_MS)
    await citizen.sees("Terlampir 1")
    await citizen.press("Selesai")
    await citizen.sees("Periksa laporan Anda")
    await citizen.press("Kirim")
    # The callback answer appears as a toast, as Telegram shows it.
    await expect(page.locator("#toasts")).to_contain_text("Terkirim!", timeout=WAIT_MS)
    receipt = await citizen.sees("Nomor pelacakan")
    tracking_id = await receipt.locator("code").first.inner_text()
    assert re.fullmatch(r"LPR-[0-9A-Z]{4}-[0-9A-Z]{4}", tracking_id)

    # -- the admin assigns it to the agency the citizen chose --------------------------------
    await admin.sees(f"Laporan baru {tracking_id}")
    await admin.press(f"Buka {tracking_id}")
    card = await admin.sees("Menunggu verifikasi")
    # The citizen's "<di depan>" is shown as text, never as markup.
    await expect(card).to_contain_text("Jalan rusak <di depan> sekolah")
    await admin.press("Disposisi ke Dinas Pekerjaan Umum dan Penataan Ruang")
    await admin.sees("didisposisikan ke Dinas Pekerjaan Umum dan Penataan Ruang")

    # -- the agency's group chat, beside the private chats (issue 13) ---------------------------
    # A forum: the report opens its own topic there, with the same card and buttons.
    group = Chat(page, "group")
    await expect(group.root).to_be_visible()
    group_card = await group.sees("Laporan baru untuk Dinas Pekerjaan Umum dan Penataan Ruang")
    await expect(group_card.locator(".topic-chip")).to_contain_text(tracking_id)
    # A member of the group who is no officer presses its button: refused, nothing changes.
    assert sandbox.people is not None
    staff = sandbox.people.groups[0].members[1]
    await group.root.get_by_label("Anda sebagai").select_option(str(staff.id))
    await group.press("Tindak lanjuti")
    await expect(page.locator("#toasts")).to_contain_text("Anda tidak dapat", timeout=WAIT_MS)
    await page.locator("#toasts .toast.alert button").last.click()

    # -- the officer takes and answers it ---------------------------------------------------
    await officer.sees("Laporan baru untuk Dinas Pekerjaan Umum dan Penataan Ruang")
    # The citizen's attachment reaches the officer as a real picture.
    await expect(officer.root.locator("li.from-bot img.photo").last).to_be_visible(timeout=WAIT_MS)
    assert await officer.root.locator("li.from-bot img.photo").last.evaluate("img => img.naturalWidth") == 64
    await officer.press("Tindak lanjuti")
    await officer.sees("sedang ditindaklanjuti")
    await citizen.sees("mulai menindaklanjuti")
    await officer.press("Tanggapi")
    await officer.sees("Tulis tanggapan")
    await officer.say("Lubang sudah kami tambal hari ini. Terima kasih atas laporannya.")
    await officer.sees("Tanggapan Anda sudah dikirim")

    # -- the citizen rates the answer ---------------------------------------------------------
    await citizen.sees("Lubang sudah kami tambal hari ini")
    await citizen.press("Puas")
    await citizen.sees("Seberapa puas")
    await citizen.press("⭐⭐⭐⭐⭐")
    await citizen.sees(f"Terima kasih atas penilaian Anda: {tracking_id} selesai")

    # -- the admin's statistics count it ------------------------------------------------------
    await admin.say("/statistik")
    # The figures at once, the agencies behind a button; the chart after them (the first one
    # starts the chart worker process, where matplotlib is imported, never in the bot: it takes a
    # while on a loaded machine).
    stats = await admin.sees(re.compile(r"Statistik \d{4}.*Diterima", re.S))
    await expect(stats).to_contain_text("Diterima 1")
    await expect(stats).to_contain_text("selesai 1 (100%)")
    await expect(stats).to_contain_text("5,0 dari 5")  # the average rating, with a decimal comma
    chart = admin.root.locator("li.from-bot img.photo").last
    await expect(chart).to_be_visible(timeout=CHART_WAIT_MS)
    assert await chart.evaluate("img => img.naturalWidth") > 100
    await admin.press("Per instansi")
    await admin.sees("diterima 1 · selesai 1 (100%)")

    # Nothing the bot did would have been refused by Telegram, and the page never crashed.
    await expect(page.locator("#violation-count")).to_have_text("0")
    assert sandbox.server.violations == []
    assert page.errors == []


async def test_switching_people_and_adding_a_citizen(sandbox: Sandbox, page) -> None:
    citizen = Chat(page, "citizen")
    await citizen.say("/start")
    await citizen.sees("Pilih bahasa")

    await page.get_by_role("button", name="+ Warga baru").click()
    # The new citizen takes over the citizen column, with an empty chat of their own.
    await expect(citizen.root.get_by_label("Anda sebagai")).to_have_value(str(sandbox.people.citizens[-1].id))
    assert sandbox.people.citizens[-1].first_name == "Warga 4"
    await expect(citizen.root.locator("li.message")).to_have_count(0)
    await citizen.say("/start")
    await citizen.sees("Halo, Warga 4")

    # Back to Warga 1: their conversation is still there.
    await citizen.root.get_by_label("Anda sebagai").select_option(str(sandbox.people.citizens[0].id))
    await expect(citizen.bot_messages.filter(has_text="Halo, Warga 1")).to_have_count(1, timeout=WAIT_MS)
    assert page.errors == []


async def _within_screen(locator) -> None:
    box = await locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


async def test_on_a_phone_one_chat_at_a_time_with_tabs_and_the_composer_on_screen(
    sandbox: Sandbox, phone, tmp_path: Path
) -> None:
    """Issue 14: at 390 px the page used to scroll sideways and the send buttons were below the
    fold. Now: one chat, tabs for the roles, the composer always on screen."""
    page = phone
    tabs = page.get_by_role("tab")
    await expect(tabs).to_have_count(4)  # the three roles and the agency's group chat
    for i in range(4):
        await _within_screen(tabs.nth(i))
        assert (await tabs.nth(i).bounding_box())["height"] >= 30  # big enough for a thumb
    assert [t.strip()[:1] for t in await tabs.all_inner_texts()] == ["🙋", "🛠", "🏛", "👥"]
    await expect(page.locator("section.chat:visible")).to_have_count(1)
    citizen = Chat(page, "citizen")
    await expect(citizen.root).to_be_visible()

    async def composer_on_screen(chat: Chat) -> None:
        await _within_screen(chat.root.get_by_role("textbox"))
        await _within_screen(chat.root.get_by_role("button", name="Kirim", exact=True))
        await _within_screen(chat.root.get_by_role("button", name="📍 Lokasi"))

    async def no_sideways_scroll() -> None:
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    await no_sideways_scroll()
    await composer_on_screen(citizen)

    # A conversation long enough to fill the screen: the messages scroll, the composer stays.
    await citizen.say("/start")
    await citizen.sees("Pilih bahasa")
    await citizen.press("Bahasa Indonesia")
    await citizen.press("Saya setuju")
    await citizen.sees("Sekarang Anda dapat mengirim laporan")
    for _ in range(3):
        await citizen.say("/bantuan")
        await citizen.sees("Bantuan")
    await composer_on_screen(citizen)
    await _within_screen(tabs.first)
    # The newest message is scrolled into view, its end just above the composer.
    last = await citizen.bot_messages.last.bounding_box()
    composer = await citizen.root.locator("form.composer").bounding_box()
    assert 0 < last["y"] + last["height"] <= composer["y"], (last, composer)
    await no_sideways_scroll()
    await page.screenshot(path=str(tmp_path / "phone-citizen.png"))

    # The admin's tab shows the admin's chat, and only it.
    await page.get_by_role("tab", name=re.compile("Admin")).click()
    admin = Chat(page, "admin")
    await expect(admin.root).to_be_visible()
    await expect(citizen.root).to_be_hidden()
    await expect(page.locator("section.chat:visible")).to_have_count(1)
    await composer_on_screen(admin)
    await admin.say("/start")
    await admin.sees("Selamat datang kembali")

    # The bot writing to a chat behind another tab marks that tab.
    citizen_id = sandbox.people.citizens[0].id
    await page.evaluate(
        """([id]) => fetch(`/_sandbox/chats/${id}/send`, {method: "POST",
              headers: {"Content-Type": "application/json", "X-Sandbox-Token": TOKEN},
              body: JSON.stringify({user_id: id, type: "text", text: "/bantuan"})})""",
        [citizen_id],
    )
    citizen_tab = page.get_by_role("tab").first
    await expect(citizen_tab).to_have_class(re.compile(r"\bunread\b"), timeout=WAIT_MS)
    await citizen_tab.click()
    await expect(citizen_tab).not_to_have_class(re.compile(r"\bunread\b"))
    await expect(citizen.root).to_be_visible()
    await page.screenshot(path=str(tmp_path / "phone-tabs.png"))
    await expect(page.locator("#violation-count")).to_have_text("0")
    assert page.errors == []
