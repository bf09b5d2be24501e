#!/usr/bin/env bash
# The whole test suite: lint, typecheck, unit and end-to-end tests (real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-uv.sh
uv sync --locked --quiet
# The dev container CLI (npm, locked in package-lock.json) parses generated configurations.
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: install Node.js 18 or newer, then run this again." >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
exec uv run --locked nox "$@"
