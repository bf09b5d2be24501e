#!/usr/bin/env bash
# The whole test suite: lint, typecheck, unit and end-to-end tests (real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-uv.sh
uv sync --locked --quiet
exec uv run --locked nox "$@"
