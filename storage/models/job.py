"""State the scheduled jobs keep in our own tables, so that several bot processes sharing one
database agree on what has been done (APScheduler's own job stores are never shared)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow


class JobRun(Base):
    """A lease on one run of a job (the officer reminder of 2024-05-20, the digest of 09:00).

    The unique pair makes the first process to insert the row the only one to run it. A row left
    unfinished by a process that died may be taken over once its lease has run out; every
    effect of a job is idempotent on its own, so finishing someone else's run is safe.
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_name", "run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # How many times the run was taken over after a lease ran out (a crashed process).
    attempts: Mapped[int] = mapped_column(default=1)
    summary: Mapped[str | None] = mapped_column(String(255))


class JobEffect(Base):
    """One thing a job did that must never be done twice: the reminder to officer 5 on a given
    day, the check-in about report 12. Written in the same transaction as the effect itself."""

    __tablename__ = "job_effect"
    __table_args__ = (UniqueConstraint("job_name", "effect_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    effect_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestItem(Base):
    """A change to a citizen's report held back for the next digest: the citizen chose the digest
    in /pengaturan (``citizen.update_mode``), or left the deployment's ``citizen_mode`` = "digest".

    ``text`` is the update already rendered in the citizen's language, HTML-escaped; the digest
    joins the items of one citizen into one message and stamps ``digested_at``.
    """

    __tablename__ = "digest_item"
    __table_args__ = (Index("ix_digest_item_digested_at_citizen_id", "digested_at", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    digested_at: Mapped[datetime | None]
