"""Deleting many rows without holding the table: the ids a query selects, deleted a batch per
write transaction until a batch comes back short (retention sweeps of chat and evidence)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete

from store.db import Database


async def delete_in_batches(db: Database, ids: Select[Any], id_column: Any, batch: int) -> int:
    """Delete the rows whose ``id_column`` is among what ``ids`` selects, ``batch`` at a time,
    each batch in its own write transaction; how many were deleted."""
    total = 0
    table = id_column.class_
    while True:
        async with db.writing() as s:
            found = (await s.scalars(ids.limit(batch))).all()
            if found:
                await s.execute(delete(table).where(id_column.in_(found)))
        total += len(found)
        if len(found) < batch:
            return total
