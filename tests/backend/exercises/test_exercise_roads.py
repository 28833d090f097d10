"""The drill map has the live server's roads: ``roads.get`` on an exercise connection
answers the live road layer (read where it is, never copied into the exercise's
database), including a layer imported while the run is open."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.cli.demo import DEMO_ROADS
from backend.roads.reader import Tally, read_roads
from backend.roads.service import replace_layer
from backend.server.app import DutyDeskServer
from backend.storage.models import RoadSegmentRow
from realtime.protocol import ExerciseResult, GetRoads, RoadsResult, Role, StartExercise
from tests.backend.conftest import open_console
from tests.backend.exercises.helpers import (
    open_exercise_console,
    save_recording,
    small_recording,
)
from tests.backend.roads.samples import write_osm_xml

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
DEMO_BOX = GetRoads(req="", min_lat=32.20, min_lon=118.73, max_lat=32.33, max_lon=118.92)


def _names(result: object) -> set[str]:
    assert isinstance(result, RoadsResult)
    return {line.name for group in result.classes for line in group.lines}


async def test_the_drill_map_gets_the_live_roads(server: DutyDeskServer, tmp_path: Path) -> None:
    await replace_layer(server.sessions, read_roads(DEMO_ROADS, Tally()), source="demo")
    await server.users.add_user("trainer1", "pw-trainer1", Role.TRAINER)
    name = save_recording(server, small_recording(duration_s=600))
    trainer = await open_console(server, "trainer1", "pw-trainer1")
    try:
        started = await trainer.client.request(StartExercise(req="", recording=name))
        assert isinstance(started, ExerciseResult)
        run_id = started.run.run_id
        live_roads = _names(await trainer.client.request(DEMO_BOX))
        assert "宁六高速" in live_roads
        drill = await open_exercise_console(server, run_id, "trainer1", "pw-trainer1")
        try:
            assert _names(await drill.client.request(DEMO_BOX)) == live_roads
            instance = server.exercises.instance_of(run_id)  # type: ignore[union-attr]
            assert instance is not None
            assert instance.roads is server.roads
            async with instance.sessions() as session:
                copied = await session.scalar(select(func.count()).select_from(RoadSegmentRow))
            assert copied == 0
            # A layer imported into the live server while the run is open: the drill's too.
            path = write_osm_xml(tmp_path / "new.osm")
            await replace_layer(server.sessions, read_roads(path, Tally()), source="new")
            renewed = _names(await drill.client.request(DEMO_BOX))
            assert "化工大道" in renewed
            assert "宁六高速" not in renewed
        finally:
            await drill.close()
    finally:
        await trainer.close()
