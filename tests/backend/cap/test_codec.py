"""The CAP 1.2 codec: what we write is valid CAP and reads back the same; what others
send is read when valid and refused with a one-line reason when not (hostile XML too)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.cap.codec import MAX_CAP_BYTES, NAMESPACE, CapError, decode_alert, encode_alert
from backend.cap.model import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    Category,
    Certainty,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
)
from backend.cap.testing import assert_valid_cap, cap_schema_errors
from tests.backend.cap.samples import BEIJING, RING, SENT, chemical_leak


def test_a_full_alert_is_valid_cap_and_reads_back_the_same() -> None:
    data = encode_alert(chemical_leak())
    assert_valid_cap(data)
    assert decode_alert(data) == chemical_leak()
    text = data.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="')
    assert "<sent>2026-12-05T10:00:00+08:00</sent>" in text
    assert "&lt;橙色预警&gt; &amp; 疏散" in text


def test_elements_come_in_the_schema_order() -> None:
    text = encode_alert(chemical_leak()).decode()
    order = ["<identifier>", "<sender>", "<sent>", "<status>", "<msgType>", "<scope>",
             "<note>", "<references>", "<info>", "<language>", "<category>", "<event>",
             "<urgency>", "<severity>", "<certainty>", "<onset>", "<expires>",
             "<senderName>", "<headline>", "<description>", "<instruction>", "<web>",
             "<contact>", "<parameter>", "<area>", "<areaDesc>", "<polygon>", "<circle>",
             "<geocode>"]  # fmt: skip
    positions = [text.index(tag) for tag in order]
    assert positions == sorted(positions)


def test_times_are_whole_seconds_with_the_offset_and_utc_as_minus_zero() -> None:
    alert = dataclasses.replace(
        chemical_leak(),
        sent=dt.datetime(2026, 12, 5, 2, 0, 0, 999_999, tzinfo=dt.UTC),
        references=(),
    )
    text = encode_alert(alert).decode()
    # CAP 1.2 section 3.3.2: "The timezone for UTC MUST be represented as -00:00".
    assert "<sent>2026-12-05T02:00:00-00:00</sent>" in text
    assert decode_alert(text.encode()).sent == dt.datetime(2026, 12, 5, 2, tzinfo=dt.UTC)


def test_a_cancel_refers_to_the_alert_it_withdraws() -> None:
    cancel = CapAlert(
        identifier="dutydesk-2", sender="dd@example.org", sent=SENT, status=Status.ACTUAL,
        msg_type=MsgType.CANCEL, scope=Scope.PUBLIC,
        references=(CapReference("dd@example.org", "dutydesk-1", SENT - dt.timedelta(hours=1)),
                    CapReference("other@example.org", "x-9", SENT - dt.timedelta(hours=2))),
    )  # fmt: skip
    data = encode_alert(cancel)
    assert_valid_cap(data)
    assert b"dd@example.org,dutydesk-1,2026-12-05T09:00:00+08:00 other@" in data
    assert decode_alert(data) == cancel


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"identifier": "has space"}, "identifier must be"),
        ({"sender": "a,b"}, "sender must be"),
        ({"sent": dt.datetime(2026, 12, 5)}, "must carry its offset"),  # noqa: DTZ001
        ({"scope": Scope.RESTRICTED}, "needs its restriction"),
        ({"scope": Scope.PRIVATE}, "needs its addresses"),
    ],
)
def test_the_encoder_refuses_what_cap_does_not_allow(
    change: dict[str, object], reason: str
) -> None:
    with pytest.raises(CapError, match=reason):
        encode_alert(dataclasses.replace(chemical_leak(), **change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("area", "reason"),
    [
        (CapArea("x", polygons=(RING[:3],)), "at least 4 points"),
        (CapArea("x", polygons=((*RING[:3], (39.0, 116.0)),)), "first point must equal"),
        (CapArea("x", polygons=(((91.0, 1.0), (1.0, 1.0), (2.0, 2.0), (91.0, 1.0)),)),
         "out of range"),
        (CapArea("x", circles=((39.9, 116.4, -1.0),)), "radius"),
        (CapArea("x", circles=((39.9, float("nan"), 1.0),)), "out of range"),
    ],
)  # fmt: skip
def test_the_encoder_refuses_bad_shapes(area: CapArea, reason: str) -> None:
    info = dataclasses.replace(chemical_leak().infos[0], areas=(area,))
    with pytest.raises(CapError, match=reason):
        encode_alert(dataclasses.replace(chemical_leak(), infos=(info,)))


def test_characters_xml_cannot_carry_are_dropped_not_fatal() -> None:
    info = dataclasses.replace(chemical_leak().infos[0], description="a\x00b\x1bc\ud800d")
    data = encode_alert(dataclasses.replace(chemical_leak(), infos=(info,)))
    assert_valid_cap(data)
    assert decode_alert(data).infos[0].description == "abcd"


def _alert_xml(body: str, namespace: str = NAMESPACE) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{namespace}">{body}</alert>'
    ).encode()


HEADER = (
    "<identifier>x-1</identifier><sender>s@example.org</sender>"
    "<sent>2026-12-05T10:00:00+08:00</sent><status>Actual</status>"
    "<msgType>Alert</msgType><scope>Public</scope>"
)
INFO = (
    "<info><category>Met</category><event>暴雨</event><urgency>Expected</urgency>"
    "<severity>Moderate</severity><certainty>Likely</certainty>{area}</info>"
)


def test_a_foreign_alert_is_read_skipping_what_we_do_not_model() -> None:
    data = _alert_xml(
        HEADER.replace("<scope>", "<source>气象台</source><scope>")
        + "<code>IPAWSv1.0</code><incidents>a b</incidents>"
        + "<info><category> Met </category><event>暴雨</event><responseType>Prepare"
        "</responseType><urgency>Expected</urgency><severity>Moderate</severity>"
        "<certainty>Likely</certainty><effective>2026-12-05T10:00:00+08:00</effective>"
        "<resource><resourceDesc>图</resourceDesc><mimeType>image/png</mimeType></resource>"
        "<area><areaDesc>全市</areaDesc><altitude>10</altitude></area></info>"
    )
    assert_valid_cap(data.replace(b" Met ", b"Met"))
    signed = data.replace(
        b"</alert>", b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></alert>'
    )
    alert = decode_alert(signed)
    info = alert.infos[0]
    assert (alert.identifier, info.event, info.categories) == ("x-1", "暴雨", (Category.MET,))
    assert info.language == "en-US"  # the schema's default when absent
    assert info.areas == (CapArea("全市"),)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not XML"),
        (b"\xff\xfe<alert/>", "not XML"),
        (b"<alert><identifier>x</alert>", "not XML"),
        (b"<alert/><alert/>", "not XML"),
        (_alert_xml(HEADER, "urn:oasis:names:tc:emergency:cap:1.1"), "wrong namespace"),
        (b"<alert><identifier>x</identifier></alert>", "not a CAP alert"),
        (_alert_xml(HEADER.replace("<sender>s@example.org</sender>", "")),
         "missing required element sender in alert"),
        (_alert_xml(HEADER.replace("Actual", "Real")), "bad status: 'Real'"),
        (_alert_xml(HEADER.replace("Public", "public")), "bad scope"),
        (_alert_xml(HEADER.replace("+08:00", "Z")), "bad sent"),
        (_alert_xml(HEADER.replace("10:00:00+", "10:00:00.5+")), "bad sent"),
        (_alert_xml(HEADER.replace("12-05", "13-05")), "bad sent"),
        (_alert_xml(HEADER + "<references>a,b</references>"), "bad references"),
        (_alert_xml(HEADER + INFO.format(area="").replace("<category>Met</category>", "")),
         "missing required element category in info"),
        (_alert_xml(HEADER + INFO.format(area="").replace("Likely", "Sure")), "bad certainty"),
        (_alert_xml(HEADER + INFO.format(
            area="<area><areaDesc>a</areaDesc><polygon>1,1 2,2 3,1 1,2</polygon></area>")),
         "bad polygon: a polygon's first point must equal its last"),
        (_alert_xml(HEADER + INFO.format(
            area="<area><areaDesc>a</areaDesc><polygon>1,1 2,2 1,1</polygon></area>")),
         "bad polygon: a polygon needs at least 4 points"),
        (_alert_xml(HEADER + INFO.format(
            area="<area><areaDesc>a</areaDesc><polygon>1,1 2,nan 3,1 1,1</polygon></area>")),
         "bad polygon: not a number"),
        (_alert_xml(HEADER + INFO.format(
            area="<area><areaDesc>a</areaDesc><circle>1,1</circle></area>")), "bad circle"),
        (_alert_xml(HEADER + INFO.format(area="<area><polygon/></area>")),
         "missing required element areaDesc in area"),
    ],
)  # fmt: skip
def test_the_decoder_refuses_broken_documents_with_a_one_line_reason(
    data: bytes, reason: str
) -> None:
    with pytest.raises(CapError, match=reason) as caught:
        decode_alert(data)
    assert "\n" not in str(caught.value)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE alert [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&secret;</note></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused_before_anything_is_expanded(data: bytes) -> None:
    with pytest.raises(CapError, match="refused: a DOCTYPE"):
        decode_alert(data)


def test_an_undeclared_entity_is_not_xml() -> None:
    with pytest.raises(CapError, match="not XML: undefined entity"):
        decode_alert(_alert_xml(HEADER.replace("x-1", "&secret;")))


def test_an_oversized_document_is_refused_unread() -> None:
    data = _alert_xml(HEADER + "<note>" + "x" * MAX_CAP_BYTES + "</note>")
    with pytest.raises(CapError, match="document too large"):
        decode_alert(data)


def test_the_schema_helper_catches_what_the_schema_forbids() -> None:
    bad = encode_alert(chemical_leak()).replace(b"<status>Actual", b"<status>Real")
    assert cap_schema_errors(bad)
    with pytest.raises(AssertionError, match=r"not valid CAP 1\.2"):
        assert_valid_cap(bad)


# --- round trip (hypothesis) -----------------------------------------------------------

_xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\t\n\r"),
    max_size=40,
)
_token = st.text(
    st.characters(whitelist_categories=("L", "N", "P", "S"), blacklist_characters=",<&"),
    min_size=1,
    max_size=20,
)
_times = st.datetimes(
    min_value=dt.datetime(1900, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([BEIJING, dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
).map(lambda value: value.replace(microsecond=0))
_lat = st.floats(-90, 90, allow_nan=False)
_lon = st.floats(-180, 180, allow_nan=False)
_point = st.tuples(_lat, _lon)
_polygons = st.lists(_point, min_size=3, max_size=6).map(lambda ring: (*ring, ring[0]))
_pairs = st.lists(st.tuples(_xml_text, _xml_text), max_size=2).map(tuple)
_areas = st.builds(
    CapArea,
    description=_xml_text,
    polygons=st.lists(_polygons, max_size=2).map(tuple),
    circles=st.lists(st.tuples(_lat, _lon, st.floats(0, 1e4)), max_size=2).map(tuple),
    geocodes=_pairs,
)
_infos = st.builds(
    CapInfo,
    language=st.sampled_from(["zh-CN", "en-US", "zh-Hans-CN"]),
    categories=st.lists(st.sampled_from(Category), min_size=1, max_size=3).map(tuple),
    event=_xml_text,
    urgency=st.sampled_from(Urgency),
    severity=st.sampled_from(Severity),
    certainty=st.sampled_from(Certainty),
    headline=_xml_text,
    description=_xml_text,
    instruction=_xml_text,
    sender_name=_xml_text,
    onset=st.none() | _times,
    expires=st.none() | _times,
    web=st.sampled_from(["", "https://example.org/a?b=1&c=2"]),
    contact=_xml_text,
    parameters=_pairs,
    areas=st.lists(_areas, max_size=2).map(tuple),
)
_alerts = st.builds(
    CapAlert,
    identifier=_token,
    sender=_token,
    sent=_times,
    status=st.sampled_from(Status),
    msg_type=st.sampled_from(MsgType),
    scope=st.just(Scope.RESTRICTED),
    restriction=_xml_text.filter(bool),
    addresses=_xml_text,
    note=_xml_text,
    references=st.lists(st.builds(CapReference, _token, _token, _times), max_size=2).map(tuple),
    infos=st.lists(_infos, max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(_alerts)
def test_every_alert_round_trips_and_is_valid(alert: CapAlert) -> None:
    data = encode_alert(alert)
    assert_valid_cap(data)
    assert decode_alert(data) == alert
