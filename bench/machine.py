"""Name the machine a benchmark ran on: CPU model, cores, memory, GPU."""

from __future__ import annotations

import os
import platform


def machine_info() -> dict[str, object]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "gpu": gpu,
        "python": platform.python_version(),
        "torch": torch_version,
        "platform": platform.platform(),
    }
