"""The data key ring and the masks of personal data (backend.security), and the hourly
reveal limit (backend.alarms.reveals)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from backend.alarms.reveals import RevealLimit
from backend.security import (
    Error,
    FieldCipher,
    MissingKeyError,
    key_file_path,
    mask_address,
    mask_name,
    next_key_id,
    parse_keys,
    read_key_file,
    write_key_file,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王", "*"), (" Li Lei ", "L*****"), ("", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert mask_name(masked) == masked, "a masked name masks to itself (old events)"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("浙江省杭州市西湖区文三路90号3幢201室", "浙江省杭州市西湖区文三路****"),
        ("西湖区北山街道曙光路12号", "西湖区北山街道****"),
        ("江宁区秣陵镇东旺社区8组", "江宁区秣陵镇****"),
        ("长安大道88号", "长安大道****"),
        ("南京市玄武区", "南京市玄武区"),
        ("星河湾小区5栋", "****"),
        ("", ""),
    ],
)
def test_mask_address_keeps_the_district_or_street_only(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_ciphertext_names_its_key_and_a_ring_reads_every_key_it_holds() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = FieldCipher(old)
    legacy = Fernet(old).encrypt(b"13800000000").decode()
    written = before.encrypt("13800000000")
    assert written.startswith("k0:")
    assert FieldCipher.key_id_of(legacy) == "k0"
    ring = FieldCipher(keys=[("k0", old), ("k1", new)])
    assert (ring.primary_id, ring.key_ids, ring.path) == ("k1", ["k0", "k1"], None)
    assert ring.decrypt(legacy) == ring.decrypt(written) == "13800000000"
    again = ring.reencrypt(written)
    assert again is not None
    assert again.startswith("k1:")
    assert ring.reencrypt(again) is None
    assert ring.reencrypt("") is None
    with pytest.raises(Error, match="k1 is not in the ring"):
        before.decrypt(again)
    with pytest.raises(Error, match="wrong or rotated key"):
        FieldCipher(new).decrypt(written)
    with pytest.raises(Error, match="one key or a ring"):
        FieldCipher()
    with pytest.raises(Error, match="not a valid Fernet key"):
        FieldCipher(keys=[("k1", b"short")])
    with pytest.raises(Error, match="no data key"):
        FieldCipher(keys=[])


def test_key_file_format_and_errors(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    assert parse_keys(key.decode(), origin="f") == [("k0", key)]
    assert parse_keys(f"# c\n\nk1 {key.decode()}\n", origin="f") == [("k1", key)]
    for bad, message in (
        ("", "holds no key"),
        ("k1 a b", "line 1"),
        ("key1 abc", "line 1"),
        (f"k1 {key.decode()}\nk1 {key.decode()}", "appears twice"),
    ):
        with pytest.raises(Error, match=message):
            parse_keys(bad, origin="f")
    path = tmp_path / "keys" / "ring"
    write_key_file(path, [("k1", key)])
    assert read_key_file(path) == [("k1", key)]
    assert next_key_id(["k0", "k9", "k2"]) == "k10"
    assert next_key_id([]) == "k1"


def test_key_file_location_creation_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUTYDESK_SECRET_KEY", raising=False)
    monkeypatch.delenv("DUTYDESK_KEY_FILE", raising=False)
    with pytest.raises(MissingKeyError):
        FieldCipher.from_data_dir(tmp_path, create=False)
    made = FieldCipher.from_data_dir(tmp_path)
    assert (made.primary_id, made.path) == ("k1", tmp_path / "secret.key")
    elsewhere = tmp_path / "etc" / "dutydesk.keys"
    monkeypatch.setenv("DUTYDESK_KEY_FILE", str(elsewhere))
    assert key_file_path(tmp_path) == elsewhere
    assert FieldCipher.from_data_dir(tmp_path).path == elsewhere
    monkeypatch.setenv("DUTYDESK_SECRET_KEY", Fernet.generate_key().decode())
    from_env = FieldCipher.from_data_dir(tmp_path)
    assert (from_env.primary_id, from_env.path) == ("k0", None)


def test_a_ring_whose_file_went_bad_says_so_once_and_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("DUTYDESK_SECRET_KEY", raising=False)
    monkeypatch.delenv("DUTYDESK_KEY_FILE", raising=False)
    ring = FieldCipher.from_data_dir(tmp_path)
    foreign = FieldCipher(keys=[("k7", Fernet.generate_key())]).encrypt("x")
    (tmp_path / "secret.key").write_text("garbage here too\n", encoding="ascii")
    with caplog.at_level(logging.WARNING), pytest.raises(Error, match="k7 is not in the ring"):
        ring.decrypt(foreign)
    assert "cannot re-read the data keys" in caplog.text


def test_reveal_limit_is_a_sliding_window_per_user() -> None:
    limit = RevealLimit(2, window=60.0)
    assert limit.allow("a", 0.0)
    assert limit.allow("a", 10.0)
    assert not limit.allow("a", 20.0)
    assert limit.retry_after("a", 20.0) == 40.0
    assert limit.first_refusal("a")
    assert not limit.first_refusal("a")
    assert limit.allow("b", 20.0), "each user has their own allowance"
    assert limit.retry_after("b", 20.0) == 0.0
    assert limit.allow("a", 60.0), "the first reveal left the window"
    assert limit.first_refusal("a"), "a new spell after an allowed reveal"
    with pytest.raises(ValueError, match="at least one"):
        RevealLimit(0)
