"""Golden samples of the exercises' wire (``exercise.*`` commands, their answers, the live
life-cycle event and the marks an exercise connection carries), merged into
:mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    AlarmScore,
    ControlAction,
    ControlExercise,
    EarlierRun,
    Event,
    ExerciseLabel,
    ExerciseResult,
    ExerciseRunView,
    ExerciseScore,
    ExerciseScoreResult,
    ExercisesResult,
    ExerciseState,
    GetExerciseScore,
    InjectEvent,
    InjectKind,
    Limits,
    ListExercises,
    ListRecordings,
    PositionView,
    RecordingInfo,
    RecordingResult,
    RecordingSource,
    RecordingsResult,
    RecordWindow,
    Role,
    ScoreFigures,
    Snapshot,
    StartExercise,
    StopExercise,
    Telemetry,
    UserInfo,
    Welcome,
    exercise_console_path,
)

_AT = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)
_LATER = dt.datetime(2026, 12, 5, 2, 10, 0, tzinfo=dt.UTC)

_LABEL = ExerciseLabel(
    run_id="x7", title="罐区硫化氢泄漏演练", speed=10.0, state=ExerciseState.RUNNING
)

_RUN = ExerciseRunView(
    run_id="x7",
    recording="tank_farm_h2s_leak",
    title="罐区硫化氢泄漏演练",
    state=ExerciseState.RUNNING,
    speed=10.0,
    trainer="trainer1",
    participants=["officer1", "fire_desk"],
    jurisdiction="320111",
    started_at=_AT,
    position_s=312.5,
    duration_s=1800.0,
    exercise_time=_LATER,
    console_path=exercise_console_path("x7"),
    alarms=4,
    injected=1,
)

_RECORDING = RecordingInfo(
    name="tank_farm_h2s_leak",
    title="罐区硫化氢泄漏",
    source=RecordingSource.SCENARIO,
    description="储罐区法兰泄漏，硫化氢浓度逐级升高",
    window_from=_AT,
    window_to=_LATER,
    duration_s=600.0,
    devices=12,
    inputs=4810,
    alarms=0,
    masked=True,
    sources=["某化工企业硫化氢中毒事故调查报告（应急管理部门，2020）"],
)

_FIGURES = ScoreFigures(
    alarms=6,
    acknowledged=5,
    missed=1,
    late=1,
    acknowledge_p50_s=42.0,
    acknowledge_max_s=190.5,
    dispatch_p50_s=120.0,
    arrive_p50_s=None,
    close_p50_s=900.0,
    tasks=3,
    tasks_overdue=1,
    score=71.5,
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "ListRecordings": ListRecordings(req="x1"),
    "StartExercise": StartExercise(
        req="x2",
        recording="tank_farm_h2s_leak",
        speed=10.0,
        participants=["officer1", "fire_desk"],
        title="罐区硫化氢泄漏演练",
    ),
    "ListExercises": ListExercises(req="x3", include_ended=False),
    "ControlExercise": ControlExercise(
        req="x4", run_id="x7", action=ControlAction.SEEK, position_s=600.0
    ),
    "InjectEvent": InjectEvent(
        req="x5",
        run_id="x7",
        kind=InjectKind.TRUCK_SOS,
        target="013912345678",
        note="司机按下紧急按钮",
    ),
    "StopExercise": StopExercise(req="x6", run_id="x7"),
    "GetExerciseScore": GetExerciseScore(req="x7", run_id="x7"),
    "RecordWindow": RecordWindow(req="x8", from_at=_AT, to_at=_LATER, title="夜班罐区报警"),
}

RESULTS: dict[str, msgspec.Struct] = {
    "exercise_recordings": RecordingsResult(recordings=[_RECORDING]),
    "exercise_recording": RecordingResult(recording=_RECORDING),
    "exercise": ExerciseResult(run=_RUN),
    "exercises": ExercisesResult(runs=[_RUN]),
    "exercise_score": ExerciseScoreResult(
        score=ExerciseScore(
            run_id="x7",
            recording="tank_farm_h2s_leak",
            title="罐区硫化氢泄漏演练",
            ended=True,
            figures=_FIGURES,
            original=msgspec.structs.replace(_FIGURES, missed=0, late=0, score=88.0),
            earlier=[
                EarlierRun(run_id="x3", started_at=_AT, speed=1.0, figures=_FIGURES),
            ],
            alarms=[
                AlarmScore(
                    title="硫化氢浓度超限",
                    level=3,
                    alarm_type="sensor.threshold",
                    device="H2S-T101-01",
                    raised_offset_s=95.0,
                    acknowledge_s=42.0,
                    dispatch_s=120.0,
                    late=False,
                    missed=False,
                )
            ],
        )
    ),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "ExerciseWelcome": Welcome(
        protocol=1,
        server_version="0.1.0",
        session_token="tok",
        user=UserInfo(
            username="officer1",
            display_name="值班员一",
            role=Role.OFFICER,
            agency="",
            jurisdiction="320111",
        ),
        head_seq=3,
        limits=Limits(max_message_bytes=65536, rate_per_second=20.0, rate_burst=60),
        exercise=_LABEL,
    ),
    "ExerciseLifecycleEvent": Event(
        seq=501, at=_AT, kind="exercise.started", actor="trainer1", exercise_run=_RUN
    ),
    "ExerciseMarkedEvent": Event(
        seq=4, at=_LATER, kind="device.online", actor="system", exercise=_LABEL
    ),
    "ExerciseSnapshot": Snapshot(head_seq=3, alarms=[], exercise=_LABEL),
    "ExerciseTelemetry": Telemetry(
        positions=[PositionView(device="013912345678", at=_LATER, lat=32.25, lon=118.8)],
        exercise=_LABEL,
    ),
}
