"""The `logs` verb: a node's logs packed into one bounded archive (no Ray needed: fake session dirs)."""
import json
import os
import subprocess
import sys
import tarfile
import time


def _write(path, text, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _node(tmp_path, lib, cluster="c1"):
    storage = str(tmp_path / "s")  # short: Ray's temp dir is <storage>/ray
    temp = lib.temp_dir_for(cluster, storage)
    session = os.path.join(temp, "session_2026-01-01_00-00-00_000000_1")
    logs = os.path.join(session, "logs")
    _write(os.path.join(logs, "raylet.out"), "[2026-01-01 00:00:00,000 I 1 1] (raylet) main.cc:1: started\n"
           "[2026-01-01 00:00:01,000 E 1 1] (raylet) node_manager.cc:9: Failed to register worker\n")
    _write(os.path.join(logs, "gcs_server.out"), "ok\n")
    _write(os.path.join(logs, "worker-abc-01000000-1.err"), "Traceback (most recent call last):\n"
           "ValueError: boom\n")
    _write(os.path.join(logs, "dashboard.log"), "2026-01-01 00:00:00,000\tERROR head.py:1 -- agent died\n")
    os.symlink(session, os.path.join(temp, "session_latest"))
    _write(os.path.join(storage, "logs", "ray-start.log"), "$ ray start --head\nError: port taken\n")
    _write(os.path.join(storage, "state", "runtime.json"), json.dumps({"role": "head"}))
    _write(os.path.join(storage, "state", "auth_token"), "SECRET-TOKEN")
    return storage, logs


# what nokube sends with every logs request (its NODE_LIMITS)
BOUNDS = {"max_bytes": 20 * 1024 * 1024, "file_max_bytes": 4 * 1024 * 1024}


def _req(storage, **more):
    return {"cluster": "c1", "storage": storage, **BOUNDS, **more}


def _members(archive):
    with tarfile.open(archive) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def test_logs_packs_ray_and_nokube_logs_and_facts(tmp_path, lib):
    storage, _ = _node(tmp_path, lib)
    out = lib.verb_logs(_req(storage))
    assert out["ok"] and out["session"] == "session_2026-01-01_00-00-00_000000_1"
    files = _members(out["archive"])
    assert os.stat(out["archive"]).st_mode & 0o777 == 0o600
    assert set(files) >= {"ray/raylet.out", "ray/gcs_server.out", "ray/dashboard.log",
                          "ray/worker-abc-01000000-1.err", "nokube/ray-start.log", "nokube/state/runtime.json",
                          "facts.json"}
    # the token never leaves the node in a bundle
    assert not any("auth_token" in n for n in files)
    assert not any(b"SECRET-TOKEN" in v for v in files.values())
    facts = json.loads(files["facts.json"])
    assert facts["cpus"] >= 1 and facts["shm"]["path"] == "/dev/shm" and facts["storage_disk"]["total_bytes"] > 0
    assert facts["cut"] == [] and "CUT.txt" not in files
    # Ray's errors, most useful logs first
    assert out["key_lines"][0].startswith("nokube/ray-start.log: Error: port taken")
    assert any("ray/raylet.out: [2026-01-01 00:00:01,000 E 1 1]" in k for k in out["key_lines"])
    assert any(k.endswith("ValueError: boom") for k in out["key_lines"])
    assert any("agent died" in k for k in out["key_lines"])
    assert not any("started" in k for k in out["key_lines"])


def test_logs_redacts_the_token_wherever_a_log_holds_it(tmp_path, lib):
    storage, logs = _node(tmp_path, lib)
    _write(os.path.join(logs, "dashboard.log"), "ERROR header was Bearer SECRET-TOKEN\n")
    out = lib.verb_logs(_req(storage))
    files = _members(out["archive"])
    assert files["ray/dashboard.log"] == b"ERROR header was Bearer <the cluster token>\n"
    assert out["redacted"] == ["ray/dashboard.log"]
    assert not any("SECRET-TOKEN" in k for k in out["key_lines"])


def test_logs_bounded_keeps_the_newest_part_and_says_so(tmp_path, lib):
    storage, logs = _node(tmp_path, lib)
    _write(os.path.join(logs, "raylet.out"), "old line\n" * 1000 + "NEWEST\n")
    out = lib.verb_logs(_req(storage, max_bytes=3000, file_max_bytes=2000))
    files = _members(out["archive"])
    assert files["ray/raylet.out"].endswith(b"NEWEST\n") and len(files["ray/raylet.out"]) == 2000
    assert any(c.startswith("ray/raylet.out: kept the last 2000 of 9007 bytes") for c in out["cut"])
    assert "ray/raylet.out: kept the last 2000" in files["CUT.txt"].decode()
    assert out["omitted"] == []
    # a smaller budget: the rest of the logs is left out, by name
    out = lib.verb_logs(_req(storage, max_bytes=2000))
    files = _members(out["archive"])
    assert out["bytes"] == 2000 and files["ray/raylet.out"].endswith(b"NEWEST\n")
    assert "ray/gcs_server.out" in out["omitted"] and "ray/gcs_server.out: left out" in files["CUT.txt"].decode()
    assert json.loads(files["facts.json"])["omitted"] == out["omitted"]


def test_logs_since_skips_files_not_written_lately(tmp_path, lib):
    storage, logs = _node(tmp_path, lib)
    _write(os.path.join(logs, "old-thing.log"), "x\n", mtime=time.time() - 7200)
    out = lib.verb_logs(_req(storage, since_sec=600))
    assert "ray/old-thing.log" not in out["files"] and "ray/raylet.out" in out["files"]
    assert out["skipped_old"] == 1


def test_logs_without_a_session_still_gives_facts(tmp_path, lib):
    storage = str(tmp_path / "empty")
    out = lib.verb_logs(_req(storage))
    assert out["ok"] and out["session"] is None
    assert set(_members(out["archive"])) == {"facts.json"}


def test_logs_verb_over_the_protocol(tmp_path, lib, lib_path):
    storage, _ = _node(tmp_path, lib)
    p = subprocess.run([sys.executable, lib_path, "logs"], input=json.dumps(_req(storage)),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] and out["archive"].startswith(os.path.join(storage, "logs", "bundles", "logs-"))
    assert out["lib_version"] >= 1 and "ray/raylet.out" in out["files"]


def test_logs_without_its_bounds_is_refused_as_a_bug_not_filled_in(tmp_path, lib):
    storage, _ = _node(tmp_path, lib)
    try:
        lib.verb_logs({"cluster": "c1", "storage": storage, "max_bytes": 1000})
    except lib.Fail as e:
        assert e.error == "logs: the request has no 'file_max_bytes', which nokube always sends"
    else:
        raise AssertionError("a logs request without file_max_bytes was answered")
