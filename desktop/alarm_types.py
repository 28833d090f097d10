"""Names of every alarm type code the backend can raise, in the console's language.

The codes come from four places: an officer's phone report (:data:`MANUAL_ALARM_TYPES`
and the catalogue's types), the sensor rules (``sensor_<rule>``), the vehicle rules
(``vehicle_<rule>``) and the vehicles' own alarm bits (JT/T 808: ``vehicle_<bit name>``,
raised by the terminal or watched by a rule). ``tests/desktop/test_kind_labels.py``
collects them from the backend's tables and checks each has a name here in both
languages, so a new rule or bit cannot show as a raw code in the queue.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

MANUAL_ALARM_TYPES: tuple[str, ...] = (
    "fire",
    "hazmat_leak",
    "explosion",
    "traffic",
    "natural_disaster",
    "other",
)
"""Alarm type codes an officer can pick when entering a phone report, in menu order."""


def _labels() -> dict[str, str]:
    return {
        # Phone reports and scenario feeds.
        "fire": QCoreApplication.translate("Labels", "Fire"),
        "hazmat_leak": QCoreApplication.translate("Labels", "Hazardous chemical leak"),
        "explosion": QCoreApplication.translate("Labels", "Explosion"),
        "traffic": QCoreApplication.translate("Labels", "Traffic accident"),
        "natural_disaster": QCoreApplication.translate("Labels", "Natural disaster"),
        "other": QCoreApplication.translate("Labels", "Other"),
        "gas_leak": QCoreApplication.translate("Labels", "Gas leak"),
        "gas_overlimit": QCoreApplication.translate("Labels", "Gas over limit"),
        "overtemperature": QCoreApplication.translate("Labels", "Over temperature"),
        "overpressure": QCoreApplication.translate("Labels", "Over pressure"),
        "water_quality": QCoreApplication.translate("Labels", "Water quality"),
        "sos": QCoreApplication.translate("Labels", "SOS"),
        "overspeed": QCoreApplication.translate("Labels", "Overspeed"),
        # Sensor rules (sensor_<rule>).
        "sensor_threshold_high": QCoreApplication.translate("Labels", "Sensor reading above limit"),
        "sensor_threshold_low": QCoreApplication.translate("Labels", "Sensor reading below limit"),
        "sensor_rate_rise": QCoreApplication.translate("Labels", "Sensor reading rising fast"),
        "sensor_rate_fall": QCoreApplication.translate("Labels", "Sensor reading falling fast"),
        "sensor_offline": QCoreApplication.translate("Labels", "Sensor offline"),
        # Vehicle rules (vehicle_<rule>).
        "vehicle_sos": QCoreApplication.translate("Labels", "Vehicle SOS"),
        "vehicle_overspeed": QCoreApplication.translate("Labels", "Vehicle overspeed"),
        "vehicle_geofence_enter": QCoreApplication.translate("Labels", "Vehicle entered geofence"),
        "vehicle_geofence_exit": QCoreApplication.translate("Labels", "Vehicle left geofence"),
        "vehicle_no_go_zone": QCoreApplication.translate("Labels", "Vehicle in no-go zone"),
        "vehicle_route_deviation": QCoreApplication.translate("Labels", "Vehicle off route"),
        "vehicle_parking_overtime": QCoreApplication.translate("Labels", "Vehicle parked too long"),
        "vehicle_night_driving": QCoreApplication.translate("Labels", "Vehicle driving at night"),
        "vehicle_offline": QCoreApplication.translate("Labels", "Vehicle offline"),
        # The vehicle terminal's alarm bits (JT/T 808-2013 and -2019).
        "vehicle_emergency": QCoreApplication.translate("Labels", "Vehicle SOS"),
        "vehicle_fatigue_driving": QCoreApplication.translate("Labels", "Fatigue driving"),
        "vehicle_danger_warning": QCoreApplication.translate("Labels", "Danger warning"),
        "vehicle_gnss_module_fault": QCoreApplication.translate("Labels", "GNSS module fault"),
        "vehicle_gnss_antenna_open": QCoreApplication.translate(
            "Labels", "GNSS antenna disconnected"
        ),
        "vehicle_gnss_antenna_short": QCoreApplication.translate(
            "Labels", "GNSS antenna short circuit"
        ),
        "vehicle_main_power_undervoltage": QCoreApplication.translate(
            "Labels", "Terminal power low"
        ),
        "vehicle_main_power_lost": QCoreApplication.translate("Labels", "Terminal power lost"),
        "vehicle_lcd_fault": QCoreApplication.translate("Labels", "Terminal display fault"),
        "vehicle_tts_fault": QCoreApplication.translate("Labels", "Voice module fault"),
        "vehicle_camera_fault": QCoreApplication.translate("Labels", "Vehicle camera fault"),
        "vehicle_ic_card_module_fault": QCoreApplication.translate(
            "Labels", "IC card module fault"
        ),
        "vehicle_overspeed_prewarning": QCoreApplication.translate("Labels", "Overspeed warning"),
        "vehicle_fatigue_prewarning": QCoreApplication.translate(
            "Labels", "Fatigue driving warning"
        ),
        "vehicle_driving_violation": QCoreApplication.translate("Labels", "Driving violation"),
        "vehicle_tire_pressure_warning": QCoreApplication.translate(
            "Labels", "Tyre pressure warning"
        ),
        "vehicle_right_turn_blind_spot": QCoreApplication.translate(
            "Labels", "Right-turn blind spot alarm"
        ),
        "vehicle_daily_driving_overtime": QCoreApplication.translate(
            "Labels", "Daily driving time exceeded"
        ),
        "vehicle_area_in_out": QCoreApplication.translate(
            "Labels", "Vehicle entered or left an area"
        ),
        "vehicle_route_in_out": QCoreApplication.translate(
            "Labels", "Vehicle entered or left a route"
        ),
        "vehicle_road_section_time_abnormal": QCoreApplication.translate(
            "Labels", "Road section time too short or long"
        ),
        "vehicle_vss_fault": QCoreApplication.translate("Labels", "Vehicle speed sensor fault"),
        "vehicle_fuel_abnormal": QCoreApplication.translate("Labels", "Fuel level abnormal"),
        "vehicle_vehicle_stolen": QCoreApplication.translate("Labels", "Vehicle stolen"),
        "vehicle_illegal_ignition": QCoreApplication.translate("Labels", "Illegal ignition"),
        "vehicle_illegal_displacement": QCoreApplication.translate(
            "Labels", "Illegal displacement"
        ),
        "vehicle_collision_warning": QCoreApplication.translate("Labels", "Vehicle collision"),
        "vehicle_rollover_warning": QCoreApplication.translate("Labels", "Vehicle rollover"),
        "vehicle_collision_rollover": QCoreApplication.translate(
            "Labels", "Vehicle collision or rollover"
        ),
        "vehicle_illegal_door_open": QCoreApplication.translate("Labels", "Door opened illegally"),
    }


def known_alarm_types() -> frozenset[str]:
    """Every alarm type code this console has a name for."""
    return frozenset(_labels())


def alarm_type_label(alarm_type: str) -> str:
    """Return the name of an alarm type code; unknown codes are shown as they are."""
    labels = _labels()
    if alarm_type in labels:
        return labels[alarm_type]
    if alarm_type.startswith("vehicle_"):
        # Other terminal alarm bits: "Vehicle alarm: route_deviation" reads better than a code.
        return QCoreApplication.translate("Labels", "Vehicle alarm: {code}").format(
            code=alarm_type.removeprefix("vehicle_")
        )
    if alarm_type.startswith("sensor_"):
        return QCoreApplication.translate("Labels", "Sensor alarm: {code}").format(
            code=alarm_type.removeprefix("sensor_")
        )
    return alarm_type
