"""The registry as the console holds it: loads, live changes, filters, history, roles."""

from __future__ import annotations

import msgspec

from desktop.registry.state import (
    RegistryFilter,
    RegistryState,
    RegistryUpdate,
    may_edit,
    may_edit_item,
    value_at,
)
from realtime.event_kinds import EventKind
from realtime.protocol import Event, ItemKind, RegistryChangeAction, Role, UserInfo
from tests.desktop.registry.factories import AT, changed, shelter, team


def user(role: Role, jurisdiction: str = "", agency: str | None = None) -> UserInfo:
    return UserInfo(
        username=f"u-{role}-{jurisdiction}-{agency}",
        display_name="",
        role=role,
        jurisdiction=jurisdiction,
        agency=agency,
    )


def test_a_loaded_kind_is_filtered_by_jurisdiction_text_and_retirement() -> None:
    state = RegistryState()
    state.replace_kind(
        ItemKind.TEAM,
        [
            team("T-02", name="西湖消防救援站", jurisdiction="330106"),
            team("T-01"),
            team("T-03", name="已撤销队伍", retired=True),
        ],
    )
    state.replace_kind(ItemKind.SHELTER, [shelter()])
    every_team = RegistryFilter(ItemKind.TEAM, include_retired=True)
    assert [item.code for item in state.matching(every_team)] == ["T-01", "T-02", "T-03"]
    assert [item.code for item in state.matching(RegistryFilter(ItemKind.TEAM))] == [
        "T-01",
        "T-02",
    ]
    assert [i.code for i in state.matching(RegistryFilter(ItemKind.TEAM, "330108"))] == ["T-01"]
    assert [i.code for i in state.matching(RegistryFilter(ItemKind.TEAM, text="西湖 t-0"))] == [
        "T-02"
    ]
    assert state.jurisdictions(ItemKind.TEAM) == ["330106", "330108"]
    assert ItemKind.TEAM in state.loaded_kinds
    assert ItemKind.EXPERT not in state.loaded_kinds
    # A reload replaces the kind: an item no longer listed (out of scope now) goes.
    state.replace_kind(ItemKind.TEAM, [team("T-01")])
    assert [item.code for item in state.items(ItemKind.TEAM)] == ["T-01"]
    assert [item.code for item in state.items(ItemKind.SHELTER)] == ["S-01"]


def test_a_live_change_updates_the_item_and_its_history_and_an_old_answer_does_not_undo_it() -> (
    None
):
    state = RegistryState()
    updates: list[RegistryUpdate] = []
    state.add_listener(updates.append)
    state.replace_kind(ItemKind.TEAM, [team(version=1)])
    state.set_history(ItemKind.TEAM, "T-01", [])
    updates.clear()

    assert state.apply_event(
        changed(team(version=2, members=30), 41, before={"details": {"members": 24}})
    )
    held = state.item(ItemKind.TEAM, "T-01")
    assert held is not None
    assert held.version == 2
    history = state.history(ItemKind.TEAM, "T-01")
    assert history is not None
    assert [change.seq for change in history] == [41]
    assert history[0].action is RegistryChangeAction.UPDATED
    assert value_at(history[0].before, "details.members") == 24
    assert value_at(history[0].after, "details.members") == 30
    assert updates == [RegistryUpdate(ItemKind.TEAM, "T-01")]

    # The same event again (a resync) is not a second change; an older copy is ignored.
    state.apply_event(changed(team(version=2, members=30), 41))
    assert len(state.history(ItemKind.TEAM, "T-01") or []) == 1
    assert not state.upsert(team(version=1, members=24))
    assert state.item(ItemKind.TEAM, "T-01").details.members == 30  # type: ignore[union-attr]

    # A new item arrives live, even of a kind not loaded yet.
    assert state.apply_event(changed(team("T-09", version=1), 42))
    assert state.item(ItemKind.TEAM, "T-09") is not None
    # Other events are not registry events.
    other = Event(seq=43, at=AT, kind=EventKind.REGISTRY_IMPORTED, actor="x")
    assert not state.apply_event(other)


def test_placed_items_are_those_with_a_place_not_retired() -> None:
    state = RegistryState()
    state.replace_kind(
        ItemKind.TEAM,
        [team("T-01"), team("T-02", lat=None, lon=None), team("T-03", retired=True)],
    )
    state.replace_kind(ItemKind.SHELTER, [shelter()])
    assert [item.code for item in state.placed()] == ["T-01", "S-01"] or [
        item.code for item in state.placed()
    ] == ["S-01", "T-01"]
    assert [item.code for item in state.placed([ItemKind.SHELTER])] == ["S-01"]


def test_another_login_forgets_the_items() -> None:
    state = RegistryState()
    state.set_user(user(Role.OFFICER))
    state.replace_kind(ItemKind.TEAM, [team()])
    state.set_user(user(Role.AGENCY, agency="fire"))
    assert state.items(ItemKind.TEAM) == []
    assert not state.loaded_kinds


def test_editing_controls_follow_role_jurisdiction_and_agency() -> None:
    item = team(jurisdiction="330108", agency="fire")
    assert may_edit_item(user(Role.OFFICER), item)
    assert may_edit_item(user(Role.SUPERVISOR, "3301"), item)
    assert not may_edit_item(user(Role.OFFICER, "330106"), item)
    assert may_edit_item(user(Role.AGENCY, "330108", "fire"), item)
    assert not may_edit_item(user(Role.AGENCY, "330108", "police"), item)
    assert not may_edit(user(Role.VIEWER))
    assert not may_edit(user(Role.TRAINER))
    assert not may_edit_item(None, item)
    assert not may_edit_item(user(Role.AGENCY), item)


def test_a_change_arriving_while_the_history_is_read_is_not_lost() -> None:
    state = RegistryState()
    state.replace_kind(ItemKind.TEAM, [team(version=1)])
    state.expect_history(ItemKind.TEAM, "T-01")
    state.apply_event(changed(team(version=2, members=30), 41))
    # The answer was written before the change: it holds only the creation.
    created = changed(team(version=1), 40, action=RegistryChangeAction.CREATED)
    assert not isinstance(created.registry_change, msgspec.UnsetType)
    state.set_history(
        ItemKind.TEAM, "T-01", [msgspec.structs.replace(created.registry_change, seq=40)]
    )
    history = state.history(ItemKind.TEAM, "T-01")
    assert history is not None
    assert [change.seq for change in history] == [40, 41]
