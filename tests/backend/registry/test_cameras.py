"""The camera registry through the real server: who sees which camera, and the stream
addresses' credentials (delivered to authorized consoles, encrypted at rest, never logged)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.registry.cameras import CameraRegistry
from backend.registry.cameras import Error as CameraError
from backend.registry.files import load_cameras_csv
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.storage.models import CameraRecord
from realtime.protocol import CamerasResult, CameraView, ListCameras, Role
from tests.backend.conftest import open_console

SECRET = "s3cr3t-pw"
"""The password inside the test cameras' addresses; it must never show up anywhere."""


def camera(code: str, **fields: str | float) -> CameraView:
    values: dict[str, str | float] = {
        "name": f"摄像机 {code}",
        "lat": 32.25,
        "lon": 118.78,
        "stream_url": f"rtsp://admin:{SECRET}@10.0.0.8:554/{code}",
    }
    values.update(fields)
    return CameraView(id=0, code=code, **values)  # type: ignore[arg-type]


CAMERAS = [
    # Cameras lie where they stand (issue 14): these points are in the codes given.
    camera("NJ-PARK", jurisdiction="320111", agency="safety", lat=32.06, lon=118.63),
    camera("NJ-ROAD", jurisdiction="3201", agency="police", stream_url="http://10.0.0.9/v.mjpg"),
    camera("HZ-WEST", jurisdiction="330106", agency="safety", lat=30.27, lon=120.13),
    # At sea, outside every jurisdiction: unplaced, so only whole-area users see it.
    camera("PROVINCE", agency="safety", stream_url="/srv/clips/drill.mp4", lat=31.0, lon=124.5),
]


async def list_cameras(server: DutyDeskServer, username: str, password: str) -> list[CameraView]:
    console = await open_console(server, username, password)
    try:
        result = await console.client.request(ListCameras(req=""))
    finally:
        await console.close()
    assert isinstance(result, CamerasResult)
    return result.cameras


@pytest.fixture
async def cameras(server: DutyDeskServer) -> DutyDeskServer:
    """The server with the test cameras and users of two cities and one agency."""
    outcome = await server.cameras.import_cameras(CAMERAS)
    assert (outcome.added, outcome.updated) == (len(CAMERAS), 0)
    await server.users.add_user("nj-officer", "pw-nj-officer", Role.OFFICER, jurisdiction="3201")
    await server.users.add_user("hz-officer", "pw-hz-officer", Role.OFFICER, jurisdiction="3301")
    await server.users.add_user(
        "police-desk", "pw-police-desk", Role.AGENCY, agency="police", jurisdiction="32"
    )
    return server


async def test_an_officer_sees_the_cameras_of_their_area_with_working_addresses(
    cameras: DutyDeskServer,
) -> None:
    seen = await list_cameras(cameras, "nj-officer", "pw-nj-officer")
    # As for alarms and units, an empty jurisdiction is the whole area: not a city's.
    assert [c.code for c in seen] == ["NJ-PARK", "NJ-ROAD"]
    park = seen[0]
    assert park.stream_url == f"rtsp://admin:{SECRET}@10.0.0.8:554/NJ-PARK", "usable as given"
    assert (park.lat, park.lon, park.jurisdiction, park.agency) == (
        32.06,
        118.63,
        "320111",
        "safety",
    )
    road = seen[1]
    assert road.jurisdiction == "320116", "given 3201, placed deeper where it stands (六合区)"


async def test_an_officer_of_another_jurisdiction_does_not_see_them(
    cameras: DutyDeskServer,
) -> None:
    seen = await list_cameras(cameras, "hz-officer", "pw-hz-officer")
    assert [c.code for c in seen] == ["HZ-WEST"]


async def test_an_agency_desk_sees_only_its_agencys_cameras_in_its_area(
    cameras: DutyDeskServer,
) -> None:
    seen = await list_cameras(cameras, "police-desk", "pw-police-desk")
    assert [c.code for c in seen] == ["NJ-ROAD"]


async def test_the_whole_area_sees_every_camera(cameras: DutyDeskServer) -> None:
    seen = await list_cameras(cameras, "supervisor1", "pw-supervisor1")
    assert [c.code for c in seen] == ["HZ-WEST", "NJ-PARK", "NJ-ROAD", "PROVINCE"]
    assert seen[3].stream_url == "/srv/clips/drill.mp4"


async def test_addresses_are_encrypted_at_rest_and_never_logged(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await server.cameras.import_cameras(CAMERAS)
    await server.cameras.add(camera("EXTRA"))
    await list_cameras(server, "officer1", "pw-officer1")
    async with server.sessions() as session:
        records = list(await session.scalars(select(CameraRecord)))
    assert len(records) == len(CAMERAS) + 1
    for record in records:
        assert SECRET not in record.stream_url_enc
        assert SECRET not in record.stream_url_masked
    extra = next(record for record in records if record.code == "EXTRA")
    assert extra.stream_url_masked == "rtsp://***@10.0.0.8:554/EXTRA"
    assert SECRET not in caplog.text
    listed = await server.cameras.list_masked()
    assert [c.stream_url for c in listed if c.code == "NJ-PARK"] == [
        "rtsp://***@10.0.0.8:554/NJ-PARK"
    ]


async def test_import_updates_by_code_and_a_bad_row_changes_nothing(
    server: DutyDeskServer,
) -> None:
    await server.cameras.import_cameras(CAMERAS)
    moved = camera("NJ-PARK", jurisdiction="320111", agency="safety", lat=32.26)
    new_password = camera("NJ-ROAD", jurisdiction="3201", agency="police")
    outcome = await server.cameras.import_cameras([moved, new_password, CAMERAS[2]])
    assert (outcome.added, outcome.updated, outcome.unchanged) == (0, 2, 1)
    with pytest.raises(CameraError, match="latitude"):
        await server.cameras.import_cameras([camera("NEW-1"), camera("NEW-2", lat=95.0)])
    with pytest.raises(CameraError, match="must start with"):
        await server.cameras.import_cameras([camera("NEW-3", stream_url="ftp://x/y")])
    with pytest.raises(CameraError, match="more than once"):
        await server.cameras.import_cameras([camera("NEW-4"), camera("NEW-4")])
    with pytest.raises(CameraError, match="already registered"):
        await server.cameras.add(camera("NJ-PARK"))
    listed = {c.code: c for c in await server.cameras.list_masked()}
    assert sorted(listed) == ["HZ-WEST", "NJ-PARK", "NJ-ROAD", "PROVINCE"], "nothing added"
    assert listed["NJ-PARK"].lat == 32.26
    assert listed["NJ-ROAD"].stream_url == "rtsp://***@10.0.0.8:554/NJ-ROAD"
    await server.cameras.remove("NJ-PARK")
    with pytest.raises(CameraError, match="no camera NJ-PARK"):
        await server.cameras.remove("NJ-PARK")


async def test_an_address_encrypted_with_another_key_is_withheld_and_reported_once(
    server: DutyDeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = CameraRegistry(server.sessions, FieldCipher.generate())
    await foreign.add(camera("FOREIGN"))
    caplog.set_level(logging.WARNING, logger="backend.registry.cameras")
    for _ in range(2):
        seen = await list_cameras(server, "officer1", "pw-officer1")
        assert [(c.code, c.stream_url) for c in seen] == [("FOREIGN", "")]
    warnings = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1
    assert SECRET not in caplog.text


async def test_device_accounts_get_no_cameras(cameras: DutyDeskServer) -> None:
    principal = await cameras.users.add_user("feed-2", "pw-feed-2", Role.DEVICE)
    assert await cameras.cameras.visible_to(principal) == []


async def test_the_sample_cameras_are_registered_at_start(db_url: str, tmp_path: Path) -> None:
    samples = load_cameras_csv()
    assert len(samples) >= 5
    config = ServerConfig(
        db_url=db_url,
        data_dir=tmp_path,
        port=0,
        cipher=FieldCipher.generate(),
        seed_cameras=samples,
    )
    server = DutyDeskServer(config)
    await server.start()
    try:
        await server.users.add_user("officer1", "pw-officer1", Role.OFFICER)
        seen = await list_cameras(server, "officer1", "pw-officer1")
        assert sorted(c.code for c in seen) == sorted(c.code for c in samples)
        assert {c.code: c.stream_url for c in seen} == {c.code: c.stream_url for c in samples}
    finally:
        await server.close()
    # A restart keeps what is registered and adds nothing twice.
    server = DutyDeskServer(config)
    await server.start()
    try:
        assert len(await server.cameras.list_masked()) == len(samples)
    finally:
        await server.close()
