#!/usr/bin/env bash
# Sets up everything DutyDesk needs on a fresh Debian 12 machine: the Debian packages Qt,
# the serial tests and PostgreSQL need (only those missing), a virtual environment in
# .venv, and the project installed into it in editable mode. Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# What Qt needs to run offscreen, on Xvfb and with sound; fonts for Chinese text;
# socat/ffmpeg/postgresql for the test suite (real serial ptys, video clips, a real server);
# nginx for the shipped reverse proxy configuration, tested for real (docs/deployment.md).
DEBIAN_PACKAGES=(
  libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libpulse0
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 xvfb xauth fonts-wqy-microhei
  python3-venv
)
if [[ "${DUTYDESK_WITH_TEST_TOOLS:-0}" == "1" ]]; then
  DEBIAN_PACKAGES+=(socat ffmpeg postgresql nginx)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
fi
if (( ${#missing[@]} )); then
  echo "dutydesk setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "dutydesk setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install.
stamp=".venv/.dutydesk-installed"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "dutydesk setup: installing Python packages into .venv" >&2
  # This machine's pip config lists extra package folders that may be absent; pip warns
  # about each one on every install. Keep the log readable, keep real errors.
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/python -m pip install -q -e ".[dev]" 2> >(grep -v "is ignored: it is neither" >&2)
  touch "$stamp"
fi
