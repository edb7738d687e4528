"""`probe` with "gpus": nvidia-smi first, else /proc/driver/nvidia, else none."""
import os
import stat


def _fake_nvidia_smi(tmp_path, body):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "nvidia-smi"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir)


def test_nvidia_smi_names_each_gpu_and_its_memory(lib, tmp_path, monkeypatch):
    path = _fake_nvidia_smi(tmp_path, "echo 'NVIDIA A100-SXM4-40GB, 40960'\necho 'NVIDIA A100-SXM4-40GB, 40960'\n")
    monkeypatch.setenv("PATH", path + os.pathsep + os.environ["PATH"])
    report = lib.gpu_report(proc_root=str(tmp_path / "none"))
    assert report == {
        "source": "nvidia-smi",
        "gpus": [{"name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40960 * 1024 * 1024}] * 2,
    }


def test_the_driver_files_when_nvidia_smi_fails_or_is_missing(lib, tmp_path, monkeypatch):
    path = _fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9\n")
    monkeypatch.setenv("PATH", path + os.pathsep + os.environ["PATH"])
    gpu = tmp_path / "proc" / "0000:3b:00.0"
    gpu.mkdir(parents=True)
    (gpu / "information").write_text("Model: \t\t Tesla T4\nIRQ:   64\n")
    assert lib.gpu_report(proc_root=str(tmp_path / "proc")) == {
        "source": "/proc/driver/nvidia", "gpus": [{"name": "Tesla T4"}]}


def test_no_gpu(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert lib.gpu_report(proc_root=str(tmp_path / "none")) == {"source": None, "gpus": []}


def test_probe_reads_gpus_only_when_asked(lib, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.environ["PATH"])
    storage = str(tmp_path / "s")
    plain = lib.verb_probe({"cluster": "c", "storage": storage, "role": "worker", "ports": []})
    assert "gpus" not in plain
    asked = lib.verb_probe({"cluster": "c", "storage": storage, "role": "worker", "ports": [], "gpus": True})
    assert isinstance(asked["gpus"]["gpus"], list)
