"""``dutydesk serve --catalogue``: the server runs on the site's event catalogue (else
``$DUTYDESK_CATALOGUE``, else the shipped one); a file it cannot use stops the start with
the loader's words and exit code 2, before anything is opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli import serve
from backend.incidents.catalogue import PATH_ENV
from backend.security import FieldCipher
from backend.server.app import CatalogueUnusableError, DutyDeskServer
from backend.server.config import ServerConfig

SITE_CATALOGUE = {
    "version": 1,
    "areas": [
        {
            "code": "site",
            "name": {"zh": "本地", "en": "Site"},
            "categories": [
                {
                    "code": "river",
                    "name": {"zh": "河道", "en": "River"},
                    "items": [
                        {
                            "code": "river_blockage",
                            "name": {"zh": "河道堵塞", "en": "River blockage"},
                            "handling_level": "town",
                            "reports_straight_to_district": False,
                            "default_level": "IV",
                            "deadlines": {"accept": 30, "arrive": 120, "finish": 1440},
                        }
                    ],
                }
            ],
        }
    ],
}


def _serve(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DUTYDESK_DB", PATH_ENV)}
    command = [sys.executable, "-m", "backend", "serve", "--data-dir", str(tmp_path)]
    result = subprocess.run(
        [*command, "--port", "0", *options, "--log-level", "WARNING"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stderr.strip()


def test_a_broken_catalogue_stops_the_start_with_the_loader_s_message(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.json"
    broken.write_text('{"version": 1, "areas": [', encoding="utf-8")
    code, stderr = _serve(tmp_path, "--catalogue", str(broken))
    assert code == 2
    assert stderr.startswith(f"dutydesk serve: {broken}: "), stderr
    assert "JSON" in stderr
    assert len(stderr.splitlines()) == 1
    assert not (tmp_path / "dutydesk.db").exists(), "refused before the database was opened"


def test_the_environment_names_the_catalogue_when_no_option_does(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    code, stderr = _serve(tmp_path, env={PATH_ENV: str(missing)})
    assert code == 2
    assert (
        stderr
        == f"dutydesk serve: cannot read the event catalogue {missing}: No such file or directory"
    )


def test_the_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site.json"
    site.write_text(json.dumps(SITE_CATALOGUE, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv(PATH_ENV, str(tmp_path / "nowhere.json"))
    catalogue = serve._load_catalogue(site)
    assert catalogue is not None
    assert [item.code for item in catalogue.items()] == ["river_blockage"]
    monkeypatch.delenv(PATH_ENV)
    shipped = serve._load_catalogue(None)
    assert shipped is not None
    assert "hazchem_leak" in shipped


def test_the_server_uses_the_catalogue_it_is_given_and_refuses_a_bad_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site.json"
    site.write_text(json.dumps(SITE_CATALOGUE), encoding="utf-8")
    config = ServerConfig(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path,
        cipher=FieldCipher.generate(),
    )
    monkeypatch.setenv(PATH_ENV, str(site))
    assert "river_blockage" in DutyDeskServer(config).incidents.catalogue
    monkeypatch.setenv(PATH_ENV, str(tmp_path / "nowhere.json"))
    with pytest.raises(CatalogueUnusableError, match="cannot read the event catalogue"):
        DutyDeskServer(config)
