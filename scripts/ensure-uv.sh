# Sourced by the other scripts: makes the kit's pinned uv available, installing it from PyPI
# when it is missing or another version (pyproject.toml's required-version says which).
UV_VERSION="0.13.9"
export PATH="$(python3 -m site --user-base)/bin:$PATH"
if ! uv --version 2>/dev/null | grep -qx "uv ${UV_VERSION}\( .*\)\?"; then
    echo "installing uv ${UV_VERSION} with pip (python3 -m pip install --user uv==${UV_VERSION})" >&2
    python3 -m pip install --quiet --user "uv==${UV_VERSION}" \
        || python3 -m pip install --quiet "uv==${UV_VERSION}"
fi
