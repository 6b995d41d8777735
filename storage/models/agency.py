from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, TimestampMixin


class Agency(TimestampMixin, Base):
    """A unit a report can be assigned to: OPD, BUMD, kecamatan, kelurahan or desa.

    Kelurahan and desa sit under a kecamatan through ``parent_id``.
    """

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id], lazy="raise")
