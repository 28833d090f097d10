"""The registry's pure rules: the credit code's check character (GB 32100-2015), masked
numbers sent back, the names of the fields a change touched."""

from __future__ import annotations

import pytest

from backend.errors import ValidationError
from backend.registry.item_fields import (
    CREDIT_CODE_CHARS,
    changed_fields,
    check_credit_code,
    credit_code_check_char,
    resolve_phones,
)
from realtime.protocol import Contact

VALID = "91350100M000100Y43"


def test_a_valid_credit_code_passes_and_is_upper_cased() -> None:
    assert credit_code_check_char(VALID[:17]) == VALID[17]
    assert check_credit_code(VALID.lower()) == VALID
    assert check_credit_code("  ") == ""


@pytest.mark.parametrize("position", range(17))
def test_any_single_typo_fails_the_check_character(position: int) -> None:
    char = VALID[position]
    typo = CREDIT_CODE_CHARS[(CREDIT_CODE_CHARS.index(char) + 1) % len(CREDIT_CODE_CHARS)]
    with pytest.raises(ValidationError, match="fails its check character"):
        check_credit_code(VALID[:position] + typo + VALID[position + 1 :])


@pytest.mark.parametrize(
    ("code", "reason"),
    [(VALID[:17], "18 characters, not 17"), (VALID[:16] + "IO", "'IO' cannot appear")],
)
def test_a_malformed_credit_code_says_what_is_wrong(code: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        check_credit_code(code)


def test_masked_numbers_sent_back_keep_the_stored_ones() -> None:
    stored = [Contact(name="甲", phone="13812345678"), Contact(name="乙", phone="13912345678")]
    incoming = [
        Contact(name="乙", phone="139****5678"),
        Contact(name="丙", phone="0571-88886666"),
    ]
    full = resolve_phones(incoming, stored)
    assert [c.phone for c in full] == ["13912345678", "0571-88886666"]
    with pytest.raises(ValidationError, match=r"details\.contacts\[0\]\.phone"):
        resolve_phones([Contact(phone="137****0000")], stored)


def test_the_changed_fields_are_named_down_to_the_details() -> None:
    before = {"name": "a", "details": {"type": "team", "members": 1, "capabilities": []}}
    after = {"name": "b", "details": {"type": "team", "members": 1, "capabilities": ["x"]}}
    assert changed_fields(before, after) == ["name", "details.capabilities"]
    assert changed_fields(None, after) == []
