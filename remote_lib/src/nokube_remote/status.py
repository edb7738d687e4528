# `status`: what runs on the node and, on the head, its view of the cluster (the dashboard's
# state API, else ray.nodes() in a child), waited on while a start settles.
import os
import time

from .protocol import json, log, need, subprocess
from .node import _comm
from .storage import cluster_name, _digest, read_json_file, read_token, state_dir, storage_path, temp_dir_for
from .processes import cluster_pids
from .ray_programs import _NODES_SNIPPET
from .ray_found import find_ray
from .start_stop import read_node_id
from .usage import http_usage
from .supervise import restarts_seen, supervision_report


def dashboard_base(runtime, port):
    """The URL the head's own tools reach its dashboard at: where `start` bound it (runtime.json's
    dashboard_host), loopback when it listens on every interface or the head predates that field."""
    host = str((runtime or {}).get("dashboard_host") or "")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return "http://%s:%d" % ("[%s]" % host if ":" in host else host, int(port))


def _http_nodes(base, token, timeout=5.0):
    import urllib.request

    url = "%s/api/v0/nodes?detail=true&limit=10000&timeout=%d" % (base, max(1, int(timeout)))
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = json.loads(r.read().decode())
    if not body.get("result", True) and body.get("msg"):
        raise RuntimeError(body.get("msg"))
    data = body.get("data", {}).get("result", {})
    rows = data.get("result", data) if isinstance(data, dict) else data
    out = []
    for n in rows:
        labels = n.get("labels") or {}
        out.append({"node_id": n.get("node_id"), "node_ip": n.get("node_ip"),
                    "alive": n.get("state") == "ALIVE", "is_head": bool(n.get("is_head_node")),
                    "name": labels.get("nokube.io/node"), "resources": n.get("resources_total") or {},
                    "labels": labels, "state_message": n.get("state_message")})
    return out


def view_key(nodes):
    """A short digest of the alive nodes as the engine reads them (IDs, names, resources, labels)."""
    alive = sorted(json.dumps(n, sort_keys=True) for n in nodes if n.get("alive"))
    return _digest("\n".join(alive))[:16]


MAX_WAIT_MS = 10000


def _http_nodes_changed(base, token, wait):
    """(the dashboard's node table, its view_key). With `wait` ({key, ms}): looked at here every
    100 ms until the alive nodes differ from `key` (a view_key the caller holds) or `ms` pass, and
    the last table (or the dashboard's error) is the answer: one call while a start settles, instead
    of one SSH exec and one Python per look (each of those costs the starting head's CPU)."""
    if not isinstance(wait, dict):
        wait = {"key": None, "ms": 0}  # no wait asked for: one look
    wait_ms = int(need(wait, "ms", "status wait"))
    deadline = time.time() + min(max(wait_ms, 0), MAX_WAIT_MS) / 1000.0
    while True:
        try:
            nodes = _http_nodes(base, token)
            key = view_key(nodes)
            if key != wait.get("key") or time.time() >= deadline:
                return nodes, key
        except Exception:
            if time.time() >= deadline:
                raise
        time.sleep(0.1)


def _python_nodes(python, gcs_address, token_path, timeout=60.0):
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    if token_path and os.path.exists(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    p = subprocess.run([python, "-c", _NODES_SNIPPET, gcs_address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=env, timeout=timeout)
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_NODES="):
            return json.loads(line[len("NOKUBE_NODES="):])
    raise RuntimeError("ray.nodes() failed: %s" % p.stderr.decode(errors="replace").strip()[-500:])


def cluster_usage(base, token, nodes):
    """`usage` asked: used / total and pending demand (usage.py), the resource names taken from the view."""
    names = set()
    for n in nodes or []:
        names.update((n.get("resources") or {}).keys())
    return http_usage(base, token, sorted(names))


def verb_status(inp, pids=None):
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    sd = state_dir(storage)
    if pids is None:
        pids = cluster_pids(cluster, storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    out = {"ok": True, "running": bool(pids), "applied": read_json_file(os.path.join(sd, "applied.json"))}
    # The raylet is the node: without it the node is gone at once, while the head notices only
    # after Ray's health-check window (and leftover agents still count as "running").
    out["raylet"] = any(_comm(pid) == "raylet" for pid in pids)
    out["supervision"] = supervision_report(cluster, storage)
    if out["supervision"] and inp.get("seen_by"):
        out["supervision"]["new_restarts"] = restarts_seen(storage, str(inp["seen_by"]), out["supervision"])
    if pids and runtime:
        out["ray_version"] = runtime.get("ray_version")
        out["python_version"] = runtime.get("python_version")
        out["node_id"] = runtime.get("node_id") or read_node_id(runtime.get("temp_dir") or temp_dir_for(cluster, storage))
        out["auth"] = runtime.get("auth")
    else:
        ray, pyinfo, err = find_ray(inp.get("python"))
        out["ray_version"] = ray["version"] if ray else None
        out["python_version"] = ray["python_version"] if ray else pyinfo.get("version")
    role = inp.get("role") or runtime.get("role")
    if pids and role == "head":
        dport, gport = int(need(inp, "dashboard_port", "status")), int(need(inp, "gcs_port", "status"))
        token_path = os.path.join(sd, "auth_token")
        token = read_token(token_path) if runtime.get("auth") == "token" else None
        try:
            out["cluster"], out["view_key"] = _http_nodes_changed(dashboard_base(runtime, dport), token,
                                                                   inp.get("wait"))
            out["cluster_source"] = "dashboard"
            if inp.get("usage"):
                out["usage"] = cluster_usage(dashboard_base(runtime, dport), token, out["cluster"])
        except Exception as e:  # dashboard down or still starting
            if inp.get("fallback") is False:
                # the caller polls again shortly: `import ray` in a child (seconds of CPU while Ray's
                # own daemons are starting) would only slow down the start it is waiting for
                out["cluster"] = None
                out["cluster_error"] = "the dashboard at %s does not answer yet: %s" % (dashboard_base(runtime, dport), e)
                return out
            log("dashboard API at %s failed (%s); falling back to ray.nodes()" % (dashboard_base(runtime, dport), e))
            try:
                python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
                out["cluster"] = _python_nodes(python, "127.0.0.1:%d" % gport,
                                               token_path if token else None)
                out["cluster_source"] = "ray.nodes"
                if inp.get("usage"):
                    out["usage"] = {"known": False, "why": "the dashboard does not answer: %s" % e}
            except Exception as e2:
                out["cluster"] = None
                out["cluster_error"] = "cannot read the cluster view: dashboard: %s; ray.nodes(): %s" % (e, e2)
    return out
