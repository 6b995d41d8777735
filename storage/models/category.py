"""The category tree (kategori): LAPOR!'s topics, FixMyStreet's categories, Open311's services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, TimestampMixin


class Category(TimestampMixin, Base):
    """A topic a report is about. Two levels at most (a top-level topic and its children), so a
    citizen reaches any category in two taps.

    ``code`` is the stable key: imports match on it and Open311 publishes it as
    ``service_code``. ``attributes`` are the extra questions Open311 clients may answer
    (GeoReport v2 service definitions), as the import file gives them.
    """

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    # Offered first when the admin assigns a report of this category.
    default_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # LAPOR!'s own topic id, when the district knows it (for whoever enters the report there).
    lapor_topic_id: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
