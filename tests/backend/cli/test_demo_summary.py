"""The demo's closing summary counts what the officer's queue shows, by source, from what
the server answers (not how many messages the scripted feed sent)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest

from backend.cli.demo import DEMO_OFFICER, DemoFeed, load_scenario, queue_by_source, summary_line
from backend.server.embedded import ServerThread
from realtime.protocol import CreateAlarm, Role
from realtime.states import AlarmLevel


def test_the_summary_counts_every_alarm_of_the_queue_by_source() -> None:
    scenario = load_scenario()
    device_password = secrets.token_urlsafe(12)
    users = [
        (DEMO_OFFICER, secrets.token_urlsafe(12), Role.OFFICER),
        (scenario.device, device_password, Role.DEVICE),
    ]
    with ServerThread(users=users, seed_units=False) as server:
        feed = DemoFeed(
            server.device_url,
            scenario.device,
            device_password,
            scenario,
            interval=0.01,
            loop_forever=False,
        )
        server.call(feed.run(), timeout=60)
        # An officer's phone report is in the queue too, under its own source.
        officer = server.add_user("desk2", "pw-desk2-officer", Role.OFFICER)
        server.call(
            server.server.alarms.create_manual(
                officer,
                CreateAlarm(
                    req="r1",
                    alarm_type="fire",
                    level=AlarmLevel.YELLOW,
                    title="居民楼冒烟",
                    place="文三路 100 号",
                ),
            )
        )
        counts = server.call(queue_by_source(server.server, DEMO_OFFICER))
        line = summary_line(server, feed.sent)

    distinct_keys = len({incident.key for incident in scenario.incidents})
    assert feed.sent == len(scenario.incidents)
    assert counts == {scenario.device: distinct_keys, "desk2": 1}
    total = distinct_keys + 1
    assert line.startswith(f"{total} alarms in the queue ({distinct_keys} from {scenario.device}")
    assert "1 from desk2" in line
    assert f"sent {feed.sent} reports" in line


def test_without_a_server_the_summary_says_what_it_knows(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    server = ServerThread(users=[], seed_units=False, data_dir=tmp_path)  # never started
    with caplog.at_level(logging.WARNING):
        line = summary_line(server, 3)
    assert line == "3 scripted alarms were sent"
    assert "cannot count the demo's alarms" in caplog.text
