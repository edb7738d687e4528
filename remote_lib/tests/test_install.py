"""ray_spec.install's remote half (verb_install): the pip command, and installs that fail the ways a node
makes them fail (no venv module, pip's own error, disk full), each naming the command and pip's last
lines and leaving the Ray the node had before. The node's interpreter is a small script standing in for
a broken python3; no Ray, no network."""
import os
import stat

import pytest


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def storage(tmp_path):
    d = tmp_path / "storage"
    d.mkdir(mode=0o755)
    return str(d)


def previous_ray(lib, storage, version="2.59.0"):
    """A complete tool-installed venv of another version: the node's Ray before this install."""
    d = lib.venv_dir(storage, version)
    os.makedirs(os.path.join(d, "bin"))
    script(os.path.join(d, "bin", "python"), "exit 0\n")
    with open(os.path.join(d, lib.VENV_DONE), "w") as f:
        f.write("{}")
    return os.path.join(d, "bin", "python")


def test_pip_command_passes_index_and_links_and_trusts_plain_http_hosts(lib):
    argv = lib.pip_command("/v/bin/python", "2.60.0", ["default", "serve"], "http://10.0.0.1:8099/simple/",
                           "http://10.0.0.1/wheels")
    assert argv == ["/v/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                    "ray[default,serve]==2.60.0", "--index-url", "http://10.0.0.1:8099/simple/",
                    "--find-links", "http://10.0.0.1/wheels", "--trusted-host", "10.0.0.1"]
    # https needs no trust; no extras is plain `ray`
    argv = lib.pip_command("/v/bin/python", "2.60.0", [], "https://pypi.example.com/simple", "/srv/wheels")
    assert "ray==2.60.0" in argv and "--trusted-host" not in argv


def test_no_venv_module_names_the_command_and_python3_venv(lib, storage, tmp_path):
    before = previous_ray(lib, storage)
    py = script(tmp_path / "python3", "echo 'The virtual environment was not created successfully because "
                                      "ensurepip is not available.' >&2\nexit 1\n")
    out = lib.verb_install({"storage": storage, "ray_version": "2.60.0", "extras": ["default"], "base_python": py,
                            "timeout_sec": 1800})
    assert out["ok"] is False
    assert out["error"] == "making the venv failed (exit 1)"
    assert out["command"] == "%s -m venv %s" % (py, lib.venv_dir(storage, "2.60.0"))
    assert "ensurepip is not available" in out["log_tail"]
    assert "apt-get install python3-venv" in out["hint"]
    assert not os.path.exists(lib.venv_dir(storage, "2.60.0"))
    assert lib.installed_python(storage, "2.59.0") == before


def fake_python_whose_pip_says(tmp_path, message):
    """python3 whose `-m venv D` makes a venv whose python fails `-m pip install` with `message`."""
    inner = script(tmp_path / "venv-python", "echo \"%s\"\nexit 1\n" % message)
    return script(tmp_path / "python3", 'if [ "$1" = -m ] && [ "$2" = venv ]; then\n'
                                        '  mkdir -p "$3/bin" && cp %s "$3/bin/python"; exit 0\nfi\nexit 2\n' % inner)


def test_pip_error_names_the_pip_command_and_its_last_lines(lib, storage, tmp_path):
    before = previous_ray(lib, storage)
    py = fake_python_whose_pip_says(
        tmp_path, "ERROR: No matching distribution found for ray[default]==2.58.0")
    out = lib.verb_install({"storage": storage, "ray_version": "2.58.0", "extras": ["default"], "base_python": py,
                            "index_url": "http://10.0.0.1:8099/simple/", "timeout_sec": 1800})
    assert out["ok"] is False
    assert out["error"] == "pip install failed (exit 1): ray[default]==2.58.0 is not in the package sources"
    assert out["package"] == "ray[default]==2.58.0"
    assert out["command"].endswith(
        "/venvs/ray-2.58.0/bin/python -m pip install --disable-pip-version-check --no-input ray[default]==2.58.0 "
        "--index-url http://10.0.0.1:8099/simple/ --trusted-host 10.0.0.1")
    assert "No matching distribution found" in out["log_tail"]
    assert os.path.join(storage, "logs", "install-ray-2.58.0.log") in out["hint"]
    assert not os.path.exists(lib.venv_dir(storage, "2.58.0"))
    assert lib.installed_python(storage, "2.59.0") == before


def test_an_install_that_outlives_its_time_is_stopped_naming_the_bound_and_the_sources(lib, storage, tmp_path):
    before = previous_ray(lib, storage)
    # pip that never finishes (a package source that accepts and never answers)
    inner = script(tmp_path / "venv-python", "sleep 60\n")
    py = script(tmp_path / "python3", 'if [ "$1" = -m ] && [ "$2" = venv ]; then\n'
                                      '  mkdir -p "$3/bin" && cp %s "$3/bin/python"; exit 0\nfi\nexit 2\n' % inner)
    out = lib.verb_install({"storage": storage, "ray_version": "2.60.0", "extras": [], "base_python": py,
                            "installer": "pip", "find_links": "http://10.0.0.1:8099/files/", "timeout_sec": 2})
    assert out["ok"] is False
    assert out["error"] == ("pip install did not finish in time: stopped after 2 s, the bound of one node's install "
                            "(ray_spec.install.timeout)")
    assert out["hint"].startswith("check that the node reaches http://10.0.0.1:8099/files/ and that it answers, "
                                  "or raise ray_spec.install.timeout")
    assert "ray_spec.install.timeout, ran out" in out["log_tail"]
    assert not os.path.exists(lib.venv_dir(storage, "2.60.0"))
    assert lib.installed_python(storage, "2.59.0") == before


def test_disk_full_says_so(lib, storage, tmp_path):
    py = fake_python_whose_pip_says(
        tmp_path, "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device")
    out = lib.verb_install({"storage": storage, "ray_version": "2.60.0", "extras": [], "base_python": py,
                            "timeout_sec": 1800})
    assert out["ok"] is False
    assert "No space left on device" in out["log_tail"]
    assert out["hint"].startswith("the disk holding %s is full" % storage)


def test_a_complete_venv_of_that_version_installs_nothing(lib, storage, tmp_path):
    have = previous_ray(lib, storage, "2.60.0")
    py = script(tmp_path / "python3", "echo called >> %s\nexit 1\n" % (tmp_path / "calls"))
    out = lib.verb_install({"storage": storage, "ray_version": "2.60.0", "extras": ["default"], "base_python": py})
    assert out == {"ok": True, "installed": False, "python": have}
    assert not (tmp_path / "calls").exists()
