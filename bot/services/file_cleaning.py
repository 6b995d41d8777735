"""Files of anonymous reports leave the system cleaned, under a neutral name.

Telegram keeps a document's original file name and bytes on a re-send by file_id, so an
anonymous reporter's "KTP_<name>.jpg", a photo's EXIF GPS point or a PDF's author would reach
the agency as they are. For a report the rules of ``bot.domain.privacy`` say to clean, the
outbox row does not carry the citizen's file_id at all: it names the attachment
(``attachment:<id>`` in the file field, a ``clean_files`` list beside it). The delivery worker
(``bot/services/delivery.py``) then

1. re-uses the attachment's ``clean_file_id`` when an earlier delivery made one, else
2. downloads the original (getFile + the file URL), strips its metadata (``scrub``) and uploads
   the result as ``<tracking id>-<n>.<ext>``, and
3. after Telegram accepted it, remembers the new file_id in ``Attachment.clean_file_id``.

Doing it in the delivery path means a crash, a network error or a 5xx while downloading or
uploading leaves the row to be retried like any other send: nothing is lost, and nothing goes
out uncleaned (a placeholder Telegram cannot resolve never falls back to the original).

Other reports keep the plain re-send by file_id. Group chats (issue 13) use the same
``enqueue_files``.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.privacy import Cleaning, cleaning_for, must_clean_files, neutral_file_name
from bot.services.outbox import enqueue
from storage.models import Attachment, Report
from storage.repositories.reports import ReportRepo

log = logging.getLogger(__name__)

SPEC_KEY = "clean_files"
PLACEHOLDER = "attachment:"
ALBUM_MAX = 10  # Telegram: an album holds 2–10 items
_SINGLE = {"photo": "sendPhoto", "video": "sendVideo", "voice": "sendVoice", "document": "sendDocument"}


class CleaningFailed(ValueError):
    """The file cannot be cleaned (gone, corrupt, not what its type says): sending it again would
    fail again, and sending the original is not an option."""


# -- what the outbox row says ----------------------------------------------------------------
def albums(attachments: Sequence[Attachment]) -> list[list[Attachment]]:
    """Attachments in sendable groups: photos and videos may share an album, documents only go
    with documents, a voice note goes alone (https://core.telegram.org/bots/api#sendmediagroup).
    More than ten are split evenly, so no group is left with a single file when it need not be."""
    visual = [a for a in attachments if a.kind in ("photo", "video")]
    voice = [a for a in attachments if a.kind == "voice"]
    other = [a for a in attachments if a.kind not in ("photo", "video", "voice")]
    groups: list[list[Attachment]] = []
    for files in (visual, other):
        count = -(-len(files) // ALBUM_MAX)  # ceil
        for i in range(count):
            groups.append(files[i * len(files) // count:(i + 1) * len(files) // count])
    groups.extend([v] for v in voice)
    return groups


def _kind(att: Attachment) -> str:
    return att.kind if att.kind in ("photo", "video", "voice") else "document"


async def enqueue_files(
    session: AsyncSession, chat_id: int, report: Report, attachments: Sequence[Attachment],
    caption: Callable[[int, int], str], key: str | None, *, report_topic_id: int | None = None,
) -> None:
    """Queue ``attachments`` for ``chat_id``, each with ``caption(number, total)`` (HTML,
    numbered in the order they are sent; in the report's forum topic with ``report_topic_id``):
    by
    file_id, or for a report whose files must be cleaned by reference to the attachment (see
    the module's docstring). Two or more go as one album, one outbox row: delivered, or retried,
    whole."""
    clean = must_clean_files(report.privacy)
    numbers = await ReportRepo(session).attachment_numbers(report.id) if clean else {}
    total, sent = len(attachments), 0
    for group in albums(attachments):
        items: list[dict[str, Any]] = []
        specs: list[dict[str, Any]] = []
        for att in group:
            kind = _kind(att)
            media = att.file_id
            if clean:
                media = att.clean_file_id or f"{PLACEHOLDER}{att.id}"
                specs.append({
                    "attachment_id": att.id,
                    "file_name": neutral_file_name(report.tracking_id, numbers.get(att.id, 1), att.kind,
                                                   att.mime_type, att.file_name),
                    "cleaning": cleaning_for(att.kind, att.mime_type, att.file_name).value,
                })
            sent += 1
            items.append({"type": kind, "media": media, "caption": caption(sent, total), "parse_mode": "HTML"})
        if len(items) == 1:
            item = items[0]
            method = _SINGLE[item["type"]]
            payload: dict[str, Any] = {item["type"]: item["media"], "caption": item["caption"], "parse_mode": "HTML"}
        else:
            method = "sendMediaGroup"
            payload = {"media": items}
        if any(str(item["media"]).startswith(PLACEHOLDER) for item in items):
            payload[SPEC_KEY] = specs
        await enqueue(session, chat_id=chat_id, method=method, payload=payload, group_key=key,
                      report_topic_id=report_topic_id)


# -- cleaning the bytes ----------------------------------------------------------------------
def scrub(cleaning: Cleaning, content: bytes) -> bytes:
    """The file without its metadata; raises ``CleaningFailed`` when it cannot be read."""
    try:
        match cleaning:
            case Cleaning.IMAGE:
                return _scrub_image(content)
            case Cleaning.PDF:
                return _scrub_pdf(content)
            case Cleaning.NONE:
                return content
    except CleaningFailed:
        raise
    except Exception as exc:  # a corrupt or mislabelled file: every library has its own errors
        raise CleaningFailed(f"{cleaning} file could not be cleaned: {type(exc).__name__}: {exc}") from exc
    raise AssertionError(cleaning)


def _scrub_image(content: bytes) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(content)) as img:
        img.load()
        fmt = img.format if img.format in ("JPEG", "PNG", "WEBP") else "PNG"
        # Turn the pixels as the EXIF orientation says, before the EXIF goes.
        upright = ImageOps.exif_transpose(img)
    # Only the pixels travel on: a new image has no EXIF, XMP, ICC, comments or text chunks.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    clean.save(out, fmt, **options)
    return out.getvalue()


def _scrub_pdf(content: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(content))
    if reader.is_encrypted:
        raise CleaningFailed("encrypted PDF")
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    # A fresh writer has its own document information (producer: pypdf) and no XMP; drop the
    # per-page XMP and application data that pages bring along.
    for page in writer.pages:
        for name in ("/Metadata", "/PieceInfo"):
            if name in page:
                del page[NameObject(name)]
    writer.metadata = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- in the delivery worker ------------------------------------------------------------------
@dataclass(frozen=True)
class Prepared:
    payload: dict[str, Any]
    # (position in the message or album, attachment id) of every file uploaded by this send.
    uploaded: list[tuple[int, int]]


def needs_preparing(payload: dict[str, Any]) -> bool:
    return SPEC_KEY in payload


async def prepare(
    bot: Bot, session_factory: async_sessionmaker[AsyncSession], method: str, payload: dict[str, Any]
) -> Prepared:
    """The row's payload with each placeholder replaced by the cleaned copy: its file_id if one
    was made before, else the cleaned bytes to upload."""
    specs: list[dict[str, Any]] = payload[SPEC_KEY]
    out = {k: v for k, v in payload.items() if k != SPEC_KEY}
    async with session_factory() as session:
        found = await ReportRepo(session).attachments_by_ids([s["attachment_id"] for s in specs])
    values: list[Any] = []
    uploaded: list[tuple[int, int]] = []
    for index, spec in enumerate(specs):
        att = found.get(spec["attachment_id"])
        if att is None:
            raise CleaningFailed(f"attachment {spec['attachment_id']} is gone")
        if att.clean_file_id:
            values.append(att.clean_file_id)
            continue
        original = await _download(bot, att.file_id)
        cleaned = await asyncio.to_thread(scrub, Cleaning(spec["cleaning"]), original)
        values.append(BufferedInputFile(cleaned, filename=spec["file_name"]))
        uploaded.append((index, att.id))
    if method == "sendMediaGroup":
        out["media"] = [{**item, "media": value} for item, value in zip(out["media"], values, strict=True)]
    else:
        field = next(k for k in ("photo", "video", "voice", "document") if k in out)
        out[field] = values[0]
    return Prepared(out, uploaded)


async def _download(bot: Bot, file_id: str) -> bytes:
    file = await bot.get_file(file_id)
    if not file.file_path:
        raise CleaningFailed("Telegram gave no path for the file")
    buffer = await bot.download_file(file.file_path)
    assert buffer is not None
    return buffer.getvalue()


def _uploaded_file_id(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    for media in (message.document, message.video, message.voice, message.audio, message.animation):
        if media is not None:
            return media.file_id
    return None


async def remember(session: AsyncSession, prepared: Prepared, result: Any) -> None:
    """Keep the file_ids Telegram gave the cleaned uploads, for every later re-send."""
    messages = result if isinstance(result, list) else [result]
    for index, attachment_id in prepared.uploaded:
        message = messages[index] if index < len(messages) else None
        file_id = _uploaded_file_id(message) if isinstance(message, Message) else None
        if file_id is None:
            log.warning("no file_id came back for the cleaned attachment %s", attachment_id)
            continue
        await ReportRepo(session).set_clean_file_id(attachment_id, file_id)
