#!/usr/bin/env bash
# Developer entry point.
#   ./dev.sh demo    set up (venv, Python deps, JS build) and run the demo
#   ./dev.sh test    set up with test deps (and Chromium) and run every check and test
#   ./dev.sh setup   set up only;   ./dev.sh build   rebuild recorder.js and the player
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

need() { command -v "$1" >/dev/null 2>&1 || { echo "dev.sh: $1 is required ($2)" >&2; exit 1; }; }

python_deps() {
  need "$PYTHON" "Python >= 3.11"
  need npm "Node >= 20"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || {
    echo "dev.sh: creating the venv failed; on Debian/Ubuntu: apt-get install python3-venv" >&2
    exit 1
  }
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".$1"
}

js_build() {
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
}

chromium() {
  command -v chromium >/dev/null 2>&1 && return
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
}

case "${1:-}" in
  setup) python_deps "" && js_build ;;
  build) js_build ;;
  demo)
    python_deps "" && js_build
    exec "$VENV/bin/replay-server" demo
    ;;
  test)
    python_deps "[test]" && js_build && chromium
    npm run --silent typecheck
    npm run --silent test
    "$VENV/bin/ruff" check
    "$VENV/bin/mypy"
    "$VENV/bin/lint-imports" --no-cache  # the package layers in .importlinter
    shift
    exec "$VENV/bin/pytest" "$@"
    ;;
  *) echo "usage: ./dev.sh demo|test|setup|build" >&2; exit 2 ;;
esac
