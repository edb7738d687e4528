"""`listen` and `reach`: real sockets on loopback (no Ray needed)."""
import json
import os
import socket
import subprocess
import sys
import time


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _listen(lib_path, tmp_path, ports, expect, deadline_ms):
    inp = {"cluster": "c1", "storage": str(tmp_path / "s"), "ports": [{"name": "p%d" % p, "port": p} for p in ports],
           "expect": {str(p): n for p, n in expect.items()}, "deadline_ms": deadline_ms}
    p = subprocess.Popen([sys.executable, lib_path, "listen"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(json.dumps(inp).encode())
    p.stdin.close()
    ready = json.loads(p.stdout.readline())
    assert ready["event"] == "ready"
    return p, ready


def test_reach_names_open_refused_and_timed_out_ports(lib):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    open_port = server.getsockname()[1]
    closed = _free_port()
    # (a dropped port, which times out, is tested end to end with a firewall: __tests__/e2e/network-check)
    out = lib.verb_reach({"targets": [{"address": "127.0.0.1", "port": open_port},
                                      {"address": "127.0.0.1", "port": closed}], "timeout_ms": 300})
    server.close()
    assert [r["result"] for r in out["results"]] == ["ok", "refused"]
    assert all(isinstance(r["ms"], int) for r in out["results"])


def test_listen_holds_ports_until_every_expected_peer_came_then_frees_them(lib, lib_path, tmp_path):
    a, b = _free_port(), _free_port()
    p, ready = _listen(lib_path, tmp_path, [a, b], {a: 1, b: 1}, 10000)
    assert sorted(ready["bound"]) == sorted([a, b]) and ready["busy"] == []
    t0 = time.time()
    reached = lib.verb_reach({"targets": [{"address": "127.0.0.1", "port": a}, {"address": "127.0.0.1", "port": b}],
                              "timeout_ms": 2000})
    assert [r["result"] for r in reached["results"]] == ["ok", "ok"]
    answer = json.loads(p.stdout.readline())
    p.wait(5)
    assert time.time() - t0 < 5, "the listener should end as soon as every expected peer connected"
    assert answer["ok"] and answer["peers"] == {str(a): ["127.0.0.1"], str(b): ["127.0.0.1"]}
    # nothing left behind: the ports bind again at once (no listener, no TIME_WAIT)
    for port in (a, b):
        s = socket.socket()
        s.bind(("0.0.0.0", port))
        s.close()


def test_listen_ends_at_its_deadline_and_names_a_taken_port(lib_path, tmp_path):
    taken = socket.socket()
    taken.bind(("0.0.0.0", 0))
    taken.listen(1)
    busy = taken.getsockname()[1]
    free = _free_port()
    t0 = time.time()
    p, ready = _listen(lib_path, tmp_path, [busy, free], {free: 3}, 600)
    assert ready["bound"] == [free]
    assert [b["port"] for b in ready["busy"]] == [busy] and ready["busy"][0]["by_this_cluster"] is False
    answer = json.loads(p.stdout.readline())
    p.wait(5)
    taken.close()
    assert answer["timed_out"] is True and answer["peers"] == {}
    assert time.time() - t0 < 5


def test_listen_never_outlives_its_cap(lib):
    assert lib.LISTEN_MAX_MS <= 30000
