"""remote_lib fills in no default: a value the engine always sends (ports, lease, deadlines, timeouts)
missing from a request is an error answer naming the field and the verb, never a literal guessed here."""
import json
import os
import subprocess
import sys

import pytest


def answer(lib_path, verb, inp):
    p = subprocess.run([sys.executable, lib_path, verb], input=json.dumps(inp).encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def says_missing(out, verb, field):
    assert out["ok"] is False, out
    assert out["error"] == "%s: the request has no %r, which nokube always sends" % (verb, field)
    assert "bug" in out["hint"]


@pytest.fixture()
def running(lib, tmp_path):
    """A stand-in process of cluster c (its Ray temp dir as a flag value) and the head's runtime.json."""
    storage = str(tmp_path / "st")
    os.makedirs(os.path.join(storage, "state"))
    with open(os.path.join(storage, "state", "runtime.json"), "w") as f:
        json.dump({"role": "head", "python": sys.executable, "auth": "none", "dashboard_port": 8265,
                   "gcs_port": 6379}, f)
    temp = lib.temp_dir_for("c", storage)
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "--temp-dir=" + temp],
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield storage
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("field", ["dashboard_port", "gcs_port"])
def test_a_running_heads_status_needs_both_ports(lib_path, running, field):
    # runtime.json has both ports, yet nothing is read from it in their place
    ports = {"dashboard_port": 8265, "gcs_port": 6379}
    del ports[field]
    out = answer(lib_path, "status", dict(ports, cluster="c", storage=running, role="head", python=None))
    says_missing(out, "status", field)


def test_a_stopped_heads_status_needs_no_ports(lib_path, tmp_path):
    out = answer(lib_path, "status", {"cluster": "c", "storage": str(tmp_path / "st"), "role": "head", "python": None})
    assert out["ok"] and out["running"] is False


@pytest.mark.parametrize("field", ["dashboard_port", "gcs_port", "deadline_sec"])
def test_drain_needs_ports_and_deadline(lib_path, running, field):
    inp = {"cluster": "c", "storage": running, "python": None, "node_id": "ab12cd34ef", "deadline_sec": 5,
           "dashboard_port": 8265, "gcs_port": 6379}
    del inp[field]
    says_missing(answer(lib_path, "drain", inp), "drain", field)


def test_a_job_on_a_running_head_needs_the_dashboard_port(lib_path, running):
    for action in ("list", "submit"):
        out = answer(lib_path, "job", {"cluster": "c", "storage": running, "python": None, "action": action,
                                       "entrypoint": "true", "tail": 20})
        says_missing(out, "job", "dashboard_port")
    out = answer(lib_path, "job", {"cluster": "c", "storage": running, "python": None, "action": "submit",
                                   "entrypoint": "true", "dashboard_port": 8265})
    says_missing(out, "job", "tail")


def test_lock_needs_its_lease(lib, lib_path, tmp_path):
    inp = {"cluster": "c", "storage": str(tmp_path / "st"), "owner": "run-1"}
    says_missing(answer(lib_path, "lock", inp), "lock", "ttl_sec")
    assert not os.path.exists(os.path.join(str(tmp_path / "st"), "state", "lock.json"))  # nothing taken
    # in a probe too: the probe answers, its lock says what was missing
    out = lib.verb_probe({"cluster": "c", "storage": str(tmp_path / "st"), "role": "head", "ports": [],
                          "lock": {"owner": "run-1"}})
    assert out["ok"] and out["lock"]["ok"] is False
    assert out["lock"]["error"] == "lock: the request has no 'ttl_sec', which nokube always sends"


@pytest.mark.parametrize("field", ["base_python", "timeout_sec"])
def test_install_needs_its_interpreter_and_timeout(lib_path, tmp_path, field):
    inp = {"cluster": "c", "storage": str(tmp_path / "st"), "ray_version": "2.60.0", "extras": [],
           "base_python": sys.executable, "timeout_sec": 1800}
    del inp[field]
    says_missing(answer(lib_path, "install", inp), "install", field)
    assert not os.path.exists(str(tmp_path / "st" / "venvs" / "ray-2.60.0"))  # nothing made
