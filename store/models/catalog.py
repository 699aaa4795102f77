"""The catalog: customers' favourite companions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, UtcDateTime


class Favourite(Base):
    """``customer_id`` keeps ``companion_id`` among their favourites: listed first for them,
    and they are told when the companion comes online."""

    __tablename__ = "favourites"

    customer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    companion_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
