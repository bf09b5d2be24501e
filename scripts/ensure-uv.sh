# Sourced by the other scripts: makes `uv` available, installing it from PyPI if needed.
if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found: installing it with pip (python3 -m pip install --user uv)" >&2
    python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
    export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
