#!/usr/bin/env bash
# Set-up: installs hse with every extra (plots, the FDEP reference, dev tools) and the test-only peer.
# pyirstdmetrics declares numpy<2 but runs on numpy 2.x, so it is installed without its pins.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e ".[plot,fdep,dev]"
python -m pip install -q --no-deps "pyirstdmetrics==1.0.2"
