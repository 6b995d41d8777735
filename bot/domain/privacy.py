"""What each kind of reader may learn about the person who filed a report.

Identity is the most sensitive data in the system: leaks of anonymous reporters have ended in
police cases (domain.md), and Perpres 76/2013 keeps a complainant's identity confidential. An
agency therefore never gets the means to reach or trace a reporter outside the system (their
@username, their Telegram id), and nothing at all about an anonymous one. Renderers ask this
module which parts they may show (``bot/ui/case_render.py``, ``bot/services/export.py``).
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.enums import Privacy


class Viewer(StrEnum):
    AGENCY = "agency"  # liaison officers: cards, notifications, the timeline
    ADMIN = "admin"  # the coordinating admins, in the chat: they may have to reach the reporter
    EXPORT = "export"  # the annual evaluation file, which leaves the system


class IdentityPart(StrEnum):
    NAME = "name"  # first and last name as on Telegram
    USERNAME = "username"
    TELEGRAM_ID = "telegram_id"  # also what a tg://user link carries


_ALL = frozenset(IdentityPart)
_NOTHING: frozenset[IdentityPart] = frozenset()


def reporter_identity(viewer: Viewer, privacy: Privacy | str) -> frozenset[IdentityPart]:
    """The parts of the reporter's identity ``viewer`` may see on a report with ``privacy``."""
    anonymous = privacy == Privacy.ANONYMOUS
    match viewer:
        case Viewer.ADMIN:
            return _ALL
        case Viewer.AGENCY:
            return _NOTHING if anonymous else frozenset({IdentityPart.NAME})
        case Viewer.EXPORT:
            return _NOTHING if anonymous else frozenset({IdentityPart.NAME, IdentityPart.USERNAME})


# -- what leaves with an anonymous report -----------------------------------------------------
# Telegram keeps a document's original file name and bytes when it is re-sent by file_id: a
# "KTP_<name>.jpg" or a PDF whose metadata names its author would reach the agency as it is, and a
# photo's EXIF may hold the GPS point where it was taken (often the reporter's home). Files of an
# anonymous report are therefore downloaded, cleaned and uploaded anew under a neutral name before
# they go to anyone (``bot/services/file_cleaning.py``).


class Cleaning(StrEnum):
    IMAGE = "image"  # re-encoded from the pixels: EXIF (GPS, camera, owner), XMP and comments gone
    PDF = "pdf"  # document information and XMP metadata removed
    NONE = "none"  # no cleaner for it (video, voice, office files): the bytes go as they are


_IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_PDF = "application/pdf"


def must_clean_files(privacy: Privacy | str) -> bool:
    return privacy == Privacy.ANONYMOUS


def cleaning_for(kind: str, mime_type: str | None, file_name: str | None = None) -> Cleaning:
    """How a file of ``kind`` (photo | document | video | voice) can be cleaned. A Telegram
    photo is always a JPEG; a document is judged by its MIME type, else by its extension."""
    if kind == "photo":
        return Cleaning.IMAGE
    if kind != "document":
        return Cleaning.NONE
    mime = (mime_type or "").lower()
    ext = (file_name or "").rsplit(".", 1)[-1].lower() if "." in (file_name or "") else ""
    if mime in _IMAGE_TYPES or ext in ("jpg", "jpeg", "png", "webp"):
        return Cleaning.IMAGE
    if mime == _PDF or ext == "pdf":
        return Cleaning.PDF
    return Cleaning.NONE


_KIND_EXTENSIONS = {"photo": "jpg", "video": "mp4", "voice": "ogg"}


def neutral_file_name(tracking_id: str, number: int, kind: str, mime_type: str | None,
                      file_name: str | None = None) -> str:
    """``<tracking id>-<n>.<ext>``: the extension from the type only, nothing of the old name
    but a short alphanumeric extension (a name may carry the reporter's)."""
    ext = _KIND_EXTENSIONS.get(kind) or _IMAGE_TYPES.get((mime_type or "").lower())
    if ext is None and (mime_type or "").lower() == _PDF:
        ext = "pdf"
    if ext is None and file_name and "." in file_name:
        tail = file_name.rsplit(".", 1)[-1].lower()
        ext = tail if tail.isascii() and tail.isalnum() and len(tail) <= 5 else None
    return f"{tracking_id}-{number}.{ext or 'bin'}"


# -- the location of an anonymous report ------------------------------------------------------
# "Send my location" sends where the phone is, often the reporter's home. An anonymous report
# keeps only a point on a grid of about 100 m (0.001° is 111 m of latitude, and as much of
# longitude near the equator, where Indonesia lies): enough to find a pothole's street, not a door.
COARSE_GRID_DEGREES = 0.001
COARSE_METRES = 100


def protect_location(privacy: Privacy | str, latitude: float, longitude: float) -> tuple[float, float]:
    """The point as it may be kept for a report with ``privacy``."""
    return coarsen(latitude, longitude) if privacy == Privacy.ANONYMOUS else (latitude, longitude)


def coarsen(latitude: float, longitude: float) -> tuple[float, float]:
    """The grid point nearest to the point: the same for every point of a cell, so
    the original cannot be recovered. Idempotent."""
    return (round(round(latitude / COARSE_GRID_DEGREES) * COARSE_GRID_DEGREES, 6),
            round(round(longitude / COARSE_GRID_DEGREES) * COARSE_GRID_DEGREES, 6))
