"""A scanner for what leaves the system toward an agency: does any of a reporter's identifiers
appear in it?

``Identity`` lists what is known of one reporter: name, username, Telegram id, phone number,
the names of the files they sent, the exact point they shared. ``Scan`` takes every request the
bot made (the harness's log) and every file it uploaded or exported, turns each into text
(parameters, captions, file names, button data, file bytes and their metadata, coordinates) and
reports each identifier it finds, with where. ``tests/handlers/test_privacy_scan.py`` drives every
officer-bound path through it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import InputFile


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    username: str
    telegram_id: int
    phone: str
    file_names: tuple[str, ...]
    # The point the reporter shared: neither it nor anything within a few metres may go out.
    latitude: float
    longitude: float
    # Words inside the files' metadata (EXIF artist, PDF author) and their GPS point.
    embedded: tuple[str, ...] = ()

    def needles(self) -> dict[str, str]:
        """Every string whose presence is a leak, by what it is."""
        found = {
            "first name": self.first_name,
            "last name": self.last_name,
            "username": self.username,
            "telegram id": str(self.telegram_id),
            "phone": self.phone,
            "phone digits": "".join(c for c in self.phone if c.isdigit()),
            # Four decimals (about 11 m) of the exact point, as any rendering would start.
            "latitude": f"{self.latitude:.4f}",
            "longitude": f"{self.longitude:.4f}",
        }
        for name in self.file_names:
            found[f"file name {name}"] = name
            found[f"file stem {name}"] = name.rsplit(".", 1)[0]
        for word in self.embedded:
            found[f"embedded {word}"] = word
        return found


@dataclass
class Leak:
    what: str
    where: str


@dataclass
class Scan:
    identity: Identity
    # What a file_id stands for on Telegram's side (its name and bytes): a re-send by file_id
    # shows the recipient both, so they are scanned as if uploaded.
    known_files: dict[str, bytes] = field(default_factory=dict)
    known_names: dict[str, str | None] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)
    scanned: int = 0

    def text(self, where: str, text: str | bytes | None) -> None:
        if not text:
            return
        self.scanned += 1
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace") + "\n" + text.decode("latin-1")
        folded = text.casefold()
        for what, needle in self.identity.needles().items():
            if needle and needle.casefold() in folded:
                self.leaks.append(Leak(what, where))

    def point(self, where: str, latitude: float, longitude: float) -> None:
        """A map point: within ~30 m of the exact one is a leak (the coarse grid is ~100 m)."""
        self.scanned += 1
        if abs(latitude - self.identity.latitude) < 0.0003 and abs(longitude - self.identity.longitude) < 0.0003:
            self.leaks.append(Leak("exact point", where))

    def file(self, where: str, name: str | None, content: bytes) -> None:
        self.text(f"{where} (file name)", name)
        self.text(f"{where} (bytes)", content)
        for text in _metadata(content):
            self.text(f"{where} (metadata)", text)
        gps = _exif_gps(content)
        if gps is not None:
            self.leaks.append(Leak(f"EXIF GPS {gps}", where))
        if zipfile.is_zipfile(io.BytesIO(content)):  # an XLSX: its sheets are zipped XML
            with zipfile.ZipFile(io.BytesIO(content)) as z:
                for member in z.namelist():
                    self.text(f"{where} ({member})", z.read(member))

    def request(self, method: TelegramMethod[Any]) -> None:
        where = f"{type(method).__name__} to {getattr(method, 'chat_id', '?')}"
        self.text(where, repr(method.model_dump(exclude_none=True)))
        if hasattr(method, "latitude") and getattr(method, "latitude", None) is not None:
            self.point(where, method.latitude, method.longitude)  # type: ignore[attr-defined]
        for value in _files_of(method):
            if isinstance(value, InputFile):
                self.file(where, value.filename, getattr(value, "data", b""))
            elif value in self.known_files:
                self.file(where, self.known_names.get(value), self.known_files[value])

    def requests(self, methods: Iterable[TelegramMethod[Any]]) -> None:
        for method in methods:
            self.request(method)

    def report(self) -> str:
        return "\n".join(f"{leak.what} in {leak.where}" for leak in self.leaks)


def _files_of(method: TelegramMethod[Any]) -> list[InputFile | str]:
    """Uploaded files, and file_ids re-sent."""
    values: list[Any] = [getattr(method, k, None) for k in ("photo", "document", "video", "voice", "audio")]
    values += [m.media for m in getattr(method, "media", None) or []]
    return [v for v in values if isinstance(v, (InputFile, str))]


def _metadata(content: bytes) -> list[str]:
    """What a viewer shows as the file's properties: image EXIF/info, PDF document info."""
    out: list[str] = []
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            out += [str(v) for v in img.getexif().values()]
            out += [str(v) for v in img.info.values()]
    except Exception:  # not an image
        pass
    if content.startswith(b"%PDF"):
        from pypdf import PdfReader

        meta = PdfReader(io.BytesIO(content)).metadata or {}
        out += [str(v) for v in meta.values()]
    return out


def _exif_gps(content: bytes) -> dict[int, Any] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            gps = img.getexif().get_ifd(0x8825)
    except Exception:
        return None
    return dict(gps) or None
