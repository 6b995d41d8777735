"""Real files with identifying metadata, for the tests of cleaning (bot/services/file_cleaning.py)."""

from __future__ import annotations

import io
from functools import cache

# An EXIF GPS point far from any default coordinates in the tests, so a leak is unmistakable.
GPS = ((1, 15, 33), (116, 49, 47))
ARTIST = "Siti Aminah"


def _rational(dms: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(float(x) for x in dms)  # type: ignore[return-value]


@cache
def jpeg_with_exif(artist: str = ARTIST, width: int = 64, height: int = 48) -> bytes:
    """A JPEG whose EXIF names its owner and holds a GPS point, and has a comment."""
    from PIL import Image

    img = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x013B] = artist  # Artist
    exif[0x8298] = f"(c) {artist}"  # Copyright
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", _rational(GPS[0])
    gps[3], gps[4] = "E", _rational(GPS[1])
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=f"taken by {artist}".encode())
    return out.getvalue()


@cache
def pdf_with_author(author: str = ARTIST) -> bytes:
    """A one-page PDF whose document information names its author."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": author, "/Title": f"Surat {author}", "/Creator": f"{author}'s laptop"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
