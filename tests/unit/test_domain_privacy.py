import itertools

import pytest

from bot.domain.enums import Privacy
from bot.domain.privacy import IdentityPart as P
from bot.domain.privacy import Viewer, reporter_identity

EXPECTED = {
    (Viewer.AGENCY, Privacy.ANONYMOUS): set(),
    (Viewer.AGENCY, Privacy.PUBLIC): {P.NAME},
    (Viewer.AGENCY, Privacy.CONFIDENTIAL): {P.NAME},
    (Viewer.EXPORT, Privacy.ANONYMOUS): set(),
    (Viewer.EXPORT, Privacy.PUBLIC): {P.NAME, P.USERNAME},
    (Viewer.EXPORT, Privacy.CONFIDENTIAL): {P.NAME, P.USERNAME},
    (Viewer.ADMIN, Privacy.ANONYMOUS): set(P),
    (Viewer.ADMIN, Privacy.PUBLIC): set(P),
    (Viewer.ADMIN, Privacy.CONFIDENTIAL): set(P),
}


@pytest.mark.parametrize(("viewer", "privacy"), list(itertools.product(Viewer, Privacy)))
def test_who_sees_what_of_the_reporter(viewer, privacy):
    assert reporter_identity(viewer, privacy) == EXPECTED[viewer, privacy]
    # The column's plain string works the same.
    assert reporter_identity(viewer, privacy.value) == EXPECTED[viewer, privacy]


def test_nobody_outside_the_coordinators_gets_a_way_to_reach_the_reporter():
    for viewer, privacy in itertools.product((Viewer.AGENCY, Viewer.EXPORT), Privacy):
        assert P.TELEGRAM_ID not in reporter_identity(viewer, privacy)


# -- files and locations of anonymous reports ----------------------------------------------------
from bot.domain.privacy import (  # noqa: E402
    COARSE_GRID_DEGREES,
    Cleaning,
    cleaning_for,
    coarsen,
    must_clean_files,
    neutral_file_name,
)


def test_only_anonymous_reports_files_are_cleaned():
    assert [p for p in Privacy if must_clean_files(p)] == [Privacy.ANONYMOUS]
    assert must_clean_files("anonymous")


@pytest.mark.parametrize(("kind", "mime", "name", "expected"), [
    ("photo", None, None, Cleaning.IMAGE),
    ("document", "image/jpeg", "KTP_Siti.jpg", Cleaning.IMAGE),
    ("document", "image/png", None, Cleaning.IMAGE),
    ("document", None, "scan.JPEG", Cleaning.IMAGE),
    ("document", "application/pdf", "surat.pdf", Cleaning.PDF),
    ("document", "application/octet-stream", "surat.pdf", Cleaning.PDF),
    ("document", "application/msword", "surat.doc", Cleaning.NONE),
    ("document", None, None, Cleaning.NONE),
    ("video", "video/mp4", "rumah.mp4", Cleaning.NONE),
    ("voice", "audio/ogg", None, Cleaning.NONE),
])
def test_what_can_be_cleaned(kind, mime, name, expected):
    assert cleaning_for(kind, mime, name) is expected


@pytest.mark.parametrize(("kind", "mime", "name", "expected"), [
    ("photo", "image/jpeg", None, "LPR-1-1.jpg"),
    ("document", "image/jpeg", "KTP_Siti_Aminah_6409011234567890.jpg", "LPR-1-1.jpg"),
    ("document", "application/pdf", "Siti.pdf", "LPR-1-1.pdf"),
    ("document", None, "data siti.xlsx", "LPR-1-1.xlsx"),
    ("document", None, "Siti Aminah", "LPR-1-1.bin"),
    ("document", None, "x.Siti_Aminah", "LPR-1-1.bin"),  # a "extension" that is a name
    ("video", "video/mp4", "rumah_siti.mp4", "LPR-1-1.mp4"),
    ("voice", "audio/ogg", None, "LPR-1-1.ogg"),
])
def test_a_neutral_name_keeps_nothing_of_the_old_one_but_a_short_extension(kind, mime, name, expected):
    assert neutral_file_name("LPR-1", 1, kind, mime, name) == expected


def test_a_coarsened_point_is_on_a_grid_of_about_100_m_and_hides_the_original():
    lat, lon = -1.2563417, 116.8312789
    c_lat, c_lon = coarsen(lat, lon)
    assert abs(c_lat - lat) <= COARSE_GRID_DEGREES / 2 + 1e-9 and abs(c_lon - lon) <= COARSE_GRID_DEGREES / 2 + 1e-9
    assert (c_lat, c_lon) == (-1.256, 116.831)
    # Every point of the cell gives the same answer, and coarsening twice changes nothing.
    assert coarsen(-1.25601, 116.83149) == (c_lat, c_lon) == coarsen(c_lat, c_lon)
