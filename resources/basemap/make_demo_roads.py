"""Write demo_roads.osm: the demo's fictional street network around its chemical park
(南京市六合区 320116, lat 32.21-32.32, lon 118.74-118.91). Invented for DutyDesk, CC0.

The roads are polylines below; where two cross, both get the crossing as a shared node
(except the motorway, which passes over and joins only through its link). The arterials
follow the demo trucks' route (backend/cli/demo.py DEMO_ROUTE).

    python resources/basemap/make_demo_roads.py
"""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent
TARGET = HERE / "demo_roads.osm"

Point = tuple[float, float]

# (highway, name, tags, points (lat, lon), crosses others at grade)
ROADS: list[tuple[str, str, dict[str, str], list[Point], bool]] = [
    (
        "trunk",
        "沿江大道",
        {"maxspeed": "60", "ref": "S501"},
        [
            (32.2440, 118.7400),
            (32.2402, 118.7511),
            (32.2301, 118.7605),
            (32.2258, 118.7853),
            (32.2215, 118.8102),
            (32.2190, 118.8400),
            (32.2200, 118.8700),
        ],
        True,
    ),
    (
        "primary",
        "化工大道",
        {"maxspeed": "50"},
        [
            (32.2402, 118.7511),
            (32.2490, 118.7702),
            (32.2561, 118.7823),
            (32.2588, 118.7901),
            (32.2650, 118.8100),
        ],
        True,
    ),
    (
        "secondary",
        "园区二路",
        {},
        [(32.2640, 118.7850), (32.2588, 118.7901), (32.2533, 118.7955), (32.2480, 118.8010)],
        True,
    ),
    (
        "primary",
        "长河路",
        {"maxspeed": "50"},
        [(32.2533, 118.7955), (32.2374, 118.8029), (32.2215, 118.8102)],
        True,
    ),
    (
        "trunk",
        "六合大道",
        {"maxspeed": "70"},
        [(32.2100, 118.7990), (32.2466, 118.8012), (32.2800, 118.8030), (32.3150, 118.8050)],
        True,
    ),
    (
        "motorway",
        "宁六高速",
        {"maxspeed": "100", "ref": "S11"},
        [(32.2150, 118.7420), (32.2700, 118.7560), (32.3200, 118.7650)],
        False,
    ),
    (
        "motorway_link",
        "宁六高速 化工园互通",
        {"oneway": "no"},
        [(32.2700, 118.7560), (32.2680, 118.7700), (32.2620, 118.7760), (32.2561, 118.7823)],
        False,
    ),
    (
        "secondary",
        "雄州东路",
        {},
        [(32.2466, 118.7650), (32.2466, 118.8012), (32.2466, 118.8400)],
        True,
    ),
    (
        "tertiary",
        "滨江路",
        {},
        [(32.2300, 118.7450), (32.2350, 118.7450), (32.2440, 118.7480), (32.2550, 118.7600)],
        True,
    ),
    (
        "secondary",
        "东山路",
        {},
        [(32.2800, 118.8030), (32.2950, 118.8500), (32.3080, 118.8990), (32.3122, 118.9052)],
        True,
    ),
    ("residential", "新港路", {}, [(32.2500, 118.7880), (32.2500, 118.8012)], True),
    ("residential", "学府路", {}, [(32.2440, 118.7903), (32.2440, 118.8100)], True),
    (
        "tertiary",
        "建设路",
        {"oneway": "no"},
        [(32.2300, 118.7903), (32.2401, 118.7903), (32.2500, 118.7903)],
        True,
    ),
    (
        "service",
        "园区支路一",
        {},
        [(32.2561, 118.7823), (32.2576, 118.7846), (32.2594, 118.7907)],
        True,
    ),
    (
        "service",
        "管廊巡检道",
        {"oneway": "yes"},
        [(32.2533, 118.7955), (32.2539, 118.7960), (32.2606, 118.7936)],
        True,
    ),
    (
        "service",
        "矿区道路",
        {},
        [(32.3080, 118.8990), (32.3105, 118.9030), (32.3122, 118.9052)],
        True,
    ),
    ("residential", "东山村路", {}, [(32.3080, 118.8990), (32.3010, 118.8900)], True),
    ("unclassified", "物流园路", {}, [(32.2215, 118.8102), (32.2225, 118.8095)], True),
    ("footway", "滨江步道", {}, [(32.2380, 118.7560), (32.2330, 118.7640)], True),
]


def _crossing(a: Point, b: Point, c: Point, d: Point) -> Point | None:
    """Where segment a-b crosses c-d (their ends excluded), if it does."""
    (y1, x1), (y2, x2), (y3, x3), (y4, x4) = a, b, c, d
    denominator = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if denominator == 0:
        return None
    t = ((x1 - x3) * (y3 - y4) - (y1 - y3) * (x3 - x4)) / denominator
    u = -((x1 - x2) * (y1 - y3) - (y1 - y2) * (x1 - x3)) / denominator
    if 1e-9 < t < 1 - 1e-9 and 1e-9 < u < 1 - 1e-9:
        return (round(y1 + t * (y2 - y1), 6), round(x1 + t * (x2 - x1), 6))
    return None


def _split(roads: list[list[Point]], at_grade: list[bool]) -> list[list[Point]]:
    """Each road with every crossing with another at-grade road inserted as a vertex."""
    result = []
    for i, road in enumerate(roads):
        points: list[Point] = []
        for a, b in itertools.pairwise(road):
            points.append(a)
            found = []
            for j, other in enumerate(roads):
                if j == i or not (at_grade[i] and at_grade[j]):
                    continue
                for c, d in itertools.pairwise(other):
                    where = _crossing(a, b, c, d)
                    if where is not None:
                        found.append(where)
            found.sort(key=lambda p: (p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2)
            points.extend(found)
        points.append(road[-1])
        result.append(points)
    return result


def build() -> str:
    """The OSM XML text of the demo's roads."""
    polylines = _split([road[3] for road in ROADS], [road[4] for road in ROADS])
    node_ids: dict[Point, int] = {}
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        "<!-- Fictional street network for the DutyDesk demo (not OpenStreetMap data). CC0. "
        "Written by resources/basemap/make_demo_roads.py. -->",
        "<osm version='0.6' generator='dutydesk make_demo_roads.py'>",
        "  <bounds minlat='32.2000' minlon='118.7300' maxlat='32.3300' maxlon='118.9200'/>",
    ]
    for polyline in polylines:
        for point in polyline:
            key = (round(point[0], 6), round(point[1], 6))
            if key not in node_ids:
                node_ids[key] = len(node_ids) + 1
                lines.append(
                    f"  <node id='{node_ids[key]}' version='1' lat='{key[0]:.6f}' "
                    f"lon='{key[1]:.6f}'/>"
                )
    for way_id, ((highway, name, tags, _, _), polyline) in enumerate(
        zip(ROADS, polylines, strict=True), start=1
    ):
        lines.append(f"  <way id='{way_id}' version='1'>")
        for point in polyline:
            key = (round(point[0], 6), round(point[1], 6))
            lines.append(f"    <nd ref='{node_ids[key]}'/>")
        for key, value in {"highway": highway, "name": name, **tags}.items():
            lines.append(f"    <tag k={quoteattr(key)} v={quoteattr(value)}/>")
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(build(), encoding="utf-8")
