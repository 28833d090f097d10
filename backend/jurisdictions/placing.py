"""How a placed code and a given code are reconciled, the same everywhere (registration,
imports, alarms, the back-fill migration).

Where an object stands decides its jurisdiction: a camera registered with ``3301`` that
stands in ``330106`` gets ``330106`` (deeper, same area); one that stands in Shanghai gets
Shanghai's district, with a warning naming both, because scope follows the ground and a
typo in a CSV must not hide a camera from the officers of its area. Only when the point
lies in no known jurisdiction (at sea, abroad, no coordinates) does the given code stay.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settled:
    """The jurisdiction an object gets, and a warning when it differs from the given one."""

    code: str
    warning: str = ""


def settle(given: str, placed: str, *, what: str = "it") -> Settled:
    """Reconcile the ``given`` code with the ``placed`` one (see the module docstring)."""
    if not placed:
        return Settled(given)
    if not given or placed.startswith(given):
        return Settled(placed)
    return Settled(
        placed,
        f"{what} stands in {placed}, not in the given jurisdiction {given}: placed in {placed}",
    )


def refine(current: str, placed: str) -> str:
    """For records someone already decided (an officer's alarm): take the placed code only
    where it is deeper in the same area, or where there was none."""
    if placed and (not current or placed.startswith(current)):
        return placed
    return current
