"""Unit tests of nokube_remote.py (no Ray needed)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

TCP_SAMPLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 17001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2731 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 17002 1 0000000000000000 100 0 0 10 0
   2: 0B00580A:0016 0100580A:C3A2 01 00000000:00000000 02:000A7B3C 00000000     0        0 17003 2 0000000000000000 20 4 30 10 -1
"""
TCP6_SAMPLE = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:2051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 18001 1 0000000000000000 100 0 0 10 0
"""


def test_parse_proc_net_tcp(lib):
    assert lib.parse_proc_net_tcp(TCP_SAMPLE) == [(6379, 17001), (10033, 17002)]
    assert lib.parse_proc_net_tcp(TCP6_SAMPLE) == [(8273, 18001)]
    assert lib.parse_proc_net_tcp("") == []


def test_head_argv(lib):
    argv = lib.build_start_argv(
        "head",
        {"node_ip_address": "10.0.0.1", "port": 10001, "gcs_port": 6380, "dashboard_port": 8266, "num_cpus": 8,
         "num_gpus": 0, "object_store_memory": 2000000000, "memory": 4e9, "resources": {"b": 2, "a": 1},
         "labels": {"nokube.io/node": "head-1", "zone": "a"}},
        "/srv/x/ray", ray_version="2.60.0", base=["/v/bin/ray"])
    assert argv == [
        "/v/bin/ray", "start", "--head", "--port=6380", "--ray-client-server-port=10001",
        "--dashboard-host=0.0.0.0", "--dashboard-port=8266", "--include-dashboard=true",
        "--node-ip-address=10.0.0.1", "--num-cpus=8", "--num-gpus=0", "--memory=4000000000",
        "--object-store-memory=2000000000", '--resources={"a":1,"b":2}', "--labels=nokube.io/node=head-1,zone=a",
        "--temp-dir=/srv/x/ray", "--disable-usage-stats"]


def test_pinned_ports_reach_ray_start(lib):
    """Every port the config pins is a `ray start` flag (Ray's own names), on a worker as on the head."""
    pinned = {"node_manager_port": 8076, "object_manager_port": 8077, "runtime_env_agent_port": 8078,
              "dashboard_agent_listen_port": 52365, "dashboard_agent_grpc_port": 8079,
              "metrics_export_port": 8080, "min_worker_port": 10002, "max_worker_port": 10100}
    argv = lib.build_start_argv("worker", dict(pinned, node_ip_address="10.0.0.2"), "/t", head_address="h:6379")
    assert argv == [
        "ray", "start", "--address=h:6379", "--node-ip-address=10.0.0.2", "--node-manager-port=8076",
        "--object-manager-port=8077", "--runtime-env-agent-port=8078", "--dashboard-agent-listen-port=52365",
        "--dashboard-agent-grpc-port=8079", "--metrics-export-port=8080", "--min-worker-port=10002",
        "--max-worker-port=10100", "--temp-dir=/t", "--disable-usage-stats"]
    head = lib.build_start_argv("head", dict(pinned, gcs_port=6379, dashboard_port=8265), "/t")
    assert [a for a in head if a.split("=")[0] in {"--node-manager-port", "--max-worker-port"}] == [
        "--node-manager-port=8076", "--max-worker-port=10100"]
    # not pinned: no flag, Ray picks
    assert not any("manager-port" in a for a in lib.build_start_argv("worker", {}, "/t", head_address="h:1"))


def test_dashboard_bound_to_the_node_without_token_auth(lib):
    """Ray before 2.52 has no token auth: its dashboard and Jobs API must not listen everywhere."""
    ports = {"gcs_port": 6379, "dashboard_port": 8265}
    args = dict(ports, node_ip_address="10.0.0.1")
    assert "--dashboard-host=0.0.0.0" in lib.build_start_argv("head", args, "/t", token_auth=True)
    assert "--dashboard-host=10.0.0.1" in lib.build_start_argv("head", args, "/t", token_auth=False)
    assert "--dashboard-host=127.0.0.1" in lib.build_start_argv("head", ports, "/t", token_auth=False)
    chosen = dict(args, dashboard_host="0.0.0.0")
    assert "--dashboard-host=0.0.0.0" in lib.build_start_argv("head", chosen, "/t", token_auth=False)
    # Ray before 2.52 cannot bind its dashboard to an IPv6 address (seen with a real Ray 2.51.2)
    v6 = dict(args, node_ip_address="fd00::11")
    assert "--dashboard-host=127.0.0.1" in lib.build_start_argv("head", v6, "/t", token_auth=False)



def test_the_head_reaches_its_dashboard_where_start_bound_it(lib):
    """status, drain and jobs talk to the dashboard on the head: bound to an address, loopback fails."""
    assert lib.dashboard_base({"dashboard_host": "0.0.0.0"}, 8265) == "http://127.0.0.1:8265"
    assert lib.dashboard_base({}, 8265) == "http://127.0.0.1:8265"  # a head started before the field
    assert lib.dashboard_base({"dashboard_host": "10.0.0.1"}, 8300) == "http://10.0.0.1:8300"
    assert lib.dashboard_base({"dashboard_host": "fd00::1"}, 8265) == "http://[fd00::1]:8265"

def test_worker_argv_and_defaults(lib):
    argv = lib.build_start_argv("worker", {"labels": {"nokube.io/node": "w1"}}, "/t", head_address="h:6379",
                                ray_version="2.60.0")
    assert argv == ["ray", "start", "--address=h:6379", "--labels=nokube.io/node=w1", "--temp-dir=/t",
                    "--disable-usage-stats"]
    head = lib.build_start_argv("head", {"gcs_port": 6379, "dashboard_port": 8265}, "/t")
    assert not any(a.startswith("--ray-client-server-port") for a in head)
    # defaults are the engine's (applied once, at the model): a head without its ports is refused
    with pytest.raises(lib.Fail, match="gcs_port"):
        lib.build_start_argv("head", {}, "/t")
    with pytest.raises(lib.Fail):
        lib.build_start_argv("worker", {}, "/t")
    with pytest.raises(lib.Fail):
        lib.build_start_argv("boss", {}, "/t")
    with pytest.raises(lib.Fail):
        lib.build_start_argv("worker", {"labels": {"a": "b,c=d"}}, "/t", head_address="h:1")
    old = lib.build_start_argv("worker", {"labels": {"k": "v"}}, "/t", head_address="h:1", ray_version="2.9.3")
    assert '--labels={"k": "v"}' in old


def test_argv_never_shell(lib):
    evil = {"node_ip_address": "1.2.3.4; rm -rf /", "labels": {"nokube.io/node": "x"}}
    argv = lib.build_start_argv("worker", evil, "/t", head_address="h:1")
    assert "--node-ip-address=1.2.3.4; rm -rf /" in argv  # one argv element, never a shell line


def test_temp_dir_fallback(lib):
    assert lib.temp_dir_for("c", "/opt/nokube/data/ray/head") == "/opt/nokube/data/ray/head/ray"
    long_storage = "/home/someone/projects/ray-clusters/production/storage"
    t = lib.temp_dir_for("c", long_storage)
    assert t.startswith("/tmp/ray/nk-") and len(t) == len("/tmp/ray/nk-") + 10 + len("/ray")
    assert t != lib.temp_dir_for("other", long_storage)
    assert t == lib.temp_dir_for("c", long_storage)
    # the longest socket Ray creates must fit in AF_UNIX's 107 bytes
    worst = lib.os.path.join("x" * lib.MAX_TEMP_DIR_LEN, "session_2026-11-25_20-49-30_748934_4194304", "sockets",
                             "dash_MetricsHead")
    assert len(worst) <= 107


def test_version_tuple(lib):
    assert lib.version_tuple("2.60.0") == (2, 60, 0)
    assert lib.version_tuple("2.9.0rc1") == (2, 9, 0)
    assert lib.version_tuple("3.0.0.dev0") == (3, 0, 0)
    assert lib.version_tuple("2.52.0+cu121") == (2, 52, 0)
    assert lib.version_tuple("2.49-1") == (2, 49, 1)
    assert lib.version_tuple("nightly") == ()
    assert lib.version_tuple(None) == ()


def test_the_calls_json_reads_and_writes_as_the_json_module_does(lib):
    assert lib.loads is not json.loads, "on CPython the call's JSON goes through _json, not the json module"
    values = [{}, [], "", 0, -1, 2 ** 70, 0.1, -0.0, 1e300, None, True, False,
              {"b": 1, "a": [1, 2.5, None, True, False, {"z": {}, "y": []}]},
              {"\u00e9t\u00e9": "\u00fc\u2028\x00\"\\/\t\U0001f680", "n": {"x": {"y": [[], {}]}}}]
    for v in values:
        assert lib.dumps(v) == json.dumps(v, sort_keys=True)
        assert lib.loads(json.dumps(v)) == v
        assert lib.loads(" \n" + json.dumps(v, indent=2) + "\n\t") == v
    assert lib.dumps({"ratio": float("nan")}) == '{"ratio": NaN}'  # as json.dumps writes it
    for bad, why in (('{"a": ', "Expecting value"), ("{} {}", "Extra data"), ("{", "property name"), ("", "Expecting")):
        with pytest.raises(ValueError, match=why):
            lib.loads(bad)
    with pytest.raises(TypeError, match="not JSON serializable"):
        lib.dumps({"a": object()})


@pytest.mark.parametrize("use_pidfd", [True, False])
def test_wait_exit_returns_as_the_child_exits(lib, use_pidfd):
    """`ray start`'s wait: its exit code once it exits, None while it runs (a pidfd, or Popen.wait's polls)."""
    if use_pidfd and not hasattr(os, "pidfd_open"):
        pytest.skip("no os.pidfd_open on this Python (< 3.9): the polling fallback is the other case")
    p = subprocess.Popen([sys.executable, "-c", "import time, sys; time.sleep(0.3); sys.exit(3)"])
    pidfd = lib.pidfd_of(p) if use_pidfd else None
    assert (pidfd is not None) == use_pidfd
    try:
        t0 = time.time()
        assert lib.wait_exit(p, pidfd, 0.05) is None  # still running: None once the time is up
        assert time.time() - t0 >= 0.05
        rc = None
        while rc is None and time.time() - t0 < 10:
            rc = lib.wait_exit(p, pidfd, 0.5)
        assert rc == 3 and p.returncode == 3  # reaped, its code kept
    finally:
        if pidfd is not None:
            os.close(pidfd)


def test_helpers_that_replace_re_and_shutil(lib, tmp_path, monkeypatch):
    assert lib.meminfo_bytes() > 0
    tool = tmp_path / "bin" / "nk-tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "nk-tool").write_text("not executable")
    path = os.pathsep.join([str(tmp_path / "plain"), str(tool.parent)])
    assert lib.which("nk-tool", path=path) == str(tool)
    monkeypatch.setenv("PATH", path)
    assert lib.which("nk-tool") == str(tool) and lib.which("nk-missing") is None
    monkeypatch.chdir(tmp_path)
    assert lib.which("bin/nk-tool") == "bin/nk-tool" and lib.which(str(tool)) == str(tool)  # as shutil.which
    assert lib.which("plain/nk-tool") is None
    for good in ("c", "ml-prod_2.a", "x" * 100):
        assert lib.cluster_name({"cluster": good}) == good
    for bad in ("", "x" * 101, "a b", "a/b", "\u00e9", None, 3):
        with pytest.raises(lib.Fail):
            lib.cluster_name({"cluster": bad})
    assert lib.strip_ansi("\x1b[31mred\x1b[0m plain") == "red plain"


def test_a_probe_imports_only_what_it_needs(lib_path, tmp_path):
    """Each call is a new process: an import a probe does not need is paid on every node, every time."""
    def imports(*argv, stdin=b""):
        p = subprocess.run([sys.executable, "-X", "importtime"] + list(argv), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        assert p.returncode == 0, p.stderr.decode()[-2000:]
        names = {ln.split("|")[-1].strip() for ln in p.stderr.decode().splitlines() if ln.startswith("import time:")}
        return p.stdout, names

    loader = ("import sys; from importlib.machinery import SourceFileLoader; lib = type(sys)('nokube_remote'); "
              "SourceFileLoader(lib.__name__, sys.argv[1]).exec_module(lib); sys.exit(lib.main(sys.argv[2:]))")
    _, bare = imports("-c", "pass")  # the interpreter's own start (site, .pth files) is not the library's
    out, names = imports("-c", loader, lib_path, "probe",
                         stdin=json.dumps({"cluster": "c", "storage": str(tmp_path / "st"), "ports": []}).encode())
    assert json.loads(out)["ok"] is True
    imported = names - bare
    assert "_json" in imported, "python -X importtime printed nothing of the library's imports"
    for heavy in ("json", "re", "enum", "shutil", "subprocess", "socket", "hashlib", "urllib.request", "tempfile"):
        assert heavy not in imported, "a probe imported %s" % heavy


def test_lock_semantics(lib, tmp_path):
    base = {"cluster": "c", "storage": str(tmp_path / "s"), "ttl_sec": 60}
    lib.caller_session = lambda: None  # no sshd here: the lease (ttl_sec) decides
    r = lib.verb_lock(dict(base, owner="run-1"), now=1000)
    assert r["acquired"] and r["holder"]["owner"] == "run-1"
    r = lib.verb_lock(dict(base, owner="run-2"), now=1010)
    assert not r["acquired"] and r["holder"] == {"owner": "run-1", "since": 1000}
    r = lib.verb_lock(dict(base, owner="run-1"), now=1020)  # re-entrant for the same owner
    assert r["acquired"] and r["holder"]["since"] == 1000
    r = lib.verb_lock(dict(base, owner="run-2"), now=1020 + 61)  # stale after ttl
    assert r["acquired"] and r["replaced_stale"]["owner"] == "run-1"
    r = lib.verb_unlock(dict(base, owner="run-1"))
    assert not r["ok"] and r["holder"]["owner"] == "run-2"
    assert lib.verb_unlock(dict(base, owner="run-2")) == {"ok": True, "released": True}
    assert lib.verb_unlock(dict(base, owner="run-2")) == {"ok": True, "released": False}
    assert lib.verb_lock(dict(base, owner="run-3"))["acquired"]
    assert lib.verb_unlock(dict(base, owner="someone", force=True))["released"]


def test_probe_takes_the_lock_in_the_same_call(lib, tmp_path):
    """`probe` with `lock` takes the deploy lock before it looks (one call instead of two); held by
    another run it looks at nothing; the answer tells when the lock was last released."""
    storage = str(tmp_path / "s")
    lib.caller_session = lambda: None
    first = lib.verb_probe({"cluster": "c", "storage": storage, "role": "head", "lock": {"owner": "run-1", "ttl_sec": 60}})
    lock = first["lock"]
    assert first["ok"] and "storage" in first  # the probe itself ran
    assert lock["acquired"] and lock["was_free"] and lock["released_at"] is None
    assert abs(lock["now"] - lib.time.time()) < 60
    other = lib.verb_probe({"cluster": "c", "storage": storage, "role": "head", "lock": {"owner": "run-2", "ttl_sec": 60}})
    assert other == {"ok": True, "lock": {"ok": True, "acquired": False, "holder": lock["holder"]}}
    assert lib.verb_unlock({"cluster": "c", "storage": storage, "owner": "run-1"})["released"]
    again = lib.verb_probe({"cluster": "c", "storage": storage, "role": "head", "lock": {"owner": "run-2", "ttl_sec": 60}})
    assert again["lock"]["acquired"] and again["lock"]["was_free"]
    assert lock["now"] <= again["lock"]["released_at"] <= again["lock"]["now"]
    # a storage path the lock cannot use: the probe still answers (it reports the storage), the lock says why
    bad = lib.verb_probe({"cluster": "c", "storage": "/proc/nokube-nowhere", "role": "head", "lock": {"owner": "run-3"}})
    assert bad["ok"] and not bad["storage"]["writable"]
    assert bad["lock"]["ok"] is False and bad["lock"]["error"]


def test_lock_lives_as_long_as_the_holders_ssh_session(lib, tmp_path):
    """A holder whose SSH session is gone (the run was killed) loses the lock at once, whatever its
    lease says; a live session keeps it past any lease (a long apply)."""
    base = {"cluster": "c", "storage": str(tmp_path / "s"), "ttl_sec": 60}
    holder = subprocess.Popen(["sleep", "300"])
    try:
        fields = lib._stat_fields(holder.pid)
        live = {"pid": holder.pid, "start": fields[19], "boot": lib._boot_id()}
        assert lib.verb_lock(dict(base, owner="run-1"), now=1000, session=live)["acquired"]
        # long after the lease: still held, because its session lives
        r = lib.verb_lock(dict(base, owner="run-2"), now=1000 + 3600, session=None)
        assert not r["acquired"] and r["holder"]["owner"] == "run-1"
        holder.kill()
        holder.wait()
        # within the lease, but the session is gone: replaced, and the answer says why
        r = lib.verb_lock(dict(base, owner="run-2"), now=1001, session=None)
        assert r["acquired"]
        assert r["replaced_stale"]["owner"] == "run-1" and "SSH session is gone" in r["replaced_stale"]["reason"]
        # a pid reused by another process (other start time) or another boot is not the holder either
        assert lib.session_alive(dict(live, pid=os.getpid())) is False
        assert lib.session_alive(dict(live, boot="other")) is False
        assert lib.session_alive(None) is None
    finally:
        holder.kill()


def test_state_files_never_follow_symlinks(lib, tmp_path, monkeypatch):
    d = tmp_path / "state"
    d.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    # the names the old code wrote through (predictable pid) and the target itself
    for name in ("auth_token.tmp.4242", "runtime.json.tmp.4242"):
        os.symlink(str(victim), str(d / name))
    os.symlink(str(victim), str(d / "applied.json"))
    lib.write_token(str(d / "auth_token"), "secret")
    lib.write_json_atomic(str(d / "runtime.json"), {"a": 1})
    lib.write_json_atomic(str(d / "applied.json"), {"b": 2})
    assert victim.read_text() == "precious"
    assert (d / "auth_token").read_text() == "secret" and not os.path.islink(str(d / "auth_token"))
    assert oct(os.stat(str(d / "auth_token")).st_mode & 0o777) == "0o600"
    assert json.loads((d / "applied.json").read_text()) == {"b": 2} and not os.path.islink(str(d / "applied.json"))
    assert not [n for n in os.listdir(str(d)) if n.startswith(".")]  # no temp file left behind


def test_unsafe_storage_paths_are_refused(lib, tmp_path):
    for p in ("/", "/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~")):
        assert lib.storage_safety(p), p
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    assert "writable by other users" in lib.storage_safety(str(shared / "c"))
    assert "writable by other users" in lib.storage_safety(str(shared))
    os.chmod(str(shared), 0o755)
    assert lib.storage_safety(str(shared / "c")) is None
    ok, err = lib.storage_check("/tmp")
    assert not ok and "/tmp" in err


def test_storage_path_with_a_symlink_of_another_user_is_refused_before_anything_is_written(lib, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(str(real), str(link))
    os.lchown(str(link), 12345, 12345)
    assert "is a symlink of" in lib.storage_safety(str(link / "c"))
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    for storage in (str(link / "c"), str(shared / "c"), str(shared)):
        with pytest.raises(lib.Fail):
            lib.verb_lock({"cluster": "c", "storage": storage, "owner": {"run": "x"}, "ttl_sec": 60})
    assert os.listdir(str(real)) == [] and os.listdir(str(shared)) == []  # no state/, no lock.json


def test_storage_dirs_and_ray_temp_dir_parent_are_private(lib, tmp_path):
    storage = tmp_path / "s"
    storage.mkdir(mode=0o755)
    lib.ensure_dirs(str(storage))
    # Ray makes <storage>/ray 0777: the storage around it is entered by the login user only
    lib.own_temp_dir(str(storage / "ray"))
    assert oct(os.stat(str(storage)).st_mode & 0o777) == "0o700"
    assert oct(os.stat(str(storage / "state")).st_mode & 0o777) == "0o700"


def test_tmp_ray_is_used_only_when_root_or_ours_and_sticky(lib, tmp_path, monkeypatch):
    t = tmp_path / "ray"
    t.mkdir()
    os.chmod(str(t), 0o1777)
    lib.shared_tmp_ray(str(t))  # ours (root runs the test) and sticky
    os.chmod(str(t), 0o777)
    with pytest.raises(lib.Fail) as e:
        lib.shared_tmp_ray(str(t))
    assert "not sticky" in e.value.error and "rm -rf /tmp/ray" in e.value.hint
    os.chmod(str(t), 0o1777)
    os.chown(str(t), 12345, 12345)
    monkeypatch.setattr(os, "getuid", lambda: 23456)
    with pytest.raises(lib.Fail) as e:
        lib.shared_tmp_ray(str(t))
    assert "belongs to" in e.value.error
    link = tmp_path / "ray-link"
    os.symlink(str(tmp_path), str(link))
    with pytest.raises(lib.Fail) as e:
        lib.shared_tmp_ray(str(link))
    assert "symlink" in e.value.error


def test_temp_dir_fallback_is_private(lib, tmp_path, monkeypatch):
    t = tmp_path / "nk-abc"
    lib.private_dir(str(t))
    assert oct(os.stat(str(t)).st_mode & 0o777) == "0o700"
    os.chmod(str(t), 0o755)
    lib.private_dir(str(t))  # ours: made private again
    assert oct(os.stat(str(t)).st_mode & 0o777) == "0o700"
    monkeypatch.setattr(os, "getuid", lambda: 12345)
    with pytest.raises(lib.Fail) as e:
        lib.private_dir(str(t))
    assert "belongs to" in e.value.error
    link = tmp_path / "nk-link"
    os.symlink(str(tmp_path), str(link))
    with pytest.raises(lib.Fail):
        lib.private_dir(str(link))


def run_lib(lib_path, verb, inp, python=sys.executable, env=None):
    p = subprocess.run([python, lib_path, verb], input=json.dumps(inp).encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout.decode())


def test_probe_json_via_subprocess(lib_path, tmp_path):
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    busy = srv.getsockname()[1]
    try:
        out = run_lib(lib_path, "probe", {"cluster": "c", "storage": str(tmp_path / "st"), "python": None,
                                          "ports": [{"name": "busy", "port": busy}, {"name": "free", "port": 1}]})
    finally:
        srv.close()
    assert out["ok"] is True
    assert out["storage"] == {"path": str(tmp_path / "st"), "writable": True}
    assert out["python"]["version"].count(".") == 2
    assert out["cpus"] >= 1 and out["memory_bytes"] > 0 and out["shm_bytes"] > 0
    assert out["ports"] == [{"name": "busy", "port": busy, "in_use": True, "by_this_cluster": False},
                            {"name": "free", "port": 1, "in_use": False, "by_this_cluster": False}]
    assert out["running"] is False and out["applied"] is None
    assert "ray" in out and (out["ray"] is None) == ("ray_error" in out)


def test_probe_unwritable_storage(lib_path, tmp_path):
    if os.getuid() == 0:
        pytest.skip("root can write anywhere")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    out = run_lib(lib_path, "probe", {"cluster": "c", "storage": str(ro / "x"), "ports": []})
    assert out["storage"]["writable"] is False and "chown" in out["storage"]["error"]


def test_probe_unwritable_storage_as_nobody(lib_path, tmp_path):
    if os.getuid() != 0:
        pytest.skip("needs root to switch user")
    import pathlib
    import shutil
    import tempfile

    base = pathlib.Path(tempfile.mkdtemp(prefix="nk-nobody-"))  # pytest's tmp_path is 0700
    os.chmod(base, 0o755)
    request_cleanup = lambda: shutil.rmtree(base, ignore_errors=True)  # noqa: E731
    target = base / "rootonly"
    target.mkdir(mode=0o755)
    lib_copy = base / "nokube_remote.py"
    lib_copy.write_bytes(open(lib_path, "rb").read())
    os.chmod(lib_copy, 0o644)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3",
                        str(lib_copy), "probe"], input=json.dumps(
        {"cluster": "c", "storage": str(target / "data"), "ports": []}).encode(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=60)
    request_cleanup()
    out = json.loads(p.stdout.decode())
    assert out["storage"]["writable"] is False
    err = out["storage"]["error"]
    assert str(target / "data") in err and "Permission denied" in err  # the engine adds the chown hint


def test_bad_input(lib_path):
    p = subprocess.run([sys.executable, lib_path, "probe"], input=b"[1,2", stdout=subprocess.PIPE, timeout=60)
    assert p.returncode == 0 and json.loads(p.stdout)["ok"] is False
    out = run_lib(lib_path, "stop", {"cluster": "bad name/.."})
    assert out["ok"] is False and "cluster" in out["error"]
    p = subprocess.run([sys.executable, lib_path, "nope"], input=b"{}", stdout=subprocess.PIPE, timeout=60)
    assert p.returncode == 2


def _spawn(cmd, env_extra=None, drop=()):
    env = dict(os.environ)
    env.update(env_extra or {})
    for k in drop:
        env.pop(k, None)
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def test_stop_kills_only_this_cluster(lib, lib_path, tmp_path):
    storage = str(tmp_path / "store")
    mark = lib.cluster_mark("c1", storage)
    temp = lib.temp_dir_for("c1", storage)
    marked = _spawn(["sleep", "300"], {lib.MARK_ENV: mark})
    other_cluster = _spawn(["sleep", "300"], {lib.MARK_ENV: lib.cluster_mark("c2", storage)})
    unmarked = _spawn(["sleep", "300"])
    by_argv = _spawn([sys.executable, "-c", "import time; time.sleep(300)", "--temp-dir=" + temp])
    by_argv_other = _spawn([sys.executable, "-c", "import time; time.sleep(300)", "--temp-dir=" + temp + "x"])
    # a child that lost the marker (like Ray's agents, whose proctitle clobbers environ) but descends from one
    parent = _spawn(["bash", "-c", "env -u %s sleep 300 & wait" % lib.MARK_ENV], {lib.MARK_ENV: mark})
    ignores_term = _spawn([sys.executable, "-c", "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                           "time.sleep(300)"], {lib.MARK_ENV: mark})
    # an operator reading the logs, and a second cluster whose storage lies inside this one's
    os.makedirs(temp + "/session_latest/logs", exist_ok=True)
    open(temp + "/session_latest/logs/raylet.out", "w").close()
    tail = _spawn(["tail", "-f", temp + "/session_latest/logs/raylet.out"])
    inner_storage = os.path.join(storage, "inner")
    os.makedirs(inner_storage, exist_ok=True)
    nested = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "ray"], cwd=inner_storage,
                              env=dict(os.environ, **{lib.MARK_ENV: lib.cluster_mark("c9", inner_storage)}),
                              start_new_session=True)
    procs = [marked, other_cluster, unmarked, by_argv, by_argv_other, parent, ignores_term, tail, nested]
    try:
        time.sleep(0.5)
        found = set(lib.cluster_pids("c1", storage))
        assert {marked.pid, by_argv.pid, parent.pid, ignores_term.pid} <= found
        assert not found & {other_cluster.pid, unmarked.pid, by_argv_other.pid, tail.pid, nested.pid}
        assert lib.cluster_pids("c1", storage, uid=os.getuid() + 1) == []  # another user's are never ours
        assert len(found) == 5  # + the bash child

        t0 = time.time()
        out = run_lib(lib_path, "stop", {"cluster": "c1", "storage": storage, "grace_sec": 1.5})
        assert out == dict(out, ok=True, was_running=True, remaining=0)
        assert out["killed"] == 5
        assert time.time() - t0 < 10
        for p in (marked, by_argv, parent, ignores_term):
            assert p.wait(timeout=5) is not None
        for p in (other_cluster, unmarked, by_argv_other, tail, nested):
            assert p.poll() is None, "a process of another cluster was killed"
        out = run_lib(lib_path, "stop", {"cluster": "c1", "storage": storage, "grace_sec": 1.5})
        assert out == dict(out, ok=True, was_running=False, killed=0, remaining=0)
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


def test_port_by_this_cluster(lib, tmp_path):
    storage = str(tmp_path / "s")
    mark = lib.cluster_mark("c1", storage)
    code = ("import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1); "
            "print(s.getsockname()[1], flush=True); time.sleep(300)")
    env = dict(os.environ, **{lib.MARK_ENV: mark})
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        port = int(p.stdout.readline())
        rep = lib.port_report([{"name": "gcs", "port": port}], "c1", storage)
        assert rep == [{"name": "gcs", "port": port, "in_use": True, "by_this_cluster": True}]
        rep = lib.port_report([{"name": "gcs", "port": port}], "c2", storage)
        assert rep[0]["by_this_cluster"] is False
    finally:
        p.kill()
        p.wait()


def test_status_not_running(lib_path, tmp_path):
    out = run_lib(lib_path, "status", {"cluster": "c", "storage": str(tmp_path / "s"), "role": "head"})
    assert out["ok"] is True and out["running"] is False and out["applied"] is None and "cluster" not in out


def test_start_without_ray_fails_cleanly(lib_path, tmp_path):
    env = dict(os.environ, PATH="/usr/bin:/bin")
    p = subprocess.run(["/usr/bin/python3", "-c", "import ray"], capture_output=True)
    if p.returncode == 0:
        pytest.skip("/usr/bin/python3 has ray")
    out = run_lib(lib_path, "start", {"cluster": "c", "storage": str(tmp_path / "s"), "python": "/usr/bin/python3",
                                      "role": "head", "applied": {"ray": {}}, "timeout_sec": 60, "grace_sec": 1,
                                      "connect_timeout_sec": 5, "supervise": {"restart": "never", "keep_sessions": 5, "keep_dead_worker_logs": 1000}},
                  python="/usr/bin/python3", env=env)
    assert out["ok"] is False and "Ray not found" in out["error"] and "hint" in out


class _NodeTable(object):
    """A dashboard stand-in serving /api/v0/nodes: the alive set grows after `grow_after` looks."""

    def __init__(self, grow_after):
        import http.server
        import threading

        self.looks = 0
        table = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                table.looks += 1
                rows = [{"node_id": "a" * 56, "state": "ALIVE", "labels": {"nokube.io/node": "h"}}]
                if table.looks > grow_after:
                    rows.append({"node_id": "b" * 56, "state": "ALIVE", "labels": {"nokube.io/node": "w"}})
                body = json.dumps({"result": True, "data": {"result": {"result": rows}}}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_view_wait_answers_when_the_alive_set_changes(lib):
    table = _NodeTable(grow_after=3)
    try:
        first, key = lib._http_nodes_changed(table.base, None, {"key": None, "ms": 5000})
        assert [n["name"] for n in first] == ["h"] and table.looks == 1  # no key yet: the first table
        assert key == lib.view_key(first)
        t0 = time.time()
        second, _ = lib._http_nodes_changed(table.base, None, {"key": key, "ms": 5000})
        assert sorted(n["name"] for n in second) == ["h", "w"]
        assert table.looks == 4 and time.time() - t0 < 2  # looked every 100 ms until the worker joined
        assert lib.view_key(second) != key
        # nothing changes: the answer comes after `ms`, with the same table
        t0 = time.time()
        third, _ = lib._http_nodes_changed(table.base, None, {"key": lib.view_key(second), "ms": 300})
        assert 0.3 <= time.time() - t0 < 2 and lib.view_key(third) == lib.view_key(second)
    finally:
        table.close()


def test_view_wait_gives_up_on_a_silent_dashboard_after_ms(lib):
    t0 = time.time()
    with pytest.raises(Exception):
        lib._http_nodes_changed("http://127.0.0.1:9", None, {"key": None, "ms": 300})
    assert 0.3 <= time.time() - t0 < 3


def test_explain_failure_a_slow_start_is_not_called_an_unreachable_head(lib):
    slow = ("Exception: The current node timed out during startup. This could happen because some of the "
            "raylet failed to startup or the GCS has become overloaded.")
    error, hint = lib.explain_failure(slow, "worker", {}, "10.0.0.1:6379")
    assert error.startswith("ray start failed: Ray on this node did not finish starting in time")
    assert "cannot reach" not in error and "nokube ray logs" in hint
    error, _ = lib.explain_failure("ConnectionError: Unable to connect to GCS at 10.0.0.1:6379", "worker", {},
                                   "10.0.0.1:6379")
    assert error == "ray start failed: cannot reach the head's GCS at 10.0.0.1:6379"
