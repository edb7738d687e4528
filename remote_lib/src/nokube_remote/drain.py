# `drain` (head): one node drained through Ray's GCS, then watched until it has left.
import os
import time

from .protocol import Fail, json, log, need, re, subprocess
from .storage import cluster_name, read_json_file, read_token, state_dir, storage_path
from .ray_programs import _DRAIN_SNIPPET
from .ray_found import find_ray
from .status import dashboard_base, _http_nodes


def _running_tasks(base, token, node_id, timeout=5.0):
    """Tasks the state API lists as RUNNING on one node (None when it cannot tell)."""
    import urllib.request

    q = ("filter_keys=node_id&filter_predicates=%3D&filter_values={0}"
         "&filter_keys=state&filter_predicates=%3D&filter_values=RUNNING").format(node_id)
    url = "%s/api/v0/tasks?limit=10000&detail=false&timeout=%d&%s" % (base, int(timeout), q)
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.loads(r.read().decode())
        data = body.get("data", {}).get("result", {})
        rows = data.get("result", data) if isinstance(data, dict) else data
        return len(rows)
    except Exception as e:
        log("task count on %s failed: %s" % (node_id, e))
        return None


def verb_drain(inp):
    """Head: drains one node through the GCS (Ray's DrainNode, as `ray drain-node` sends it), then
    waits until the node has left the cluster (its raylet exits once idle) or the deadline passes."""
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    sd = state_dir(storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    node_id = str(inp.get("node_id") or "")
    if not re.match(r"^[0-9a-f]{8,}$", node_id):
        raise Fail("drain needs the node's hex id, got %r" % node_id)
    deadline_sec = max(0.0, float(need(inp, "deadline_sec", "drain")))
    dport = int(need(inp, "dashboard_port", "drain"))
    gport = int(need(inp, "gcs_port", "drain"))
    token_path = os.path.join(sd, "auth_token")
    token = read_token(token_path) if runtime.get("auth") == "token" else None
    python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
    if not python:
        raise Fail("no Ray found on the head to send the drain request with")
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_AUTH_MODE"] = "token" if token else "disabled"
    if token:
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    t0 = time.time()
    deadline_ms = int((t0 + deadline_sec) * 1000)
    p = subprocess.run([python, "-c", _DRAIN_SNIPPET, "127.0.0.1:%d" % gport, node_id, str(deadline_ms)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, timeout=120)
    answer = None
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_DRAIN="):
            answer = json.loads(line[len("NOKUBE_DRAIN="):])
    if answer is None:
        raise Fail("the drain request failed: %s" % p.stderr.decode(errors="replace").strip()[-500:])
    if not answer["accepted"]:
        return {"ok": True, "accepted": False, "message": answer["message"], "drained": False,
                "waited_ms": int((time.time() - t0) * 1000)}
    end = t0 + deadline_sec
    drained = False
    while True:
        try:
            view = [n for n in _http_nodes(dashboard_base(runtime, dport), token) if n.get("node_id") == node_id]
        except Exception as e:  # the dashboard is busy: look again
            log("node view failed: %s" % e)
            view = None
        if view is not None and not any(n.get("alive") for n in view):
            drained = True
            break
        if time.time() >= end:
            break
        time.sleep(0.25)
    out = {"ok": True, "accepted": True, "drained": drained, "waited_ms": int((time.time() - t0) * 1000)}
    if not drained:
        out["running_tasks"] = _running_tasks(dashboard_base(runtime, dport), token, node_id)
    return out
