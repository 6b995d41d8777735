"""The messages that show a report with buttons to act on it."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class CaseCard(Base):
    """An admin's verification card (Disposisi / Tolak / Tunda) as sent: when the report moves on
    (assigned, rejected, by whichever admin), every card of it is edited so its buttons show only
    what can still be done, then forgotten."""

    __tablename__ = "case_card"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
