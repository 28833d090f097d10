"""Golden samples of the road layer's wire (``roads.get`` and its answer), merged into
:mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import msgspec

from realtime.protocol import GetRoads, RoadClass, RoadClassLines, RoadLine, RoadsResult

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "GetRoads": GetRoads(
        req="r-roads",
        min_lat=32.2,
        min_lon=118.73,
        max_lat=32.33,
        max_lon=118.92,
        min_class=RoadClass.TERTIARY,
        tolerance_m=12.5,
        max_points=20_000,
    ),
}

RESULTS: dict[str, msgspec.Struct] = {
    "roads": RoadsResult(
        classes=[
            RoadClassLines(
                road_class=RoadClass.TRUNK,
                lines=[RoadLine(name="沿江大道", points=[32.244, 118.74, 32.2402, 118.7511])],
            ),
            RoadClassLines(
                road_class=RoadClass.SERVICE,
                lines=[
                    RoadLine(
                        name="管廊巡检道",
                        points=[32.2533, 118.7955, 32.2606, 118.7936],
                        oneway=True,
                    )
                ],
            ),
        ],
        truncated=True,
        source="demo_roads.osm",
    ),
}
