"""Subcommands from the ``dutydesk.commands`` entry points: found, or refused clearly."""

from __future__ import annotations

import ast
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import backend
from backend.cli import external
from backend.cli.app import build_parser, main
from devices import decode_cli, gateway_cli

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=external.COMMANDS_GROUP)


def _declared() -> dict[str, str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    declared: dict[str, str] = project["entry-points"][external.COMMANDS_GROUP]
    return declared


def test_pyproject_declares_every_known_command() -> None:
    assert _declared() == {
        "desktop": "desktop.cli",
        "decode": "devices.decode_cli",
        "gateway": "devices.gateway_cli",
    }
    assert set(external.KNOWN_COMMANDS) == set(_declared())


def test_installed_entry_points_are_the_declared_ones() -> None:
    installed = {entry_point.name: entry_point.value for entry_point in external.installed()}
    assert installed == _declared(), "stale install metadata: run 'pip install -e .' again"


def test_declared_entry_points_register_and_run_their_subcommands() -> None:
    available = [_entry_point(name, value) for name, value in _declared().items()]
    parser = build_parser(available)
    assert parser.parse_args(["decode", "nmea", "$GPGGA"]).func is decode_cli.run
    assert (
        parser.parse_args(["gateway", "jt808", "--backend", "ws://h/device"]).func
        is gateway_cli.run
    )


@pytest.mark.parametrize(
    "available",
    [
        pytest.param([], id="entry point absent"),
        pytest.param([_entry_point("desktop", "desktop_not_installed.cli")], id="module missing"),
    ],
)
def test_a_missing_component_is_listed_and_refused(
    available: list[EntryPoint], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser(available)
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    assert "(desktop is not installed)" in capsys.readouterr().out
    args = parser.parse_args(["desktop"])
    assert args.func(args) == 2
    assert capsys.readouterr().err == (
        "dutydesk desktop: this installation lacks the desktop component\n"
    )


def test_an_unknown_entry_point_is_listed_too(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser([_entry_point("radio", "radio_not_installed.cli")])
    args = parser.parse_args(["radio"])
    assert args.func(args) == 2
    assert "lacks the radio component" in capsys.readouterr().err


def test_commands_refuse_without_the_installed_components(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(external, "installed", list)
    for command in ("desktop", "decode", "gateway"):
        assert main([command]) == 2
        assert f"lacks the {command} component" in capsys.readouterr().err
    # The demo needs the console: it says so before starting anything.
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == (
        "dutydesk demo: this installation lacks the desktop component\n"
    )


def test_the_backend_names_no_desktop_module() -> None:
    """import-linter sees imports; this catches a module path hidden in a string."""
    offenders = []
    for source in Path(backend.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("desktop.")
            ):
                offenders.append(f"{source}:{node.lineno}: {node.value!r}")
    assert offenders == []
