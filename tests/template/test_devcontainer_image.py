"""The dev container image recipe: hadolint-clean, pinned, one file for both flavours."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ..helpers.templates import KIT_ROOT, tool

DOCKERFILE = KIT_ROOT / "devcontainer" / "Dockerfile"


def hadolint(path: Path) -> list[dict[str, object]]:
    """hadolint's findings for ``path`` at every level, info included."""
    done = subprocess.run(
        [tool("hadolint"), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode in {0, 1}, done.stderr  # 1: findings at or above "info"
    findings: list[dict[str, object]] = json.loads(done.stdout)
    assert bool(findings) == (done.returncode == 1), done.stdout
    return findings


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each line that starts one (continuations ignored)."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^([A-Z]+)\s+(.*)$", line)
        if match:
            found.append((match[1], match[2]))
    return found


def arg_default(text: str, name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", text, re.MULTILINE)
    assert match, f"no ARG {name}"
    return match[1]


def resolve(text: str, image: str) -> str:
    """``${ARG} AS stage`` with the ARG's default in place."""
    name, _, stage = image.partition(" AS ")
    if name.startswith("${"):
        name = arg_default(text, name[2:-1])
    return f"{name} AS {stage}" if stage else name


def test_hadolint_finds_nothing_at_any_level() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_is_not_blind(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3009"} <= codes


def test_base_images_are_pinned_to_exact_tags() -> None:
    text = DOCKERFILE.read_text()
    stages = {args.split(" AS ")[1] for name, args in instructions(text) if " AS " in args}
    images = [args.split(" AS ")[0] for name, args in instructions(text) if name == "FROM"]
    images = [arg_default(text, i[2:-1]) if i.startswith("${") else i for i in images]
    external = [image for image in images if image.split(":")[0] not in stages and "$" not in image]
    assert len(external) == 3, external  # uv, Ubuntu, CUDA
    for image in external:
        tag = image.partition(":")[2]
        assert tag and tag != "latest", image
        assert re.search(r"\d", tag), f"{image}: a moving tag, not an exact one"


def test_one_recipe_selects_cuda_or_cpu_by_build_argument() -> None:
    text = DOCKERFILE.read_text()
    froms = [args for name, args in instructions(text) if name == "FROM"]
    assert "base-${VARIANT} AS devcontainer" in froms
    cuda = resolve(text, next(args for args in froms if args.endswith(" AS base-cuda")))
    cpu = resolve(text, next(args for args in froms if args.endswith(" AS base-cpu")))
    # CUDA's *base* flavour: the framework wheels bring cuBLAS/cuDNN, so nothing twice.
    assert cuda.startswith("nvidia/cuda:") and "-base-" in cuda
    assert not re.search(r"-(runtime|devel|cudnn)", cuda)
    assert cpu.startswith("ubuntu:")
    assert arg_default(text, "VARIANT") in {"cpu", "cuda"}


def test_image_runs_as_a_non_root_user_with_uv_on_every_path() -> None:
    text = DOCKERFILE.read_text()
    users = [args for name, args in instructions(text) if name == "USER"]
    assert users[-1] == "${DEV_USER}"
    assert arg_default(text, "DEV_USER") not in {"root", "0"}
    assert "COPY --from=uv /uv /uvx /usr/local/bin/" in text
    assert 'uv python install "${PYTHON_VERSION}"' in text
    assert "UV_CACHE_DIR=/home/${DEV_USER}/.cache/uv" in text
