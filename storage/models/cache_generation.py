"""One counter that moves whenever the tables every update reads from a process cache change."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class CacheGeneration(Base):
    """A single row (``id`` 1), raised in the same transaction as any write to the officers,
    the agencies or the categories (``storage/generation.py``). Every process reads it with the
    citizen on each update and drops what it cached when it moved: a revoked officer is refused
    at their next tap whichever process, or the command line, revoked them."""

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
