"""Column types shared by every table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware datetime in UTC (``tzinfo`` is ``datetime.UTC``, sent as ``Z``).

    Raises ValueError for a naive datetime: its zone is unknown.
    """
    if value.tzinfo is dt.UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: its time zone is unknown")
    return value.astimezone(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database.

    SQLite has no time zones, so values are stored as naive UTC and made aware again on
    the way out; naive values on the way in are a programming error and refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _utc_on_set(_target: object, value: object, _old: object, _initiator: object) -> object:
    return as_utc(value) if isinstance(value, dt.datetime) else value


def keep_utc_on_assignment(base: type[DeclarativeBase]) -> None:
    """Convert every datetime assigned to a :class:`UTCDateTime` attribute of ``base``'s
    models to UTC at once, so that an object's in-memory value (from which views and
    events are built before anything is read back) is the stored instant, in UTC."""
    for mapper in base.registry.mappers:
        for prop in mapper.column_attrs:
            if any(isinstance(column.type, UTCDateTime) for column in prop.columns):
                event.listen(prop.class_attribute, "set", _utc_on_set, retval=True)
