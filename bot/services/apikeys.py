"""Keys for filing reports through the Open311 API (``lapor-bot apikeys create|list|revoke``).

A key is 32 random bytes shown once; only its SHA-256 is kept, so a database leak hands out no
write access (a key has full entropy, so a plain hash is enough: nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from storage.models import ApiKey
from storage.repositories.apikeys import ApiKeyRepo

PREFIX = "lk_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


class ApiKeyError(ValueError):
    pass


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(session: AsyncSession, name: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key named ``name`` (a kiosk, a web form); returns the row and the key itself."""
    name = " ".join(name.split())
    if not NAME_RE.match(name):
        raise ApiKeyError("the name takes letters, digits, spaces, '.', '_' and '-' (at most 64)")
    repo = ApiKeyRepo(session)
    if await repo.by_name(name) is not None:
        raise ApiKeyError(f"a key named {name!r} exists already (revoke it, or choose another name)")
    key = PREFIX + secrets.token_urlsafe(32)
    row = await repo.add(ApiKey(name=name, key_hash=_hash(key), prefix=key[:8], created_at=now))
    await audit.record(session, None, audit.AuditAction.APIKEY_CREATE, f"apikey:{name}", {"prefix": row.prefix})
    try:
        await session.commit()
    except IntegrityError:  # created by someone else in the same moment
        await session.rollback()
        raise ApiKeyError(f"a key named {name!r} exists already") from None
    return row, key


async def revoke_key(session: AsyncSession, name: str, now: datetime) -> ApiKey:
    repo = ApiKeyRepo(session)
    row = await repo.by_name(name)
    if row is None:
        raise ApiKeyError(f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = now
        await audit.record(session, None, audit.AuditAction.APIKEY_REVOKE, f"apikey:{name}", {})
        await session.commit()
    return row


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return await ApiKeyRepo(session).all()


async def authenticate(session: AsyncSession, key: str | None) -> ApiKey | None:
    """The active key ``key`` is, or None (missing, unknown or revoked: all alike)."""
    if not key or not key.startswith(PREFIX) or len(key) > 128:
        return None
    row = await ApiKeyRepo(session).by_hash(_hash(key))
    return row if row is not None and row.revoked_at is None else None
