# The node's NVIDIA GPUs, for `init`'s first look (probe with "gpus": true): nvidia-smi when it is
# there (name and memory), else the driver's /proc/driver/nvidia/gpus (name only), else none.
import os

from .protocol import subprocess
from .node import _read, which


def _from_nvidia_smi(exe):
    try:
        p = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    gpus = []
    for line in p.stdout.decode(errors="replace").splitlines():
        name, _, mib = line.rpartition(",")
        if not name.strip():
            continue
        gpu = {"name": name.strip()}
        if mib.strip().isdigit():
            gpu["memory_bytes"] = int(mib.strip()) * 1024 * 1024
        gpus.append(gpu)
    return gpus


def _from_proc(root="/proc/driver/nvidia/gpus"):
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    gpus = []
    for entry in entries:
        text = _read(os.path.join(root, entry, "information")) or ""
        name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Model:")), "")
        gpus.append({"name": name or "NVIDIA GPU"})
    return gpus


def gpu_report(proc_root="/proc/driver/nvidia/gpus"):
    """{"gpus": [{name, memory_bytes?}], "source": "nvidia-smi" | "/proc/driver/nvidia" | None}"""
    exe = which("nvidia-smi")
    if exe:
        gpus = _from_nvidia_smi(exe)
        if gpus is not None:
            return {"gpus": gpus, "source": "nvidia-smi"}
    gpus = _from_proc(proc_root)
    return {"gpus": gpus, "source": "/proc/driver/nvidia" if gpus else None}
