"""Which console an exercise's mark belongs on (no Qt).

A live console never takes a message marked as an exercise's; a drill console takes only
the messages marked with its own run. :func:`mark_refusal` says why a message is refused.
"""

from __future__ import annotations

import msgspec

from realtime.protocol import ExerciseLabel


def mark_refusal(
    expected_run: str | None, mark: ExerciseLabel | msgspec.UnsetType, what: str
) -> str | None:
    """Why a ``what`` (welcome, snapshot, event, telemetry) marked ``mark`` does not belong
    on a console showing ``expected_run`` (None: the live console); None when it does."""
    run_id = None if isinstance(mark, msgspec.UnsetType) else mark.run_id
    if run_id == expected_run:
        return None
    if expected_run is None:
        return f"the server sent an exercise's {what} ({run_id}) on the live connection"
    if run_id is None:
        return f"the server sent a {what} without the exercise mark on the drill connection"
    return f"the server sent another exercise's {what} ({run_id}) on the drill connection"
