"""Camera stream addresses: which are accepted, and masking their credentials."""

from __future__ import annotations

import pytest

from realtime.protocol import (
    CamerasResult,
    CameraView,
    ListCameras,
    Result,
    decode_console,
    decode_server,
    encode,
)
from realtime.streams import Error, is_url, mask_stream_url, mask_urls_in_text, validate_stream_url


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("rtsp://admin:pa55@10.1.2.3:554/Streaming/Channels/101", "rtsp://***@10.1.2.3:554/Streaming/Channels/101"),
        ("rtsp://admin@cam.example/ch1", "rtsp://***@cam.example/ch1"),
        ("rtsp://user:p%40ss@cam.example/a", "rtsp://***@cam.example/a"),
        ("rtsp://u:p@ss@cam.example/a", "rtsp://***@cam.example/a"),
        ("http://cam/video.cgi?user=admin&password=pa55&res=hd", "http://cam/video.cgi?user=admin&password=***&res=hd"),
        ("https://cam/live.flv?Token=abc", "https://cam/live.flv?Token=***"),
        ("rtsp://10.1.2.3/live", "rtsp://10.1.2.3/live"),
        ("/srv/clips/drill.mp4", "/srv/clips/drill.mp4"),
        ("file:///srv/clips/drill.mp4", "file:///srv/clips/drill.mp4"),
    ],
)  # fmt: skip
def test_masking_hides_credentials_and_keeps_the_rest(address: str, masked: str) -> None:
    assert mask_stream_url(address) == masked


def test_urls_inside_messages_are_masked() -> None:
    text = "cannot open rtsp://admin:pa55@10.1.2.3/ch1: 401 (tried http://a:b@h/x too)"
    assert mask_urls_in_text(text) == (
        "cannot open rtsp://***@10.1.2.3/ch1: 401 (tried http://***@h/x too)"
    )


def test_accepted_addresses() -> None:
    for address in ("rtsp://h/a", "RTSP://h/a", "rtsps://h/a", "http://h:8080/v", "https://h/v",
                    "file:///srv/a.mp4", "/srv/a.mp4"):  # fmt: skip
        assert validate_stream_url(f" {address} ") == address
    assert is_url("rtsp://h/a")
    assert not is_url("/srv/a.mp4")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "needs a stream address"),
        ("ftp://h/a", "must start with"),
        ("clips/a.mp4", "must start with"),
        ("rtsp:///a", "names no host"),
        ("rtsp://h/a b", "spaces"),
        ("rtsp://h/" + "a" * 1000, "at most 1000"),
    ],
)
def test_refused_addresses_say_why(address: str, reason: str) -> None:
    with pytest.raises(Error, match=reason):
        validate_stream_url(address)


def test_an_unhostable_address_is_named_masked_in_the_refusal() -> None:
    with pytest.raises(Error) as refused:
        validate_stream_url("rtsp://admin:pa55@/a")
    assert "pa55" not in str(refused.value)


def test_camera_messages_round_trip() -> None:
    assert decode_console(encode(ListCameras(req="r1"))) == ListCameras(req="r1")
    camera = CameraView(id=3, code="C1", name="北门", lat=32.26, lon=118.78, agency="safety",
                        stream_url="rtsp://a:b@h/c")  # fmt: skip
    result = Result(req="r1", data=CamerasResult(cameras=[camera]))
    assert decode_server(encode(result)) == result
