"""The permission table in docs/protocol.md is rendered from the code, never written by
hand: the check fails as soon as the code and the document differ."""

from __future__ import annotations

from pathlib import Path

from backend.server import permission_docs


def test_docs_protocol_md_holds_the_current_tables() -> None:
    assert permission_docs.main(["--check"]) == 0, (
        "docs/protocol.md is stale: run python -m backend.server.permission_docs"
    )


def test_a_stale_document_is_caught_and_rendering_fixes_it(tmp_path: Path) -> None:
    doc = tmp_path / "protocol.md"
    doc.write_text(
        f"# Protocol\n\n{permission_docs.BEGIN}\n| old | table |\n{permission_docs.END}\n\nrest\n",
        encoding="utf-8",
    )
    assert permission_docs.main(["--check", "--doc", str(doc)]) == 1
    assert permission_docs.main(["--doc", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "| old | table |" not in text
    assert "| `alarm.share` | `SHARE_ALARMS` |" in text
    assert text.startswith("# Protocol\n\n"), "only what lies between the markers changes"
    assert text.endswith("\n\nrest\n")
    assert permission_docs.main(["--check", "--doc", str(doc)]) == 0


def test_a_document_without_markers_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "protocol.md"
    doc.write_text("# Protocol\n", encoding="utf-8")
    assert permission_docs.main(["--check", "--doc", str(doc)]) == 2
    assert doc.read_text(encoding="utf-8") == "# Protocol\n"
