"""The byte cleaners of bot/services/file_cleaning.py on real files."""

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.domain.privacy import Cleaning
from bot.services.file_cleaning import CleaningFailed, scrub
from tests.files import ARTIST, jpeg_with_exif, pdf_with_author


def test_an_image_loses_its_exif_gps_and_comment_and_keeps_its_pixels():
    original = jpeg_with_exif()
    cleaned = scrub(Cleaning.IMAGE, original)
    image = Image.open(io.BytesIO(cleaned))
    assert ARTIST.encode() not in cleaned
    assert not image.getexif() and not image.getexif().get_ifd(0x8825)
    assert "comment" not in image.info and "exif" not in image.info
    assert image.size == Image.open(io.BytesIO(original)).size
    assert image.getpixel((5, 5)) == pytest.approx((200, 120, 40), abs=4)


def test_an_image_is_turned_upright_before_its_orientation_tag_goes():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(scrub(Cleaning.IMAGE, out.getvalue()))).size == (20, 40)


def test_a_png_stays_a_png_without_its_text_chunks():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", ARTIST)
    out = io.BytesIO()
    Image.new("RGBA", (8, 8)).save(out, "PNG", pnginfo=info)
    cleaned = scrub(Cleaning.IMAGE, out.getvalue())
    assert cleaned.startswith(b"\x89PNG") and ARTIST.encode() not in cleaned


def test_a_pdf_loses_its_document_information():
    cleaned = scrub(Cleaning.PDF, pdf_with_author())
    assert ARTIST.encode() not in cleaned
    reader = PdfReader(io.BytesIO(cleaned))
    assert len(reader.pages) == 1
    assert not (reader.metadata or {}).get("/Author") and reader.xmp_metadata is None


def test_what_has_no_cleaner_goes_as_it_is():
    assert scrub(Cleaning.NONE, b"anything") == b"anything"


@pytest.mark.parametrize("cleaning", [Cleaning.IMAGE, Cleaning.PDF])
def test_a_file_that_is_not_what_it_claims_cannot_be_cleaned(cleaning):
    with pytest.raises(CleaningFailed):
        scrub(cleaning, b"not really")
