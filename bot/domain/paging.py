"""Page arithmetic for the paged lists (queue, inbox, my reports, directories)."""

from __future__ import annotations


def page_count(total: int, per_page: int) -> int:
    """At least one page, so an empty list still shows its (empty) first page."""
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> tuple[int, int]:
    """``(page, pages)`` with ``page`` pulled into range: a stale or forged "next" button after
    the list shrank lands on the last page, not an empty one."""
    pages = page_count(total, per_page)
    return min(max(page, 0), pages - 1), pages
