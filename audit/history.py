"""Writing history in bulk: the records simple-history's save() signals
would have written for many objects of one model, in a few statements
instead of several per object, attributed to the current recording's user,
source and batch. For writers that insert or update rows in bulk (imports,
syncs, merges), which send no signals."""

from collections.abc import Iterator, Mapping
from functools import cache
from operator import attrgetter

from django.db import models
from django.utils import timezone

from contacts_portal import database

from .recording import current_actor, current_user


@cache
def history_model_of(model: type[models.Model]) -> type[models.Model]:
    """`model`'s history model (simple-history's), looked up once."""
    # simple-history's descriptor builds a manager class on every access.
    return model.history.model


def history_bulk_write(
    *,
    model: type[models.Model],
    objects: list,
    history_type: str,
    reasons: Mapping[int, str] | None = None,
    with_ids: bool = False,
) -> list[int]:
    """Record the current state of `objects` (instances of `model`, or any
    objects with its fields' attnames) in `model`'s history: `history_type`
    "+" for created, "~" for changed, "-" for deleted. `reasons` (primary
    key -> text) fill simple-history's change reason. With `with_ids`, the
    records' ids are drawn first and returned in the objects' order, for
    rows that refer to them (many-to-many history); else the database
    numbers them and [] is returned."""
    if not objects:
        return []
    history_model, columns, rows, history_ids = history_rows(
        model=model, objects=objects, history_type=history_type, reasons=reasons, with_ids=with_ids
    )
    database.insert(history_model, columns, rows)
    return history_ids


def history_rows(
    *,
    model: type[models.Model],
    objects: list,
    history_type: str,
    reasons: Mapping[int, str] | None = None,
    with_ids: bool = False,
) -> tuple[type[models.Model], list[str], Iterator[tuple], list[int]]:
    """The records history_bulk_write writes, not written: the history
    model, its columns, the rows (made as they are read) and the records'
    ids (drawn now, with `with_ids`)."""
    actor = current_actor()
    user = current_user()
    history_model = history_model_of(model)
    history_ids = database.allocate_ids(history_model, len(objects)) if with_ids else []
    tracked = [field.attname for field in history_model.tracked_fields]
    common = {
        "history_date": timezone.now(),
        "history_type": history_type,
        "history_user_id": user.pk if user else None,
        "history_change_reason": None,
        "history_source": actor.source,
        "history_batch": actor.batch,
    }
    columns = [*tracked, *(["history_id"] if with_ids else []), *common]
    reason_at = columns.index("history_change_reason")
    rows = _rows(objects, history_model.tracked_fields, history_ids, tuple(common.values()), reasons or {}, reason_at)
    return history_model, columns, rows, history_ids


def _rows(objects, fields, history_ids, common, reasons, reason_at):
    """The records' rows, made as they are written: a hundred thousand at
    once would weigh."""
    values_of = attrgetter(*(field.attname for field in fields))
    files = [i for i, field in enumerate(fields) if isinstance(field, models.FileField)]
    ids = iter(history_ids) if history_ids else None
    for obj in objects:
        values = values_of(obj)
        if files:
            values = list(values)
            for i in files:
                # A model's file is a FieldFile; a bulk writer's new object may hold its name.
                values[i] = getattr(values[i], "name", values[i]) or ""
        row = (*values, next(ids), *common) if ids is not None else (*values, *common)
        if obj.pk in reasons:
            row = (*row[:reason_at], reasons[obj.pk], *row[reason_at + 1 :])
        yield row
