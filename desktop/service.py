"""The one bridge between the asyncio client and Qt.

:class:`ConsoleService` is the :class:`~realtime.client.ClientListener` of a
:class:`~realtime.client.DutyDeskClient`: it applies what arrives to an
:class:`~desktop.state.AlarmStore` and re-emits it as Qt signals. Commands are sent from
tasks the service keeps referenced; their outcome comes back as signals, so views never
await network I/O themselves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

import msgspec
from PySide6.QtCore import QObject, Signal

from desktop.exercises.marks import mark_refusal
from desktop.state import AlarmStore, StoreChange
from realtime.client import (
    ClientClosedError,
    CommandError,
    ConnectionState,
    DutyDeskClient,
    OutboxFullError,
    Refusal,
    server_urls,
)
from realtime.protocol import (
    AlarmResult,
    AlarmView,
    Command,
    CreateAlarm,
    DispatchAlarm,
    Event,
    ExerciseLabel,
    ListUnits,
    ResultData,
    Snapshot,
    Subscribe,
    Telemetry,
    TransitionAlarm,
    UnitsResult,
    UnitView,
    UnlockSession,
    UserInfo,
    Welcome,
)
from realtime.states import AlarmAction, AlarmLevel

logger = logging.getLogger(__name__)

DEFAULT_COMMAND_TIMEOUT = 300.0
"""Seconds a command may wait (in the outbox while disconnected, then for its answer)."""
CLIENT_STOP_GRACE = 2.0
"""Seconds the client's run task gets to finish after close before it is cancelled."""
TELEMETRY_TOPICS: tuple[str, ...] = ("positions", "readings")
"""Live telemetry the console subscribes to each time the link becomes live (map, trends)."""
SUBSCRIBE_TIMEOUT = 30.0
"""Seconds the subscription may wait for its answer."""
QUERY_TIMEOUT = 30.0
"""Seconds a read-only query (sensors, series, devices, tracks, texts) may take."""

_R = TypeVar("_R")

QueryResultHandler = Callable[[ResultData], None]
"""Receives the result of a :meth:`ConsoleService.query`."""
QueryErrorHandler = Callable[[str, str], None]
"""Receives (error code, message) when a :meth:`ConsoleService.query` fails."""


class LocalErrorCode(enum.StrEnum):
    """Failures the console detects itself, beside the server's ``ErrorCode``."""

    OUTBOX_FULL = "outbox_full"
    TIMEOUT = "timeout"
    NOT_CONNECTED = "not_connected"


class Operation(enum.StrEnum):
    """Which kind of command an outcome belongs to."""

    CREATE_ALARM = "create_alarm"
    TRANSITION = "transition"
    DISPATCH = "dispatch"
    LIST_UNITS = "list_units"


@dataclasses.dataclass(frozen=True, slots=True)
class CommandFailure:
    """A command that did not succeed: which one, the machine code and the server's words."""

    operation: Operation
    code: str
    """An :class:`~realtime.protocol.ErrorCode` value or a :class:`LocalErrorCode` value."""
    message: str
    alarm_id: int | None = None
    command: Command | None = None
    """The refused command, so a form can be filled in again and nothing is lost."""


@dataclasses.dataclass(frozen=True, slots=True)
class CommandSuccess:
    """A command the server accepted, with the alarm it returned (if any)."""

    operation: Operation
    alarm: AlarmView | None = None
    action: AlarmAction | None = None


class ConsoleClient(Protocol):
    """What the service needs of a client; :class:`DutyDeskClient` is the real one."""

    @property
    def queued_commands(self) -> int:
        """How many commands wait to be sent or answered."""

    async def run(self) -> None:
        """Keep the session alive until closed."""

    async def close(self) -> None:
        """Stop the session and fail waiting commands."""

    async def request(self, command: Command, timeout: float | None = 30.0) -> ResultData:
        """Send a command and return its result."""


ClientFactory = Callable[[str, "ConsoleService", str, str, "int | None"], ConsoleClient]
"""Builds a client from (url, listener, username, password, last_seq)."""


def _real_client(
    url: str, listener: ConsoleService, username: str, password: str, last_seq: int | None
) -> ConsoleClient:
    return DutyDeskClient(
        url,
        listener,
        username=username,
        password=password,
        token=listener.login_token,
        totp=listener.login_code,
        ca_file=listener.ca_file,
        last_seq=last_seq,
        client_name="dutydesk-desktop",
        on_telemetry=listener.on_telemetry,
    )


class ConsoleService(QObject):
    """Owns the client session and turns everything it learns into Qt signals.

    All methods must be called on the thread of the (qasync) event loop.
    """

    connection_changed = Signal(object, str)
    """(ConnectionState, human-readable detail)."""
    welcomed = Signal(object)
    """The server accepted the login (a :class:`~realtime.protocol.Welcome`)."""
    snapshot_replaced = Signal()
    """The store was replaced by a snapshot."""
    alarm_changed = Signal(object)
    """An alarm was added or updated (a :class:`~desktop.state.StoreChange`)."""
    event_received = Signal(object)
    """An event was applied (a :class:`~realtime.protocol.Event`), for the log view."""
    command_succeeded = Signal(object)
    """A :class:`CommandSuccess`."""
    command_failed = Signal(object)
    """A :class:`CommandFailure`."""
    units_listed = Signal(list)
    """The units this user may dispatch (a list of :class:`~realtime.protocol.UnitView`)."""
    queued_changed = Signal(int)
    """How many commands now wait to be sent or answered."""
    telemetry_received = Signal(object)
    """Live positions/readings arrived (a :class:`~realtime.protocol.Telemetry`)."""
    unlock_finished = Signal(bool, str, str)
    """(unlocked, error code, server's message) of an :meth:`unlock`."""
    mark_refused = Signal(str)
    """The session was closed for a message of the wrong kind (see :meth:`_refuses`)."""

    def __init__(
        self,
        store: AlarmStore | None = None,
        *,
        client_factory: ClientFactory = _real_client,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
        telemetry_topics: Sequence[str] = TELEMETRY_TOPICS,
        exercise_run: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.exercise_run = exercise_run
        """The exercise run this console shows (a drill console), or None (the live one)."""
        self.refused_mark = ""
        """Why the session was closed for a wrong mark ("" while it was not)."""
        self.session_token = ""
        """The open session's token, for a second connection of the login (a drill)."""
        self.login_token = ""
        self._telemetry_topics = list(telemetry_topics)
        self.store = store if store is not None else AlarmStore()
        self._client_factory = client_factory
        self._command_timeout = command_timeout
        self._client: ConsoleClient | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._outstanding = 0
        self._state = ConnectionState.DISCONNECTED
        self.server_count = 1
        """How many server addresses the session rotates among (the status bar names the
        one in use when there are several)."""
        self._state_detail = ""
        self._link_failed = False
        self.user: UserInfo | None = None
        self.units: list[UnitView] = []
        self.login_code = ""
        """The second-factor code given with the login (used once, then forgotten)."""
        self.ca_file: str | None = None
        """The CA certificate (PEM) that verifies a ``wss://`` server; None: the system's."""
        self.used_second_factor = False
        """The login needed a second-factor code, so unlocking needs one too."""
        self.store.add_listener(self._on_store_change)

    # ------------------------------------------------------------------ session

    @property
    def state(self) -> ConnectionState:
        """The connection state last reported by the client."""
        return self._state

    @property
    def state_detail(self) -> str:
        """The human-readable reason that came with :attr:`state`."""
        return self._state_detail

    @property
    def cut_off(self) -> bool:
        """Whether the console is cut off from the server and shows possibly old data.

        True from a failed or lost connection until the link is live again, through the
        reconnect attempts in between (so the warning does not flicker with each try).
        """
        if self._state in (ConnectionState.AUTH_FAILED, ConnectionState.SESSION_ENDED):
            return True
        if self._state in (ConnectionState.LIVE, ConnectionState.SYNCING):
            return False
        return self._link_failed

    @property
    def started(self) -> bool:
        """Whether a session is running."""
        return self._client is not None

    @property
    def queued_commands(self) -> int:
        """How many commands were issued and have not been answered yet."""
        return self._outstanding

    @property
    def refusal(self) -> Refusal | None:
        """The last handshake the server turned away before checking the login (429, 503)."""
        refusal = getattr(self._client, "refusal", None)
        return refusal if isinstance(refusal, Refusal) else None

    @property
    def second_factor_required(self) -> bool:
        """Whether the last login was refused for a missing or wrong second-factor code."""
        return bool(getattr(self._client, "second_factor_required", False))

    def start(
        self,
        url: str,
        username: str,
        password: str,
        *,
        totp: str = "",
        ca_file: str | None = None,
        token: str = "",
    ) -> None:
        """Start a session with the server (``token``: a session token of the user, in
        place of the password); progress arrives as :attr:`connection_changed`."""
        if self._client is not None:
            raise RuntimeError("the console session is already running")
        logger.info("connecting to %s as %s", url, username)
        self.refused_mark = ""
        self.login_token = token
        self.server_count = len(server_urls(url))
        self.login_code = totp
        self.used_second_factor = bool(totp)
        self.ca_file = ca_file or None
        client = self._client_factory(url, self, username, password, self.store.last_seq)
        self.login_code = ""
        self.login_token = ""
        self._client = client
        self._run_task = asyncio.get_running_loop().create_task(
            client.run(), name="dutydesk-client"
        )
        self._run_task.add_done_callback(self._on_run_done)

    async def stop(self) -> None:
        """Close the session and cancel every command still running."""
        client, run_task = self._client, self._run_task
        self._client, self._run_task = None, None
        if client is not None:
            await client.close()
        if run_task is not None and not run_task.done():
            await asyncio.wait({run_task}, timeout=CLIENT_STOP_GRACE)
            if not run_task.done():
                run_task.cancel()
                await asyncio.gather(run_task, return_exceptions=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _on_run_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("the client session ended with an error", exc_info=error)
            self._set_state(ConnectionState.DISCONNECTED, str(error))

    # ------------------------------------------------------------------ ClientListener

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """Record the connection state; the data stops being fresh when the link drops."""
        if ConnectionState.LIVE in (state, self._state):
            # Live data is current; on leaving LIVE it was current until this moment.
            self.store.mark_fresh()
        became_live = state is ConnectionState.LIVE and self._state is not ConnectionState.LIVE
        self._set_state(state, detail)
        if became_live and self._telemetry_topics and self._client is not None:
            # The server forgets subscriptions with the connection: ask again each time.
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                logger.debug("no running loop: the telemetry subscription is skipped")
                return
            task = loop.create_task(self._subscribe(self._client), name="dutydesk-subscribe")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def on_telemetry(self, telemetry: Telemetry) -> None:
        """Re-emit live telemetry for the map and the trends."""
        if self._refuses(telemetry.exercise, "telemetry"):
            return
        self.telemetry_received.emit(telemetry)

    async def _subscribe(self, client: ConsoleClient) -> None:
        command = Subscribe(req="", topics=list(self._telemetry_topics))
        try:
            await client.request(command, timeout=SUBSCRIBE_TIMEOUT)
        except CommandError as exc:
            logger.warning("the server refused the telemetry subscription: %s", exc.message)
        except (OutboxFullError, TimeoutError) as exc:
            logger.info("telemetry subscription not confirmed: %r", exc)
        except ClientClosedError:
            logger.debug("subscription dropped: the session is closing")
        else:
            logger.info("subscribed to %s", ", ".join(self._telemetry_topics))

    def on_welcome(self, welcome: Welcome) -> None:
        """Remember who is logged in (unless the welcome is of the wrong kind)."""
        if self._refuses(welcome.exercise or msgspec.UNSET, "welcome"):
            return
        self.user = welcome.user
        self.session_token = welcome.session_token
        self.welcomed.emit(welcome)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Replace the store's content."""
        if self._refuses(snapshot.exercise, "snapshot"):
            return
        self.store.apply_snapshot(snapshot)

    def on_event(self, event: Event) -> None:
        """Apply one event to the store."""
        if self._refuses(event.exercise, "event"):
            return
        self.store.apply_event(event)
        self.event_received.emit(event)

    def _refuses(self, mark: ExerciseLabel | msgspec.UnsetType, what: str) -> bool:
        """Whether a message with ``mark`` is refused (:func:`mark_refusal`); the first
        refusal closes the session: nothing after it on that link can be trusted."""
        if self.refused_mark:
            return True
        reason = mark_refusal(self.exercise_run, mark, what)
        if reason is None:
            return False
        logger.error("closing the session: %s", reason)
        self.refused_mark = reason
        client = self._client
        if client is not None:
            self._keep(client.close(), "dutydesk-refuse")
        self.mark_refused.emit(reason)
        return True

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if state in (
            ConnectionState.DISCONNECTED,
            ConnectionState.AUTH_FAILED,
            ConnectionState.SESSION_ENDED,
        ):
            self._link_failed = True
        elif state is ConnectionState.LIVE:
            self._link_failed = False
        self._state = state
        self._state_detail = detail
        self.connection_changed.emit(state, detail)

    def _on_store_change(self, change: StoreChange) -> None:
        if change.alarm is None:
            self.snapshot_replaced.emit()
        else:
            self.alarm_changed.emit(change)

    # ------------------------------------------------------------------ commands

    def create_alarm(
        self,
        *,
        alarm_type: str,
        level: AlarmLevel,
        title: str,
        description: str = "",
        place: str = "",
        lat: float | None = None,
        lon: float | None = None,
        caller_name: str = "",
        caller_phone: str = "",
        caller_address: str = "",
        sensitive_note: str = "",
    ) -> asyncio.Task[None]:
        """Enter an alarm taken by phone."""
        command = CreateAlarm(
            req="",
            alarm_type=alarm_type,
            level=level,
            title=title,
            description=description,
            place=place,
            lat=lat,
            lon=lon,
            caller_name=caller_name,
            caller_phone=caller_phone,
            caller_address=caller_address,
            sensitive_note=sensitive_note,
        )
        return self._issue(Operation.CREATE_ALARM, command, None, None)

    def transition(
        self,
        alarm_id: int,
        action: AlarmAction,
        expected_version: int,
        note: str = "",
        *,
        merge_into: int | None = None,
    ) -> asyncio.Task[None]:
        """Move an alarm along its life cycle (acknowledge, resolve, close, merge…)."""
        command = TransitionAlarm(
            req="",
            alarm_id=alarm_id,
            action=action,
            expected_version=expected_version,
            note=note,
            merge_into=merge_into,
        )
        return self._issue(Operation.TRANSITION, command, alarm_id, action)

    def dispatch(
        self, alarm_id: int, expected_version: int, unit_ids: list[int], note: str = ""
    ) -> asyncio.Task[None]:
        """Send units to an alarm."""
        command = DispatchAlarm(
            req="",
            alarm_id=alarm_id,
            expected_version=expected_version,
            unit_ids=list(unit_ids),
            note=note,
        )
        return self._issue(Operation.DISPATCH, command, alarm_id, AlarmAction.DISPATCH)

    def unlock(self, password: str, totp: str = "") -> asyncio.Task[None]:
        """Ask the server to check the password (and code) of a locked console; the
        answer arrives as :attr:`unlock_finished`."""
        return self.query(
            UnlockSession(req="", password=password, totp=totp),
            lambda _result: self.unlock_finished.emit(True, "", ""),
            lambda code, message: self.unlock_finished.emit(False, code, message),
        )

    def reset(self) -> None:
        """Forget what the last user saw (before another login on the same console)."""
        self.store.clear()
        self.user = None
        self.units = []

    def list_units(self) -> asyncio.Task[None]:
        """Ask for the dispatchable units; they arrive as :attr:`units_listed`."""
        return self._issue(Operation.LIST_UNITS, ListUnits(req=""), None, None)

    def query(
        self,
        command: Command,
        on_result: QueryResultHandler,
        on_error: QueryErrorHandler,
        *,
        timeout: float = QUERY_TIMEOUT,
    ) -> asyncio.Task[None]:
        """Send ``command`` and hand its result (or error code and message) to a callback.

        For panels that read (sensor series, tracks, device lists) or send device texts:
        the callbacks run on the loop's thread, so they may touch widgets.
        """
        return self._keep(
            self._run_query(command, on_result, on_error, timeout),
            f"dutydesk-query-{type(command).__name__}",
        )

    async def ask(
        self,
        command: Command,
        expected: type[_R],
        refused: Callable[[str, str], Exception],
        *,
        timeout: float = QUERY_TIMEOUT,
    ) -> _R:
        """Send ``command`` and return its result, which must be an ``expected``; for the
        panels that await their answers (chat, checklist, reports, plan documents).

        A refusal, a lost link or an answer of another type raises ``refused(code,
        message)`` (the caller's own error); a silent server raises :class:`TimeoutError`.
        """
        future: asyncio.Future[ResultData] = asyncio.get_running_loop().create_future()

        def done(result: ResultData) -> None:
            if not future.done():
                future.set_result(result)

        def failed(code: str, message: str) -> None:
            if not future.done():
                future.set_exception(refused(code, message))

        self.query(command, done, failed, timeout=timeout)
        # The query times out itself; this bound only guards against a lost callback.
        result = await asyncio.wait_for(future, timeout + 5)
        if not isinstance(result, expected):
            raise refused("bad_message", f"unexpected answer {type(result).__name__}")
        return result

    async def _run_query(
        self,
        command: Command,
        on_result: QueryResultHandler,
        on_error: QueryErrorHandler,
        timeout: float,
    ) -> None:
        client = self._client
        if client is None:
            on_error(LocalErrorCode.NOT_CONNECTED, "not logged in")
            return
        try:
            result = await client.request(command, timeout=timeout)
        except CommandError as exc:
            on_error(str(exc.code), exc.message)
        except OutboxFullError as exc:
            on_error(LocalErrorCode.OUTBOX_FULL, str(exc))
        except TimeoutError:
            on_error(LocalErrorCode.TIMEOUT, "no answer in time")
        except ClientClosedError:
            logger.debug("%s dropped: the session is closing", type(command).__name__)
        else:
            on_result(result)

    def _issue(
        self,
        operation: Operation,
        command: Command,
        alarm_id: int | None,
        action: AlarmAction | None,
    ) -> asyncio.Task[None]:
        self._outstanding += 1
        self.queued_changed.emit(self._outstanding)
        coroutine = self._run_command(operation, command, alarm_id, action)
        return self._keep(coroutine, f"dutydesk-{operation}")

    def _keep(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_command(
        self,
        operation: Operation,
        command: Command,
        alarm_id: int | None,
        action: AlarmAction | None,
    ) -> None:
        try:
            client = self._client
            if client is None:
                self._fail(
                    operation, LocalErrorCode.NOT_CONNECTED, "not logged in", command, alarm_id
                )
                return
            try:
                result = await client.request(command, timeout=self._command_timeout)
            except CommandError as exc:
                self._fail(operation, exc.code, exc.message, command, alarm_id)
            except OutboxFullError as exc:
                self._fail(operation, LocalErrorCode.OUTBOX_FULL, str(exc), command, alarm_id)
            except TimeoutError:
                self._fail(
                    operation, LocalErrorCode.TIMEOUT, "no answer in time", command, alarm_id
                )
            except ClientClosedError:
                logger.debug("%s dropped: the session is closing", operation)
            else:
                self._succeed(operation, result, action)
        finally:
            self._outstanding -= 1
            self.queued_changed.emit(self._outstanding)

    def _fail(
        self,
        operation: Operation,
        code: str,
        message: str,
        command: Command,
        alarm_id: int | None,
    ) -> None:
        logger.info("%s refused: %s %s", operation, code, message)
        self.command_failed.emit(CommandFailure(operation, str(code), message, alarm_id, command))

    def _succeed(
        self, operation: Operation, result: ResultData, action: AlarmAction | None
    ) -> None:
        alarm: AlarmView | None = None
        if isinstance(result, AlarmResult):
            alarm = result.alarm
            # The matching event follows; the version check makes the order irrelevant.
            self.store.upsert(alarm)
        elif isinstance(result, UnitsResult):
            self.units = list(result.units)
            self.units_listed.emit(self.units)
        self.command_succeeded.emit(CommandSuccess(operation, alarm, action))
