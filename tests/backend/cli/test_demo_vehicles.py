"""The demo's orders to the SOS truck against a real server with its JT/T 808 gateway: the
supervisor gets the truck's position, then its doors locked after confirming."""

from __future__ import annotations

from backend.cli.demo_vehicles import SOS_TRUCK, VehicleOrders
from backend.server.embedded import ServerThread
from devices.jt808.simulator import SimulatedTruck, TruckPlan
from realtime.protocol import Role
from realtime.protocol.vehicle_commands import CommandOutcome


def test_the_supervisor_finds_the_sos_truck_and_locks_its_doors() -> None:
    with ServerThread(jt808=True, seed_units=False) as server:
        server.add_user("duty_supervisor", "pw-duty-supervisor", Role.SUPERVISOR)
        server.call(server.server.registry.add("jt808", SOS_TRUCK, "液氨槽车", plate="苏A·D00000"))
        truck = SimulatedTruck(SOS_TRUCK, "苏A·D00000", TruckPlan(interval_s=0.2))
        server.call(truck.connect("127.0.0.1", server.jt808_port))
        try:
            server.call(truck.report())
            orders = VehicleOrders(
                server.console_url,
                "duty_supervisor",
                "pw-duty-supervisor",
                pace=0.05,
                start_after=0.0,
            )
            position, locked = server.call(orders.run())
        finally:
            server.call(truck.close())

    assert position.outcome is CommandOutcome.ANSWERED
    assert position.position is not None
    assert locked.outcome is CommandOutcome.ANSWERED
    assert locked.position is not None
    assert locked.position.door_locked is True
    assert truck.orders.doors_locked
