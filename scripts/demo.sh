#!/usr/bin/env bash
# The main job: install the kit from its lock file, bring the stack up and exercise it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-uv.sh
uv sync --locked --quiet
exec uv run --locked strata demo "$@"
