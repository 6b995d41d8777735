"""Tracking ids a citizen can quote over the phone: ``LPR-7K3M-Q9XD``.

Eight characters from an alphabet without look-alikes (0/O, 1/I/L, 5/S, 2/Z): seven random
ones from ``secrets`` and a check character. The check is a weighted sum modulo 27 with weights
2**7 .. 2**0: every weight and every difference of neighbouring weights is a power of two, hence
invertible mod 27, so any single wrong character and any swap of two neighbours changes the sum
(the same argument as Damm's quasigroup ``x*y = 2x + y mod n``).

7 random characters give 27**7 ~ 1.0e10 ids (~33 bits): not guessable in sequence, but not
collision-free either, so callers insert under the database's unique constraint and retry.
"""

from __future__ import annotations

import re
import secrets

PREFIX = "LPR"
ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
BODY_LENGTH = 7
LENGTH = BODY_LENGTH + 1

_BASE = len(ALPHABET)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(2, LENGTH - 1 - i, _BASE) for i in range(LENGTH))
_SEPARATORS = re.compile(r"[\s\-_.]+")

assert _BASE == 27  # the check-character argument above depends on it


def check_char(body: str) -> str:
    total = sum(w * _VALUE[ch] for w, ch in zip(_WEIGHTS, body, strict=False))
    # The check character has weight 1, so it is simply the additive inverse.
    return ALPHABET[-total % _BASE]


def _is_valid(code: str) -> bool:
    return (
        len(code) == LENGTH
        and all(ch in _VALUE for ch in code)
        and sum(w * _VALUE[ch] for w, ch in zip(_WEIGHTS, code, strict=True)) % _BASE == 0
    )


def _format(code: str) -> str:
    return f"{PREFIX}-{code[:4]}-{code[4:]}"


def new_tracking_id() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return _format(body + check_char(body))


def normalize_tracking_id(text: str) -> str | None:
    """The canonical form of what a citizen typed, or None when malformed or mistyped."""
    compact = _SEPARATORS.sub("", text).upper()
    # L is not in the alphabet, so a leading "LPR" can only be the prefix.
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX):]
    if not _is_valid(compact):
        return None
    return _format(compact)
