#!/usr/bin/env bash
# Sets up DutyDesk and runs the demo: a backend on a temporary embedded database, a
# simulated incident stream, and the console logged in as a demo officer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
bash .ci/bootstrap.sh
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
  echo "demo: no display found; starting the console on a virtual screen (Xvfb)" >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/dutydesk demo "$@"
fi
exec .venv/bin/dutydesk demo "$@"
