#!/usr/bin/env bash
# Sets up and runs DutyDesk's whole test suite: lint, format, types, layer contracts,
# then pytest on SQLite and on a real PostgreSQL server started here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
DUTYDESK_WITH_TEST_TOOLS=1 bash .ci/bootstrap.sh
# shellcheck source=/dev/null
source .ci/postgres.sh
export QT_QPA_PLATFORM=offscreen
export DUTYDESK_REQUIRE_PG=1
export DUTYDESK_REQUIRE_SERIAL=1
echo "== ruff check"; .venv/bin/ruff check .
echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== mypy --strict"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== pytest (with branch coverage; the floor is fail_under in pyproject.toml)"
.venv/bin/pytest --cov --cov-report=term:skip-covered "$@"
