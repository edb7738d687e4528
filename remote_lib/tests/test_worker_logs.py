# Exited workers' logs of the live session kept under ray_spec.keep_dead_worker_logs, and Ray's log
# rotation given to `ray start` (ray_spec.log_rotation).
import os
import subprocess
import sys
import time

import pytest

WID = "3f" * 28  # a worker id as Ray writes it (56 hex digits)


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_worker_log_names(lib):
    assert lib.worker_log_key("worker-%s-01000000-4242.out" % WID) == (WID, 4242)
    assert lib.worker_log_key("worker-%s-01000000-4242.err.3" % WID) == (WID, 4242)
    assert lib.worker_log_key("worker-%s-ffffffff-17.err" % WID) == (WID, 17)
    assert lib.worker_log_key("io_worker-%s-99.out" % WID) == (WID, 99)
    assert lib.worker_log_key("python-core-worker-%s_4242.log" % WID) == (WID, 4242)
    assert lib.worker_log_key("python-core-worker-%s_4242.1.log" % WID) == (WID, 4242)
    assert lib.worker_log_key("python-core-driver-%s_7.log.2" % WID) == (WID, 7)
    for other in ("raylet.out", "raylet.out.1", "gcs_server.err", "job-driver-raysubmit_abc.log",
                  "runtime_env_setup-01000000.log", "dashboard_agent.log", "monitor.log", "log_monitor.log"):
        assert lib.worker_log_key(other) is None, other


def test_the_newest_dead_sets_stay(lib):
    sets = {
        ("a", 1): {"mtime": 10, "paths": ["/l/a1.out", "/l/a1.err"], "dead": True, "held": []},
        ("b", 2): {"mtime": 30, "paths": ["/l/b2.out"], "dead": True, "held": []},
        ("c", 3): {"mtime": 5, "paths": ["/l/c3.out"], "dead": False, "held": []},  # alive
        # someone reads its .out (a `tail -f`, Ray's log monitor): that file stays, the rest goes
        ("d", 4): {"mtime": 1, "paths": ["/l/d4.out", "/l/d4.log"], "dead": True, "held": ["/l/d4.out"]},
        ("e", 5): {"mtime": 20, "paths": ["/l/e5.out"], "dead": True, "held": []},
    }
    assert lib.worker_logs_to_prune(sets, 2) == ["/l/a1.err", "/l/a1.out", "/l/d4.log"]
    assert lib.worker_logs_to_prune(sets, 0) == ["/l/a1.err", "/l/a1.out", "/l/b2.out", "/l/d4.log", "/l/e5.out"]
    assert lib.worker_logs_to_prune(sets, 4) == []


@pytest.fixture()
def session(tmp_path):
    temp = tmp_path / "ray"
    live = temp / "session_2026-01-01_00-00-00_1"
    (live / "logs" / "old").mkdir(parents=True)
    os.symlink(live.name, str(temp / "session_latest"))
    return str(temp), str(live / "logs")


def _write(path, mtime):
    with open(path, "w") as f:
        f.write("x" * 100)
    os.utime(path, (mtime, mtime))


def test_prunes_the_oldest_exited_workers_of_the_live_session(lib, session):
    temp, logs = session
    now = time.time()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = [_dead_pid() for _ in range(4)]
        names = {}
        for i, pid in enumerate(dead):  # oldest first
            wid = "%02x" % i * 28
            names[pid] = ["worker-%s-01000000-%d.out" % (wid, pid), "worker-%s-01000000-%d.err" % (wid, pid),
                          "python-core-worker-%s_%d.log" % (wid, pid)]
            for n in names[pid]:
                _write(os.path.join(logs, n), now - 100 + i)
        old_dir = os.path.join(logs, "old", "worker-%s-01000000-%d.out.1" % ("aa" * 28, dead[0]))
        _write(old_dir, now - 200)  # the log monitor moved this one; same worker set as nothing else
        live_name = "worker-%s-01000000-%d.out" % ("bb" * 28, alive.pid)
        _write(os.path.join(logs, live_name), now - 1000)  # old, but its worker runs
        for n in ("raylet.out", "raylet.out.1", "gcs_server.out"):
            _write(os.path.join(logs, n), now - 5000)
        # an old dead worker's log someone holds open (a `tail -f`): kept, its other file goes
        held_pid = _dead_pid()
        held_name = "worker-%s-01000000-%d.out" % ("cc" * 28, held_pid)
        _write(os.path.join(logs, held_name), now - 3000)
        _write(os.path.join(logs, "python-core-worker-%s_%d.log" % ("cc" * 28, held_pid)), now - 3000)
        with open(os.path.join(logs, held_name)):
            removed = lib.prune_worker_logs(temp, 2)
        left = sorted(os.listdir(logs))
        assert removed == 8  # the two oldest dead sets (3 files each), the moved one, the held set's other file
        for pid in dead[:2]:
            assert not set(names[pid]) & set(left)
        for pid in dead[2:]:
            assert set(names[pid]) <= set(left)
        assert os.listdir(os.path.join(logs, "old")) == []
        assert {live_name, held_name, "raylet.out", "raylet.out.1", "gcs_server.out"} <= set(left)
        # within the bound: nothing more goes
        assert lib.prune_worker_logs(temp, 2) == 1  # the held file is no longer open: it is the oldest
        assert lib.prune_worker_logs(temp, 2) == 0
    finally:
        alive.kill()
        alive.wait()


def test_never_an_old_session_or_a_missing_one(lib, tmp_path):
    assert lib.prune_worker_logs(str(tmp_path / "nothing"), 0) == 0


def test_rotation_is_given_to_ray_start(lib):
    env = lib.rotation_env({"log_rotation": {"max_bytes": 4096, "backup_count": 2}})
    assert env == {"RAY_ROTATION_MAX_BYTES": "4096", "RAY_ROTATION_BACKUP_COUNT": "2"}
    with pytest.raises(lib.Fail) as e:
        lib.rotation_env({"ray": {}})
    assert "'log_rotation'" in e.value.error
