#!/usr/bin/env bash
# One idempotent set-up for `make demo` and `make test`: virtual environment,
# dependencies, a browser Playwright can drive, and Xvfb for headed tests.
# It says what it did; it never asks a question.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
VENV=.venv
STAMP=$VENV/.setup-stamp

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "installing Debian/Ubuntu package(s): $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/tmp/onboard-apt.log 2>&1 && return 0
  as_root apt-get update -q >/tmp/onboard-apt.log 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>/tmp/onboard-apt.log 2>&1
}

# 1. Python >= 3.11 and the virtual environment.
PY=""
for cand in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$cand" ] || continue
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PY=$cand; break
  fi
done
[ -n "$PY" ] || { echo "setup: Python >= 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi

# 2. Dependencies (re-installed only when pyproject.toml changed).
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # (pip's "Location ... is ignored" lines are noise from machine-wide index settings)
  "$VENV/bin/python" -m pip install -q -e '.[dev,replica]' 2>&1 | { grep -v '^WARNING: Location' || true; }
  touch "$STAMP"
else
  say "dependencies up to date"
fi

# 3. A browser: an existing Chrome/Chromium, else Playwright's download, else the distribution's.
if "$VENV/bin/python" -m agent.browser >/tmp/onboard-browser.log 2>&1; then
  say "$(cat /tmp/onboard-browser.log)"
else
  say "no working browser yet ($(tail -1 /tmp/onboard-browser.log)); trying 'playwright install chromium'"
  if timeout 300 "$VENV/bin/python" -m playwright install chromium >/tmp/onboard-pw.log 2>&1 \
     && "$VENV/bin/python" -m agent.browser >/tmp/onboard-browser.log 2>&1; then
    say "$(cat /tmp/onboard-browser.log)"
  else
    say "Playwright's download is not available here; trying the distribution's chromium"
    if [ "$(uname)" = Darwin ]; then
      echo "setup: on macOS install Google Chrome (or run 'playwright install chromium' with network access)" >&2; exit 1
    fi
    apt_install chromium || apt_install chromium-browser || {
      echo "setup: could not install a browser; install Chrome/Chromium and set ONBOARD_BROWSER=/path/to/it" >&2; exit 1; }
    "$VENV/bin/python" -m agent.browser >/tmp/onboard-browser.log 2>&1 || {
      cat /tmp/onboard-browser.log >&2; exit 1; }
    say "$(cat /tmp/onboard-browser.log)"
  fi
fi

# 3b. Headless runs (tests, ops, benchmarks) use Chromium's headless shell when it sits beside
# the browser, as Playwright does with its own build: 0.6-0.8 s less per onboarding here.
# The distribution packages it separately, pinned to the same version as its chromium.
if grep -q '^browser: system: /usr/bin/chromium (' /tmp/onboard-browser.log \
   && ! grep -q 'headless: ' /tmp/onboard-browser.log; then
  if apt_install chromium-headless-shell; then
    "$VENV/bin/python" -m agent.browser >/tmp/onboard-browser.log 2>&1 || {
      echo "setup: chromium-headless-shell does not start: $(tail -1 /tmp/onboard-browser.log);" \
        "remove it (apt-get remove chromium-headless-shell) or set ONBOARD_BROWSER" >&2; exit 1; }
    say "$(cat /tmp/onboard-browser.log)"
  else
    say "no chromium-headless-shell package here: headless runs use chromium itself"
  fi
fi

# 4. A display for headed runs: the real one, else Xvfb (Linux only).
if [ "${1:-}" = "--headed" ]; then
  if [ -n "${DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
    say "display: using the existing one"
  elif command -v xvfb-run >/dev/null; then
    say "display: xvfb-run available"
  else
    apt_install xvfb xauth || { echo "setup: headed tests need Xvfb (apt-get install xvfb)" >&2; exit 1; }
    say "display: installed Xvfb"
  fi
fi
