# `stop` deleting a cluster's GCS state from a real Redis (Debian's redis-server on a free loopback
# port), with and without a password: only that cluster's namespace goes, others stay.
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(not REDIS, reason="redis-server is not installed")


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(params=[None, "pw with spaces $1 *2"], ids=["no-password", "password"])
def redis(request, tmp_path):
    port = _free_port()
    argv = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp_path)]
    if request.param:
        argv += ["--requirepass", request.param]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = ["redis-cli", "-p", str(port)] + (["--no-auth-warning", "-a", request.param] if request.param else [])
    for _ in range(100):
        if subprocess.run(cli + ["PING"], capture_output=True).stdout.strip() == b"PONG":
            break
        time.sleep(0.05)
    try:
        yield {"address": "127.0.0.1:%d" % port, "password": request.param, "cli": cli}
    finally:
        p.kill()
        p.wait()


def _keys(redis):
    out = subprocess.run(redis["cli"] + ["--raw", "KEYS", "*"], capture_output=True, check=True).stdout
    return sorted(k for k in out.decode().split("\n") if k)


def _fill(redis, namespace, count):
    """Keys as Ray's GCS writes them: one hash per table, RAY<namespace>@<table>."""
    lines = "".join('HSET "RAY%s@TABLE_%d" k v\n' % (namespace, i) for i in range(count))
    subprocess.run(redis["cli"], input=lines.encode(), capture_output=True, check=True)


def test_deletes_only_the_clusters_namespace(lib, redis):
    _fill(redis, "prod", 1500)  # more than one SCAN batch
    _fill(redis, "prod2", 2)  # a namespace that starts like it
    _fill(redis, "other", 3)
    subprocess.run(redis["cli"] + ["SET", "unrelated", "1"], capture_output=True, check=True)
    out = lib.clear_namespace(redis["address"], redis["password"], "prod", 5)
    assert out == {"keys": 1500}
    left = _keys(redis)
    assert not [k for k in left if k.startswith("RAYprod@")]
    assert len([k for k in left if k.startswith("RAYprod2@")]) == 2
    assert len([k for k in left if k.startswith("RAYother@")]) == 3 and "unrelated" in left
    # again: nothing left to delete
    assert lib.clear_namespace(redis["address"], redis["password"], "prod", 5) == {"keys": 0}


def test_glob_characters_in_the_namespace_are_literal(lib, redis):
    _fill(redis, "a", 2)
    _fill(redis, "a*", 1)
    assert lib.clear_namespace(redis["address"], redis["password"], "a*", 5) == {"keys": 1}
    assert len(_keys(redis)) == 2


def test_a_wrong_password_is_named_not_shown(lib, redis):
    if not redis["password"]:
        out = lib.clear_namespace(redis["address"], "secret-xyz", "prod", 5)
        assert "has no password, but redis_password is set" in out["error"]
    else:
        _fill(redis, "prod", 2)
        out = lib.clear_namespace(redis["address"], "secret-xyz", "prod", 5)
        assert "refused the password (WRONGPASS)" in out["error"] and redis["address"] in out["error"]
        missing = lib.clear_namespace(redis["address"], None, "prod", 5)
        assert "needs a password (NOAUTH)" in missing["error"]
        assert len(_keys(redis)) == 2
    assert "secret-xyz" not in json.dumps(out)


def test_a_redis_that_is_down_is_an_error_naming_it(lib):
    port = _free_port()
    out = lib.clear_namespace("127.0.0.1:%d" % port, None, "prod", 2)
    assert out["error"] == ("the Redis at 127.0.0.1:%d (ray_spec.gcs_fault_tolerance.redis_address) cannot be "
                            "reached from the head: connection refused" % port)
    assert "RAYprod@*" in out["hint"]


def test_a_silent_redis_times_out(lib):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)  # accepts the connection (backlog) and never answers
    try:
        t0 = time.time()
        out = lib.clear_namespace("127.0.0.1:%d" % srv.getsockname()[1], "pw", "prod", 1)
        assert time.time() - t0 < 3
        assert "stopped answering" in out["error"] and "no answer within 1s" in out["error"]
    finally:
        srv.close()


def _head_storage(lib, tmp_path, redis, applied_redis=True):
    storage = str(tmp_path / "st")
    os.makedirs(os.path.join(storage, "state"))
    applied = {"cluster": "prod", "node": "head", "role": "head", "ray": {}}
    if applied_redis:
        applied["redis"] = {"address": redis["address"], "namespace": "prod"}
    with open(os.path.join(storage, "state", "applied.json"), "w") as f:
        json.dump(applied, f)
    if redis["password"]:
        lib.write_file_atomic(lib.password_path(storage), redis["password"], 0o600)
    return storage


def test_stop_of_the_head_clears_its_namespace(lib, redis, tmp_path):
    storage = _head_storage(lib, tmp_path, redis)
    _fill(redis, "prod", 4)
    _fill(redis, "other", 1)
    out = lib.verb_stop({"cluster": "prod", "storage": storage, "grace_sec": 1,
                         "clear_gcs_state": {"timeout_sec": 5}})
    assert out["ok"] and out["gcs_state"] == {"address": redis["address"], "namespace": "prod", "keys": 4}
    assert _keys(redis) == ["RAYother@TABLE_0"]
    assert not os.path.exists(lib.password_path(storage))  # the secret goes with the state


def test_stop_without_the_request_or_without_redis_leaves_it(lib, redis, tmp_path):
    storage = _head_storage(lib, tmp_path, redis)
    _fill(redis, "prod", 2)
    out = lib.verb_stop({"cluster": "prod", "storage": storage, "grace_sec": 1})  # a worker's stop, a restart
    assert "gcs_state" not in out and len(_keys(redis)) == 2
    plain = _head_storage(lib, tmp_path / "b", redis, applied_redis=False)
    out = lib.verb_stop({"cluster": "prod", "storage": plain, "grace_sec": 1, "clear_gcs_state": {"timeout_sec": 5}})
    assert "gcs_state" not in out and len(_keys(redis)) == 2


def test_stop_with_redis_down_still_stops(lib, tmp_path):
    port = _free_port()
    storage = _head_storage(lib, tmp_path, {"address": "127.0.0.1:%d" % port, "password": "pw"})
    out = lib.verb_stop({"cluster": "prod", "storage": storage, "grace_sec": 1, "clear_gcs_state": {"timeout_sec": 2}})
    assert out["ok"] is True
    assert "cannot be reached from the head" in out["gcs_state"]["error"]
    assert os.path.exists(lib.password_path(storage))  # kept for the next stop's try


def test_stop_needs_the_timeout(lib_path, tmp_path):
    p = subprocess.run(["python3", lib_path, "stop"], input=json.dumps(
        {"cluster": "prod", "storage": str(tmp_path / "st"), "grace_sec": 1, "clear_gcs_state": {}}).encode(),
        capture_output=True, timeout=60)
    out = json.loads(p.stdout)
    assert out["ok"] is False and "'timeout_sec'" in out["error"]
