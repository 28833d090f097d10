"""What each early-warning command does (``warning.list``, ``warning.act``,
``sensor.projection``, ``weather.import``): one small function per command, named in the
command table (:mod:`backend.server.commands`), which has already checked the role's
permission. The service (:mod:`backend.early_warning.service`) applies the scope: a
warning or sensor outside the user's area is refused exactly like a missing one.
"""

from __future__ import annotations

from backend.early_warning import weather
from backend.errors import Error
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    ActOnWarning,
    ErrorCode,
    GetProjection,
    ImportWeather,
    ListWarnings,
    ProjectionResult,
    WarningResult,
    WarningsResult,
    WeatherImported,
)


async def list_warnings(ctx: ConsoleContext, command: ListWarnings) -> WarningsResult:
    """The warnings of the user's area."""
    warnings = await ctx.server.early_warnings.list(
        ctx.principal, include_ended=command.include_ended, since=command.since
    )
    return WarningsResult(warnings=warnings)


async def act_on_warning(ctx: ConsoleContext, command: ActOnWarning) -> WarningResult:
    """Acknowledge or close a warning."""
    warning = await ctx.server.early_warnings.act(
        ctx.principal, command.warning_id, command.version, command.action, command.note
    )
    return WarningResult(warning=warning)


async def sensor_projection(ctx: ConsoleContext, command: GetProjection) -> ProjectionResult:
    """A sensor's trend projection for the trends panel."""
    return await ctx.server.early_warnings.projection(
        ctx.principal, command.sensor, command.horizon_s
    )


async def import_weather(ctx: ConsoleContext, command: ImportWeather) -> WeatherImported:
    """Import a CAP weather alert: warnings for the hazard sources it covers (within the
    user's budget of imports a minute: each is laid over every hazard source)."""
    budget = ctx.server.early_warnings.weather_imports
    if not budget.allow(ctx.principal.username):
        raise Error(
            ErrorCode.RATE_LIMITED,
            f"at most {budget.per_minute:g} weather alerts a minute per user; wait a moment",
        )
    return await weather.import_alert(
        ctx.server.early_warnings, ctx.principal, command.cap_xml.encode("utf-8")
    )
