"""Resealing stored personal values under the current key after a key rotation (`python -m app rotate-keys`)."""

from __future__ import annotations

from tortoise.models import Model

from app.core.crypto import FieldCipher


async def reseal_rows(model: type[Model], columns: dict[str, str], *, cipher: FieldCipher, batch: int = 500) -> int:
    """Reseal these columns (column -> encryption context) of every row under the current key; rows changed."""
    changed = 0
    last_id = 0
    while True:
        rows = await model.filter(id__gt=last_id).order_by("id").limit(batch).values("id", *columns)
        if not rows:
            return changed
        for row in rows:
            updates = {
                column: cipher.reseal(row[column], context=context)
                for column, context in columns.items()
                if row[column] and not cipher.is_current(row[column])
            }
            if updates:
                # Only if nobody changed the row meanwhile: their value is sealed under the current key already.
                done = await model.filter(id=row["id"], **{column: row[column] for column in updates}).update(**updates)
                changed += bool(done)
        last_id = rows[-1]["id"]
