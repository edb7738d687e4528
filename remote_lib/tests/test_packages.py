"""The cluster's packages on a node (packages.py) and the installer's words (install.py): drift and Ray's
pins read from a real environment with Ray (the test machine's /opt/nokube-venv), sources limited to
find_links alone, a missing package and a conflict named from pip's and uv's own output, and Ray
started with its interpreter first on PATH."""
import os

import pytest

RAY_PY = os.environ.get("NOKUBE_VENV", "/opt/nokube-venv") + "/bin/python"
needs_ray = pytest.mark.skipif(not os.path.exists(RAY_PY), reason="no Ray venv at %s" % RAY_PY)


@needs_ray
def test_drift_and_pins_from_a_real_environment(lib):
    reqs = [{"name": "click", "version": "6.7"}, {"name": "PyYAML", "version": "6.0.4"}, {"name": "tabulate"}]
    found = lib.environment_packages(RAY_PY, reqs, ["default"])
    assert found["pins_checked"] is True
    assert found["conflicts"] == [{"name": "click", "version": "6.7", "ray_needs": ">=7.0", "by": "ray"}]
    assert {"click", "pyyaml", "aiohttp", "requests"} <= set(found["ray_deps"])
    drift = lib.package_drift(reqs, found)
    assert [(d["name"], d["state"], d["want"]) for d in drift] == [("click", "version", "6.7"), ("tabulate", "missing", None)]


def test_find_links_alone_asks_nothing_else(lib):
    assert lib.index_args(None, "http://10.0.0.1/wheels/") == [
        "--no-index", "--find-links", "http://10.0.0.1/wheels/", "--trusted-host", "10.0.0.1"]
    assert "--no-index" not in lib.index_args("https://pypi.example.com/simple", "/srv/wheels")
    argv = lib.uv_command("/v/bin/uv", "/v/bin/python", "2.60.0", ["default"], None, "http://10.0.0.1/w/", "/r.txt")
    assert argv == ["/v/bin/uv", "pip", "install", "--python", "/v/bin/python", "ray[default]==2.60.0", "-r", "/r.txt",
                    "--no-index", "--find-links", "http://10.0.0.1/w/", "--allow-insecure-host", "10.0.0.1"]
    # with hashes, pip checks every package: Ray's line comes from the file
    assert "ray==2.60.0" not in lib.pip_command("/v/bin/python", "2.60.0", [], None, "/w", "/r.txt", hashes=True)


def test_the_missing_package_and_the_conflict_are_named(lib):
    assert lib._missing_package("ERROR: No matching distribution found for nosuchpkg==1.0\n") == "nosuchpkg==1.0"
    assert lib._missing_package("  × No solution found when resolving dependencies:\n  ╰─▶ Because nosuchpkg was not "
                                "found in the package registry and you require nosuchpkg==1.0, we can conclude") == "nosuchpkg"
    pip = ("ERROR: Cannot install click==6.7 and ray[default]==2.60.0 because these package versions have conflicting "
           "dependencies.\n\nThe conflict is caused by:\n    The user requested click==6.7\n    ray 2.60.0 depends on "
           "click>=7.0\n\nTo fix this you could try to:\n")
    assert lib._conflict(pip) == "The user requested click==6.7; ray 2.60.0 depends on click>=7.0"


def test_ray_starts_with_its_interpreter_first_on_path(lib, tmp_path):
    venv = tmp_path / "v"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    env = lib.activated_env(str(venv / "bin" / "python"), "/home/u/.pyenv/shims:/usr/bin:%s/bin" % venv)
    assert env == {"PATH": "%s/bin:/home/u/.pyenv/shims:/usr/bin" % venv, "VIRTUAL_ENV": str(venv)}
    shims = tmp_path / "shims"
    shims.mkdir()
    for d in (shims, venv / "bin"):
        (d / "python").write_text("#!/bin/sh\n")
        os.chmod(d / "python", 0o755)
    assert lib.python_first(str(venv / "bin" / "python"), "%s:%s/bin" % (shims, venv)) == (False, str(shims / "python"))
    assert lib.python_first(str(venv / "bin" / "python"), env["PATH"].replace("/home/u/.pyenv/shims", str(shims)))[0] is True
