# The network between the nodes. Before Ray starts: `listen` holds a node's ports open for a moment
# and `reach` connects to other nodes' ports (TCP connect, nothing sent). On a running cluster:
# `net_check`, run on the head, moves an object between nodes with a small Ray program.
import errno
import os
import struct
import sys
import time

from .protocol import Fail, json, need, select, socket, subprocess
from .storage import cluster_name, read_json_file, read_token, state_dir, storage_path
from .processes import cluster_pids, port_report
from .ray_found import find_ray


# A listener never outlives this, whatever the caller asked: it is never left behind on a node.
LISTEN_MAX_MS = 30000
REACH_MAX_MS = 15000
# connects in flight at once (each a file descriptor)
REACH_BATCH = 256


def _emit(**event):
    sys.stdout.write(json.dumps(event, sort_keys=True) + "\n")
    sys.stdout.flush()


def _family(inp):
    return socket.AF_INET6 if inp.get("family") == "inet6" else socket.AF_INET


def verb_listen(inp):
    """Binds each port (every interface), says which it holds (a `ready` event), then accepts until every
    expected connection came, the deadline passed, or the caller is gone (this process was handed to
    init: its SSH session closed). Answers which peers connected to which port."""
    ports = need(inp, "ports", "listen")
    deadline_ms = min(max(int(need(inp, "deadline_ms", "listen")), 0), LISTEN_MAX_MS)
    expect = {int(k): int(v) for k, v in (inp.get("expect") or {}).items()}
    family = _family(inp)
    cluster, storage = cluster_name(inp), storage_path(inp)
    parent = os.getppid()
    socks, bound, busy = {}, [], []
    for item in ports:
        port = int(item["port"])
        if port in socks:
            continue
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
            s.listen(64)
            s.setblocking(False)
        except OSError as e:
            s.close()
            entry = {"name": item.get("name"), "port": port, "error": e.strerror or str(e)}
            if e.errno == errno.EADDRINUSE:
                # Ray's own listener (a running node): the peers test that one instead
                entry["by_this_cluster"] = port_report([{"name": item.get("name"), "port": port}], cluster,
                                                       storage)[0]["by_this_cluster"]
            busy.append(entry)
            continue
        socks[port] = s
        bound.append(port)
    _emit(event="ready", bound=bound, busy=busy)
    peers = {}
    end = time.time() + deadline_ms / 1000.0
    poller = select.poll()
    by_fd = {}
    for port, s in socks.items():
        poller.register(s.fileno(), select.POLLIN)
        by_fd[s.fileno()] = (port, s)
    # the caller closing its channel (or its connection) hangs up our stdout: we end at once
    try:
        import stat

        mode = os.fstat(1).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            poller.register(1, 0)
    except OSError:
        pass

    def satisfied():
        return all(len(peers.get(str(p), [])) >= n for p, n in expect.items() if p in socks)

    timed_out = False
    try:
        while not (expect and satisfied()):
            left = end - time.time()
            if left <= 0:
                timed_out = True
                break
            if os.getppid() != parent:
                break  # the caller is gone
            gone = False
            for fd, _ in poller.poll(min(left, 0.2) * 1000):
                if fd == 1:
                    gone = True
                    continue
                port, s = by_fd[fd]
                try:
                    conn, addr = s.accept()
                except OSError:
                    continue
                # closed at once with a reset: no TIME_WAIT left on a port Ray is about to bind
                try:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
                conn.close()
                peer = addr[0][7:] if addr[0].startswith("::ffff:") else addr[0]
                peers.setdefault(str(port), []).append(peer)
            if gone:
                break
    finally:
        for s in socks.values():
            s.close()
    return {"ok": True, "bound": bound, "busy": busy, "peers": peers, "timed_out": timed_out}


def reach_all(targets, timeout_ms):
    """TCP connects to each {address, port} at once (non-blocking), each given `timeout_ms`:
    [{address, port, result: ok | refused | timeout | unreachable | error, ms, error?}]."""
    out = [None] * len(targets)
    for start in range(0, len(targets), REACH_BATCH):
        _reach_batch(targets, range(start, min(start + REACH_BATCH, len(targets))), timeout_ms, out)
    return out


def _reach_batch(targets, indexes, timeout_ms, out):
    poller = select.poll()
    pending = {}
    for i in indexes:
        t = targets[i]
        address, port = str(t["address"]), int(t["port"])
        row = {"address": address, "port": port}
        out[i] = row
        t0 = time.time()
        try:
            s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            row.update(result="error", ms=0, error=e.strerror or str(e))
            continue
        s.setblocking(False)
        code = s.connect_ex((address, port))
        if code in (0, errno.EINPROGRESS, errno.EAGAIN):
            pending[s.fileno()] = (s, row, t0)
            poller.register(s.fileno(), select.POLLOUT | select.POLLERR | select.POLLHUP)
        else:
            _finish(s, row, t0, code)
    end = time.time() + timeout_ms / 1000.0
    while pending:
        left = end - time.time()
        if left <= 0:
            break
        for fd, _ in poller.poll(left * 1000):
            s, row, t0 = pending.pop(fd)
            poller.unregister(fd)
            _finish(s, row, t0, s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    for s, row, t0 in pending.values():
        s.close()
        row.update(result="timeout", ms=int((time.time() - t0) * 1000))


def _finish(s, row, t0, code):
    row["ms"] = int((time.time() - t0) * 1000)
    if code in (0, errno.ECONNRESET):
        # a reset after the handshake is the listener closing at once (it resets, not to leave a
        # TIME_WAIT on the port): the port was reached (a refused handshake is ECONNREFUSED)
        row["result"] = "ok"
    elif code == errno.ECONNREFUSED:
        row["result"] = "refused"
    elif code in (errno.ETIMEDOUT,):
        row["result"] = "timeout"
    elif code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        row["result"] = "unreachable"
        row["error"] = os.strerror(code)
    else:
        row["result"] = "error"
        row["error"] = os.strerror(code)
    s.close()


def verb_reach(inp):
    timeout_ms = min(max(int(need(inp, "timeout_ms", "reach")), 1), REACH_MAX_MS)
    return {"ok": True, "results": reach_all(need(inp, "targets", "reach"), timeout_ms)}


# Run on the head under Ray's interpreter. Each node holds an object (put by a task placed there) and
# each node of a pair fetches the other's, with a deadline; each node also connects to the node
# manager and object manager ports the head's node table gives for its peers (and the head to all).
_CHECK_SNIPPET = r"""
import json, socket, sys, time
inp = json.loads(sys.stdin.readline())
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(address=inp["address"], logging_level="ERROR", log_to_driver=False)
deadline = float(inp["deadline_sec"])
size = int(inp["object_bytes"])
table = {}
for n in ray.nodes():
    name = (n.get("Labels") or {}).get("nokube.io/node")
    if n.get("Alive") and name:
        table[name] = {"id": n["NodeID"], "ip": n["NodeManagerAddress"],
                       "ports": {"node manager": n.get("NodeManagerPort"), "object manager": n.get("ObjectManagerPort")}}

def connect(address, port, timeout):
    t0 = time.time()
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return {"result": "ok", "ms": int((time.time() - t0) * 1000)}
    except socket.timeout:
        return {"result": "timeout", "ms": int((time.time() - t0) * 1000)}
    except ConnectionRefusedError:
        return {"result": "refused", "ms": int((time.time() - t0) * 1000)}
    except OSError as e:
        return {"result": "error", "error": str(e), "ms": int((time.time() - t0) * 1000)}

def reach(targets, timeout):
    out = []
    for t in targets:
        r = connect(t["ip"], t["port"], timeout)
        r.update(t)
        out.append(r)
    return out

def on(name):
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(table[name]["id"], soft=False)}

# one object per pair: once a node fetched an object it holds a copy, which others could fetch instead
@ray.remote(num_cpus=0, max_retries=0)
def hold(size, count):
    objects = tuple(bytes([65 + i % 26]) * size for i in range(count))
    return objects[0] if count == 1 else objects

@ray.remote(num_cpus=0, max_retries=0)
def fetch(boxed, deadline):
    t0 = time.time()
    try:
        got = ray.get(boxed[0], timeout=deadline)
        return {"ok": len(got) == size, "ms": int((time.time() - t0) * 1000)}
    except Exception as e:
        kind = "timed out" if "Timeout" in type(e).__name__ else (str(e).strip().splitlines() or [type(e).__name__])[0]
        return {"ok": False, "ms": int((time.time() - t0) * 1000), "error": kind}

@ray.remote(num_cpus=0, max_retries=0)
def knock(targets, timeout):
    return reach(targets, timeout)

names = [n for n in inp["nodes"] if n in table]
pairs = [p for p in inp["pairs"] if p[0] in table and p[1] in table]
fetchers = {}
for h, f in pairs:
    fetchers.setdefault(h, []).append(f)
held = {}
for n, fs in fetchers.items():
    refs = hold.options(num_returns=len(fs), **on(n)).remote(size, len(fs))
    for f, ref in zip(fs, [refs] if len(fs) == 1 else refs):
        held[(n, f)] = ref
port_timeout = float(inp["port_timeout_sec"])
def targets_of(src, dsts):
    return [{"to": d, "ip": table[d]["ip"], "port": port, "what": what}
            for d in dsts for what, port in sorted(table[d]["ports"].items()) if port]
peers_of = {}
for holder, fetcher in pairs:
    peers_of.setdefault(fetcher, []).append(holder)
knocks = {n: knock.options(**on(n)).remote(targets_of(n, sorted(set(peers_of.get(n, [])))), port_timeout)
          for n in names}
t0 = time.time()
fetches = [(h, f, fetch.options(**on(f)).remote([held[(h, f)]], deadline)) for h, f in pairs]
out = {"ok": True, "nodes": sorted(table), "pairs": [], "ports": []}
refs = [r for _, _, r in fetches] + list(knocks.values())
# a worker process starts on each node first (seconds on a busy node): the deadlines run after it
ray.wait(refs, num_returns=len(refs), timeout=deadline * 2 + port_timeout * 4 + 30)
for holder, fetcher, ref in fetches:
    try:
        r = ray.get(ref, timeout=0)
    except Exception as e:
        r = {"ok": False, "ms": int((time.time() - t0) * 1000),
             "error": "the task on %s did not finish within %ss" % (fetcher, int(deadline))
             if "Timeout" in type(e).__name__ else str(e).strip().splitlines()[0]}
    r.update({"from": holder, "to": fetcher})
    out["pairs"].append(r)
for name, ref in knocks.items():
    try:
        rows = ray.get(ref, timeout=0)
    except Exception as e:
        rows = [dict(t, result="error", error="the task on %s did not run: %s" % (name, type(e).__name__), ms=0)
                for t in targets_of(name, sorted(set(peers_of.get(name, []))))]
    for r in rows:
        r["from"] = name
        out["ports"].append(r)
for r in reach(targets_of(None, names), port_timeout):
    r["from"] = "(head's driver)"
    out["ports"].append(r)
print("NOKUBE_CHECK=" + json.dumps(out))
"""


def verb_net_check(inp):
    """Head: the Ray program above, under the interpreter the running Ray was started with."""
    cluster, storage = cluster_name(inp), storage_path(inp)
    sd = state_dir(storage)
    if not cluster_pids(cluster, storage):
        raise Fail("Ray of this cluster is not running on the head", "start it first: nokube ray start")
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
    if not python:
        raise Fail("no Python with Ray found on the head", "set ray_spec.python, or start the cluster first")
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    token_path = os.path.join(sd, "auth_token")
    if runtime.get("auth") == "token" and read_token(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    deadline = float(need(inp, "deadline_sec", "net_check"))
    program = {
        "address": "127.0.0.1:%d" % int(need(inp, "gcs_port", "net_check")),
        "nodes": need(inp, "nodes", "net_check"),
        "pairs": need(inp, "pairs", "net_check"),
        "deadline_sec": deadline,
        "object_bytes": int(need(inp, "object_bytes", "net_check")),
        "port_timeout_sec": float(need(inp, "port_timeout_sec", "net_check")),
    }
    limit = deadline * 2 + 120
    try:
        p = subprocess.run([python, "-c", _CHECK_SNIPPET], input=(json.dumps(program) + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise Fail("the check's Ray program did not end within %ds" % limit,
                   "read the head's Ray logs (nokube ray logs): a node may not run tasks")
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_CHECK="):
            return json.loads(line[len("NOKUBE_CHECK="):])
    tail = p.stderr.decode(errors="replace").strip()[-800:]
    raise Fail("the check's Ray program failed (exit %s): %s" % (p.returncode, tail or "no output"))
