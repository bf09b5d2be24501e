"""Which device training runs on, and a check that CUDA works when the machine has a GPU.

``python -m <package>.device`` (or ``nox -s gpu``; the dev container runs it once created)
prints the answer. It exits 1 when an NVIDIA GPU is exposed to this environment but CUDA
cannot use it (the failure worth stopping for), and 0 on a CPU-only machine, where
training simply runs on the CPU. ``--require-gpu`` makes a missing GPU an error too, for
GPU runners. It needs no GPU framework: it asks the NVIDIA driver (``libcuda``) directly,
and also reports what PyTorch sees when PyTorch is installed.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CUDA_DRIVER = "libcuda.so.1"
# Device nodes of an NVIDIA GPU: Linux (nvidia0, nvidia1, ...) and WSL 2 (dxg).
GPU_NODE_PATTERNS = ("nvidia[0-9]*", "dxg")

CPU_ONLY = (
    "No GPU is exposed to this environment: training runs on the CPU. "
    "For a GPU, open the project's dev container (cuda flavour) on a host with an NVIDIA "
    "driver and the NVIDIA Container Toolkit."
)
GPU_UNUSABLE = (
    "A GPU is exposed but CUDA cannot use it ({reason}). Check the host driver "
    "(`nvidia-smi` on the host), that the NVIDIA Container Toolkit is installed and Docker "
    "was restarted after installing it, and on WSL 2 that the Windows NVIDIA driver is "
    "current (do not install a Linux driver inside WSL)."
)


@dataclass(frozen=True)
class DeviceReport:
    """What this environment can train on."""

    gpu_exposed: bool
    cuda_devices: int
    reason: str
    torch: str | None = None

    @property
    def device(self) -> str:
        """``cuda`` when CUDA sees at least one device, else ``cpu``."""
        return "cuda" if self.cuda_devices > 0 else "cpu"

    @property
    def healthy(self) -> bool:
        """False only when a GPU is exposed but CUDA cannot use it."""
        return not self.gpu_exposed or self.cuda_devices > 0


def gpu_exposed(dev: Path = Path("/dev")) -> bool:
    """Whether an NVIDIA GPU device node is visible (the container runtime adds them)."""
    return any(any(dev.glob(pattern)) for pattern in GPU_NODE_PATTERNS)


def cuda_device_count(library: str = CUDA_DRIVER) -> tuple[int, str]:
    """Devices the CUDA driver API reports, and a reason when it reports none."""
    try:
        driver = ctypes.CDLL(library)
    except OSError:
        return 0, f"the CUDA driver library {library} is not loadable"
    status = driver.cuInit(0)
    if status != 0:
        return 0, f"cuInit returned CUDA error {status}"
    count = ctypes.c_int(0)
    status = driver.cuDeviceGetCount(ctypes.byref(count))
    if status != 0:
        return 0, f"cuDeviceGetCount returned CUDA error {status}"
    if count.value == 0:
        return 0, "the CUDA driver reports no device"
    return count.value, f"{count.value} CUDA device(s)"


def torch_summary() -> str | None:
    """What PyTorch sees, when it is installed in this environment."""
    if importlib.util.find_spec("torch") is None:
        return None
    torch = importlib.import_module("torch")
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__}: CUDA not available"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return f"PyTorch {torch.__version__}: CUDA available ({', '.join(names)})"


def detect(dev: Path = Path("/dev"), library: str = CUDA_DRIVER) -> DeviceReport:
    """Inspect this environment (no side effects)."""
    count, reason = cuda_device_count(library)
    return DeviceReport(gpu_exposed(dev), count, reason, torch_summary())


def explain(report: DeviceReport) -> str:
    """A few lines for people: the device, and what to do when it is not the expected one."""
    if report.device == "cuda":
        lines = [f"Training device: cuda ({report.reason})."]
    elif report.gpu_exposed:
        lines = [GPU_UNUSABLE.format(reason=report.reason)]
    else:
        lines = [CPU_ONLY]
    if report.torch:
        lines.append(report.torch)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; exit 1 when a GPU is unusable (or missing with --require-gpu)."""
    parser = argparse.ArgumentParser(description="Which device training runs on.")
    parser.add_argument(
        "--require-gpu", action="store_true", help="fail when training would run on the CPU"
    )
    args = parser.parse_args(argv)
    report = detect()
    print(explain(report))
    if not report.healthy or (args.require_gpu and report.device != "cuda"):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
