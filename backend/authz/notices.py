"""Scope of publishing (:attr:`backend.authz.policy.Scope.NOTICE`): who sees a notice's
workflow, and who receives it once published.

Staff (the roles that see notices) see the notices drafted inside their area, but a draft
only its drafter and the supervisors of the area. A recipient — an enterprise user whose
enterprise, or an agency desk whose agency, the notice was published to — sees the
published notice as an inbox item only, never its workflow nor the other recipients. The
recipients travel with the ``notice.published``/``notice.cancelled`` events in ``fields``
as :func:`recipient_tag` strings, so the fan-out decides without a database read.
"""

from __future__ import annotations

from collections.abc import Collection

from backend.authz.principal import Principal
from backend.authz.scope import COMMAND_CENTRE, SUPERVISORS, in_jurisdiction
from realtime.protocol import NoticeState, NoticeView, RecipientKind, Role

STAFF = COMMAND_CENTRE | {Role.VIEWER}
"""The roles that see notices and their receipts (the ``see notices`` permission)."""


def recipient_tag(kind: RecipientKind, code: str) -> str:
    """How a recipient is named in a notice event's ``fields``."""
    return f"{kind.value}:{code}"


def can_see_notice(principal: Principal, notice: NoticeView) -> bool:
    """Return whether the principal may see the notice's workflow: staff of its area; a
    draft only its drafter and the supervisors of its area."""
    if principal.role not in STAFF or not in_jurisdiction(principal, notice.jurisdiction):
        return False
    if notice.state is NoticeState.DRAFT:
        return principal.username == notice.drafted_by or principal.role in SUPERVISORS
    return True


def is_recipient(principal: Principal, recipients: Collection[str], jurisdiction: str) -> bool:
    """Return whether the principal's enterprise or agency is among ``recipients`` (an
    agency desk only for a notice of an area that overlaps its own)."""
    if principal.role is Role.ENTERPRISE:
        return principal.enterprise is not None and (
            recipient_tag(RecipientKind.ENTERPRISE, principal.enterprise) in recipients
        )
    if principal.role is Role.AGENCY and principal.agency is not None:
        overlaps = jurisdiction.startswith(principal.jurisdiction) or (
            principal.jurisdiction.startswith(jurisdiction)
        )
        return overlaps and recipient_tag(RecipientKind.AGENCY, principal.agency) in recipients
    return False
