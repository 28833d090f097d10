"""The vehicle list's tick with many vehicles: what the console's GUI thread spends each
second keeping the list's ages and states current.

Unfiltered, the list computes only the rows the view shows (a screenful) and keeps its
sort order until vehicles are added; the peer in the same run is what a filtered list
(and every tick before) costs: every vehicle's row made and sorted. Run::

    .venv/bin/python bench/vehicle_list.py [--vehicles 20000] [--ticks 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QTableView

from desktop.vehicles.list_panel import VehicleTableModel
from desktop.vehicles.roster import VehicleRoster
from realtime.protocol import DeviceView, PositionView

logger = logging.getLogger("bench.vehicle_list")


def _roster(vehicles: int, now: dt.datetime) -> VehicleRoster:
    roster = VehicleRoster(clock=lambda: now)
    roster.set_devices(
        DeviceView(
            id=i, kind="jt808", identity=f"0139{i:08d}", name=f"危化 {i}", plate=f"苏A{i:05d}"
        )
        for i in range(vehicles)
    )
    roster.update_positions(
        PositionView(device=f"0139{i:08d}", at=now, lat=32.0, lon=118.8, speed_kmh=float(i % 90))
        for i in range(vehicles)
    )
    return roster


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    """Measure and print the list's tick against making every row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vehicles", type=int, default=20_000, help="vehicles in the list")
    parser.add_argument("--ticks", type=int, default=20, help="ticks measured")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = QApplication.instance() or QApplication([])
    now = dt.datetime.now(dt.UTC)
    roster = _roster(args.vehicles, now)
    model = VehicleTableModel(roster)
    view = QTableView()
    view.setModel(model)
    view.resize(900, 600)
    view.show()
    app.processEvents()
    ticks: list[float] = []
    for _ in range(args.ticks):
        started = time.perf_counter()
        model.refresh()
        view.viewport().repaint()
        ticks.append(time.perf_counter() - started)
    every_row: list[float] = []
    for _ in range(args.ticks):
        started = time.perf_counter()
        roster.filtered()
        every_row.append(time.perf_counter() - started)
    logger.info("vehicles: %s, ticks: %s", args.vehicles, args.ticks)
    logger.info("list tick (refresh + repaint):  %s", _ms(ticks))
    logger.info("peer, every row made:           %s", _ms(every_row))
    logger.info(
        "ratio (peer / tick, p50):       %.1f×",
        statistics.median(every_row) / statistics.median(ticks),
    )


if __name__ == "__main__":
    main()
