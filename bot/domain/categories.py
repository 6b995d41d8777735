"""Rules of the category tree shared by the import, the form and the Open311 API."""

from __future__ import annotations

import re

# "Lainnya / Tidak tahu": no category; Open311 offers it as a service of its own, so the code is
# reserved and no imported category may take it.
OTHER_CODE = "lainnya"
# Codes travel in URLs (/open311/v2/services/<code>.json) and in callback data.
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
CODE_MAX = 32
NAME_MAX = 200


def valid_code(code: str) -> bool:
    return bool(CODE_RE.match(code)) and code != OTHER_CODE


def display_name(name: str, name_en: str | None, locale: str) -> str:
    """The English name for English readers when the tree has one; Indonesian otherwise."""
    return name_en if locale == "en" and name_en else name
