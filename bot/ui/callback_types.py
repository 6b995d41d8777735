"""Bounded integers for callback_data fields.

A client can put any digits into a button's payload. Out-of-range values must fail when the
payload is unpacked (the button's filter then does not match and the catch-all answers the press
as stale) instead of reaching the database: SQLite cannot bind integers past 64 bits and
PostgreSQL's ``integer`` keys stop at 2**31 - 1; a negative page would be a negative OFFSET,
which PostgreSQL refuses.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT4_MAX = 2**31 - 1

# A primary key (report, agency, officer, template, broadcast); 0 stands for "none".
RowId = Annotated[int, Field(ge=0, le=INT4_MAX)]
# A page of a list; pages past the end are clamped by the services.
Page = Annotated[int, Field(ge=0, le=100_000)]
# A small code (a rating, a yes/no); each handler checks its own set of values.
SmallInt = Annotated[int, Field(ge=0, le=100)]
# A calendar year; the handlers check the years they offer.
Year = Annotated[int, Field(ge=1, le=9999)]


def parse_row_id(text: str) -> int | None:
    """A primary key carried as text in a payload, or None. ``str.isdigit`` alone would let
    "²" through to ``int()`` (a ValueError) and any number of digits through to the database."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= INT4_MAX else None
