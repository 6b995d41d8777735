"""SP4N-LAPOR!'s own tracking numbers, as a coordinator types them from lapor.go.id.

LAPOR! shows them as a number with a hash sign ("#1916449"); the hash, spaces and dots are
dropped, so what is stored is digits only. The length bounds are generous on purpose: the
format belongs to LAPOR!, and a wrong guess here would lock coordinators out.
"""

from __future__ import annotations

import re

MIN_DIGITS = 4
MAX_DIGITS = 20
_NOISE = re.compile(r"[\s#.\-]+")


def normalize_lapor_id(text: str) -> str | None:
    compact = _NOISE.sub("", text or "")
    if not (compact.isascii() and compact.isdigit()) or not MIN_DIGITS <= len(compact) <= MAX_DIGITS:
        return None
    return compact


def lapor_report_url(template: str, lapor_id: str) -> str:
    """The report's page on lapor.go.id, from the configured template (``{number}``)."""
    return template.replace("{number}", lapor_id)
