"""Suite-wide guard rails: a test fails when the application logs an ERROR it did not
expect (qutebrowser's habit), so a swallowed failure cannot hide behind a green test.

A test that provokes errors on purpose says so with ``@pytest.mark.logs_errors`` (and
should assert on them through ``caplog``); everything else must run without one ERROR
record from our packages, in the test's thread or in a server thread it started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

OUR_PACKAGES = ("realtime", "devices", "backend", "desktop")


class _ErrorCollector(logging.Handler):
    """Keeps every ERROR (or worse) record of our packages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in OUR_PACKAGES:
            with self._lock_records:
                self.records.append(record)


@pytest.fixture(autouse=True)
def _fail_on_unexpected_error_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    collector = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if collector.records and request.node.get_closest_marker("logs_errors") is None:
        lines = "\n".join(
            f"  {record.name}: {record.getMessage()}" for record in collector.records[:10]
        )
        pytest.fail(
            f"{len(collector.records)} unexpected ERROR log record(s):\n{lines}\n"
            "(mark the test @pytest.mark.logs_errors if it provokes them on purpose)",
            pytrace=False,
        )
