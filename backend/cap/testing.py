"""Validate a CAP document against the normative OASIS schema (tests only: needs the
``xmlschema`` dev dependency, imported when first used)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Final

SCHEMA_PATH: Final = Path(__file__).resolve().parents[2] / "resources" / "cap" / "CAP-v1.2.xsd"


@functools.cache
def _schema() -> Any:
    import xmlschema  # noqa: PLC0415  (a dev dependency: only tests import this module)

    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def cap_schema_errors(xml: bytes) -> list[str]:
    """The schema's complaints about ``xml`` (empty when it is a valid CAP 1.2 alert)."""
    return [str(error.reason or error) for error in _schema().iter_errors(xml.decode())]


def assert_valid_cap(xml: bytes) -> None:
    """Fail (AssertionError) unless ``xml`` is a valid CAP 1.2 ``alert`` document."""
    errors = cap_schema_errors(xml)
    assert not errors, "not valid CAP 1.2: " + "; ".join(errors)  # noqa: S101
