#!/usr/bin/env bash
# Set-up: a project virtual environment in .venv with hse and every extra (plots, the FDEP reference,
# the torch integration, dev tools), the test-only peer, and (when absent) a headless Chromium for the HTML tests.
# It touches nothing outside the project except installing Chromium from the OS packages when absent.
# pyirstdmetrics declares numpy<2 but runs on numpy 2.x, so it is installed without its pins.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q -e ".[plot,fdep,torch,dev]"
.venv/bin/python -m pip install -q --no-deps "pyirstdmetrics==1.0.2"
# Chromium for the browser tests (tests/test_html_browser.py), from the OS packages, only when it is needed
# (Playwright, from the dev extra, is installed to drive it) and absent ($HSE_CHROMIUM, chromium or
# chromium-browser). Playwright never downloads a browser of its own here.
have_browser() {
    if [ -n "${HSE_CHROMIUM:-}" ] && [ -x "${HSE_CHROMIUM}" ]; then return 0; fi
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}
if .venv/bin/python -c "import playwright.sync_api" >/dev/null 2>&1 && ! have_browser; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: no Chromium found and cannot install it (not root / no apt-get): the browser tests will be skipped" >&2
    fi
fi
