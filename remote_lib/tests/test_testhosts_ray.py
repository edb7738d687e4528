"""Real Ray inside test hosts (scripts/testhosts.sh). Skips loudly when the hosts are not up; fails when CI=true.

Runs the library as user nokube inside two Ray test hosts (the last two of hosts.json, so engine e2e tests on
nkh1/nkh2 are less likely to collide), with its own cluster name and ports."""
import json
import os
import subprocess
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTHOSTS = os.path.join(REPO, "scripts", "testhosts.sh")
HOSTS_JSON = os.path.join(
    os.environ.get(
        "NOKUBE_TESTHOSTS_DIR",
        os.path.join(os.environ.get("NOKUBE_TESTHOSTS_BASE", "/var/lib"), "nokube-testhosts"),
    ),
    "hosts.json",
)

# the bounds nokube sends with every start (its NODE_LIMITS; restart: never)
START = {"timeout_sec": 120, "grace_sec": 10, "connect_timeout_sec": 5,
         "supervise": {"restart": "never", "keep_sessions": 5, "keep_dead_worker_logs": 1000}}
# Ray's own rotation defaults, as the config model sends them
ROTATION = {"max_bytes": 536870912, "backup_count": 5}


def _unavailable():
    if os.getuid() != 0:
        return "not root (test hosts need network/PID namespaces)"
    try:
        with open(HOSTS_JSON) as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        return "no %s (%s): run scripts/testhosts.sh up 4 --no-ray nkbare" % (HOSTS_JSON, e)
    ray_hosts = [h for h in info["hosts"] if h["ray"]]
    if len(ray_hosts) < 2:
        return "fewer than 2 Ray test hosts are up: run scripts/testhosts.sh up 4 --no-ray nkbare"
    return None


REASON = _unavailable()
if REASON and os.environ.get("CI") == "true":
    raise RuntimeError("REAL-RAY TESTS ARE REQUIRED IN CI BUT CANNOT RUN: " + REASON)
pytestmark = pytest.mark.skipif(REASON is not None, reason="*** SKIPPED real-Ray tests: %s ***" % REASON)


def hosts():
    with open(HOSTS_JSON) as f:
        info = json.load(f)
    return [h for h in info["hosts"] if h["ray"]][-2:]


def hexec(name, cmd, input=None, timeout=300):
    return subprocess.run([TESTHOSTS, "exec", name, "--user", "nokube", "--", "bash", "-c", cmd],
                          input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def call(name, verb, inp):
    p = hexec(name, "python3 /tmp/nokube_remote_test.py %s" % verb, input=json.dumps(inp).encode())
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout.decode())
    out["_stderr"] = p.stderr.decode()
    return out


@pytest.fixture(scope="module")
def two_hosts():
    lib = open(os.path.join(REPO, "remote_lib", "nokube_remote.py"), "rb").read()
    hs = hosts()
    for h in hs:
        p = hexec(h["name"], "cat > /tmp/nokube_remote_test.py", input=lib)
        assert p.returncode == 0, p.stderr
    return hs


def test_head_worker_status_stop(two_hosts):
    head, worker = two_hosts
    cluster = "pyt-" + uuid.uuid4().hex[:6]
    hstore = "/tmp/nkt-%s-h" % cluster
    wstore = "/home/nokube/some/very/long/storage/path/for/%s/worker" % cluster  # forces the /tmp/ray fallback
    gcs, client, dash = 26379, 20001, 28265
    common = {"cluster": cluster, "python": None, **START}  # extra fields are ignored by the other verbs
    try:
        pr = call(head["name"], "probe", dict(common, storage=hstore, ports=[{"name": "gcs_port", "port": gcs}],
                                             ray_version="2.60.0"))
        assert pr["ok"] and pr["ray"]["version"] and "ray_error" not in pr, pr
        assert pr["hostname"] == head["name"] and pr["user"] == "nokube"

        hs = call(head["name"], "start", dict(common, storage=hstore, role="head", restart=False, applied={"log_rotation": ROTATION, "h": 1, "ray": {"node_ip_address": head["ip"], "port": client, "gcs_port": gcs,
                                                    "dashboard_port": dash, "num_cpus": 1,
                                                    "resources": {"pyt": 2},
                                                    "labels": {"nokube.io/node": "h-node"}}}))
        assert hs["ok"], hs
        # Ray's own part of the call: seconds, and never more than the call itself took
        assert 500 < hs["ray_start_ms"] <= hs["elapsed_ms"], hs
        if hs["auth"] == "token":
            assert len(hs["auth_token"]) >= 32
            mode = hexec(head["name"], "stat -c %%a %s/state/auth_token" % hstore).stdout.decode().strip()
            assert mode == "600"
        # the token never reaches a command line
        ps = hexec(head["name"], "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '").stdout.decode()
        assert hs.get("auth_token", "@@none@@") not in ps

        # a second start without restart is refused, ports now show as ours
        again = call(head["name"], "start", dict(common, storage=hstore, role="head", restart=False, applied={"log_rotation": ROTATION, "ray": {"gcs_port": gcs, "dashboard_port": dash, "port": client}}))
        assert again["ok"] is False and "already running" in again["error"]
        pr = call(head["name"], "probe", dict(common, storage=hstore, ports=[{"name": "gcs_port", "port": gcs}]))
        assert pr["running"] and pr["ports"][0]["in_use"] and pr["ports"][0]["by_this_cluster"]
        assert pr["applied"]["h"] == 1

        if hs["auth"] == "token":  # a wrong token is refused quickly, with a clear error
            t0 = time.time()
            bad = call(worker["name"], "start", dict(common, storage=wstore, role="worker", restart=False,
                                                     applied={"log_rotation": ROTATION, "ray": {"num_cpus": 1}}, head_address="%s:%d" % (head["ip"], gcs),
                                                     auth_token="0" * 64))
            assert bad["ok"] is False and "authentication token" in bad["error"], bad
            assert time.time() - t0 < 60
            assert call(worker["name"], "stop", dict(common, storage=wstore))["remaining"] == 0
        ws = call(worker["name"], "start", dict(common, storage=wstore, role="worker", restart=False,
                                                head_address="%s:%d" % (head["ip"], gcs),
                                                auth_token=hs.get("auth_token"),
                                                applied={"log_rotation": ROTATION, "w": 1, "ray": {"node_ip_address": worker["ip"], "num_cpus": 1,
                                                      "labels": {"nokube.io/node": "w-node"}}}))
        assert ws["ok"], ws
        assert ws["temp_dir"].startswith("/tmp/ray/nk-")

        deadline = time.time() + 60
        while True:
            st = call(head["name"], "status", dict(common, storage=hstore, role="head", dashboard_port=dash,
                                                   gcs_port=gcs))
            names = {n["name"]: n for n in st.get("cluster") or [] if n["alive"]}
            if {"h-node", "w-node"} <= set(names) or time.time() > deadline:
                break
            time.sleep(1)
        assert st["running"] and st["ray_version"] == pr["ray"]["version"], st
        assert {"h-node", "w-node"} <= set(names), st
        assert names["h-node"]["resources"]["pyt"] == 2 and names["w-node"]["resources"]["CPU"] == 1
        assert names["w-node"]["labels"]["nokube.io/node"] == "w-node"
        assert names["w-node"]["node_id"] == ws["node_id"]

        t0 = time.time()
        stw = call(worker["name"], "stop", dict(common, storage=wstore))
        assert stw["ok"] and stw["was_running"] and stw["remaining"] == 0
        sth = call(head["name"], "stop", dict(common, storage=hstore))
        assert sth["ok"] and sth["was_running"] and sth["remaining"] == 0
        assert time.time() - t0 < 30
        for h, store in ((head, hstore), (worker, wstore)):
            left = hexec(h["name"], "pgrep -a -u nokube -f 'ray|raylet|gcs_server' | grep -v pgrep || true")
            assert cluster not in left.stdout.decode()
            st = call(h["name"], "status", dict(common, storage=store, role="head"))
            assert st["running"] is False
    finally:
        for h, store in ((head, hstore), (worker, wstore)):
            call(h["name"], "stop", dict(common, storage=store, grace_sec=2))


def test_port_conflict_is_reported(two_hosts):
    head = two_hosts[0]
    cluster = "pyt-" + uuid.uuid4().hex[:6]
    store = "/tmp/nkt-%s" % cluster
    # occupy a port inside the host with a process of no cluster
    blocker = subprocess.Popen([TESTHOSTS, "exec", head["name"], "--user", "nokube", "--", "python3", "-c",
                                "import socket,time; s=socket.socket(); s.bind(('0.0.0.0',26400)); s.listen(); "
                                "print('up', flush=True); time.sleep(120)"], stdout=subprocess.PIPE)
    try:
        assert blocker.stdout.readline().strip() == b"up"
        out = call(head["name"], "start", {**START, "cluster": cluster, "storage": store, "python": None, "role": "head",
                                           "restart": False, "applied": {"log_rotation": ROTATION, "ray": {"gcs_port": 26400, "dashboard_port": 28266, "port": 20002}}})
        assert out["ok"] is False and "26400" in out["error"] and "gcs_port" in out["error"]
        pr = call(head["name"], "probe", {"cluster": cluster, "storage": store, "python": None,
                                          "ports": [{"name": "gcs_port", "port": 26400}]})
        assert pr["ports"][0] == {"name": "gcs_port", "port": 26400, "in_use": True, "by_this_cluster": False}
    finally:
        blocker.kill()
        blocker.wait()
        hexec(head["name"], "pkill -u nokube -f 'socket.*26400' || true")


def test_port_in_worker_range_explained(two_hosts):
    head = two_hosts[0]
    cluster = "pyt-" + uuid.uuid4().hex[:6]
    out = call(head["name"], "start", {**START, "cluster": cluster, "storage": "/tmp/nkt-%s" % cluster, "python": None,
                                       "role": "head", "restart": False, "applied": {"log_rotation": ROTATION, "ray": {"gcs_port": 16379, "dashboard_port": 28267, "port": 20003}}})
    assert out["ok"] is False and "16379" in out["error"] and "worker port range" in out["hint"], out
    assert "worker_ports" in out["log_tail"]


def test_worker_with_unreachable_head_fails_fast(two_hosts):
    worker = two_hosts[1]
    cluster = "pyt-" + uuid.uuid4().hex[:6]
    t0 = time.time()
    out = call(worker["name"], "start", {**START, "cluster": cluster, "storage": "/tmp/nkt-%s" % cluster, "python": None,
                                         "role": "worker", "restart": False, "applied": {"log_rotation": ROTATION, "ray": {"num_cpus": 1}},
                                         "head_address": "10.88.0.1:1"})
    assert out["ok"] is False and "10.88.0.1:1" in out["error"] and "refused" in out["error"], out
    assert out["hint"] and time.time() - t0 < 15
    left = call(worker["name"], "stop", {"cluster": cluster, "storage": "/tmp/nkt-%s" % cluster, "grace_sec": 10})
    assert left["remaining"] == 0 and left["was_running"] is False


def test_start_failure_carries_log_tail(two_hosts):
    """A head whose `ray start` fails returns Ray's output; nothing of it is left running."""
    head = two_hosts[0]
    cluster = "pyt-" + uuid.uuid4().hex[:6]
    store = "/tmp/nkt-%s" % cluster
    out = call(head["name"], "start", {**START, "cluster": cluster, "storage": store, "python": None, "role": "head",
                                       "restart": False, "applied": {"log_rotation": ROTATION, "ray": {"gcs_port": 26500, "dashboard_port": 28500, "port": 20010,
                                                "object_store_memory": 1000}}})
    assert out["ok"] is False and out["log_tail"] and out["error"].startswith("ray start failed"), out
    assert call(head["name"], "stop", {"cluster": cluster, "storage": store, "grace_sec": 10})["was_running"] is False
    assert call(head["name"], "status", {"cluster": cluster, "storage": store})["applied"] is None
