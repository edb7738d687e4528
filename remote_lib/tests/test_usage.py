# `status` with `usage`: the dashboard's /api/cluster_status read back into Ray's resource names.
import http.server
import json
import threading

# What Ray 2.60's dashboard answers (its rest_response renames every dict key to camelCase; the
# bundles inside lists keep Ray's own names).
ANSWER = {
    "result": True,
    "msg": "Got cluster status.",
    "data": {
        "autoscalingStatus": None,
        "clusterStatus": {
            "time": 1765141200.5,
            "loadMetricsReport": {
                "usage": {
                    "CPU": [2.0, 6.0],
                    "GPU": [0.0, 1.0],
                    "memory": [0.0, 6442450944.0],
                    "objectStoreMemory": [1048576.0, 2147483648.0],
                    "myRes": [1.0, 4.0],
                    "node:10.88.0.11": [0.0, 1.0],
                    "CPUGroupAbc123": [0.0, 2.0],
                },
                "resourceDemand": [[{"CPU": 64.0}, 1], [{"CPU": 1.0, "bundle": 0.001}, 2]],
                "pgDemand": [[{"bundles": [[{"CPU": 4.0}, 2]], "strategy": "PACK"}, 1]],
                "requestDemand": [],
                # keyed by node ID (Ray 2.60; older Ray: by IP)
                "usageByNode": {
                    "48c1cf1bd2fd46a07bd3c679e6308df7b95063dbeef9c3d4d0b46d98": {"CPU": [2.0, 2.0], "objectStoreMemory": [1048576.0, 1073741824.0]},
                    "10.88.0.12": {"CPU": [0.0, 4.0], "myRes": [1.0, 4.0]},
                },
            },
        },
    },
}


class Dashboard(object):
    def __init__(self, body, status=200):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.paths.append(self.path)
                outer.auth.append(self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.paths, self.auth = [], []
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_usage_is_read_back_in_rays_names_with_pending_demand(lib):
    d = Dashboard(ANSWER)
    try:
        u = lib.http_usage(d.base, "tok", ["CPU", "my_res", "node:10.88.0.11"])
    finally:
        d.close()
    assert d.paths == ["/api/cluster_status"]
    assert d.auth == ["Bearer tok"]
    assert u["known"] is True
    assert u["time"] == 1765141200.5
    # a node's own `node:<ip>` and a placement group's `CPU_group_<id>` are left out, as `ray status` does
    assert u["total"] == {"CPU": [2.0, 6.0], "GPU": [0.0, 1.0], "memory": [0.0, 6442450944.0],
                          "object_store_memory": [1048576.0, 2147483648.0], "my_res": [1.0, 4.0]}
    assert u["by_node"] == {"48c1cf1bd2fd46a07bd3c679e6308df7b95063dbeef9c3d4d0b46d98": {"CPU": [2.0, 2.0], "object_store_memory": [1048576.0, 1073741824.0]},
                          "10.88.0.12": {"CPU": [0.0, 4.0], "my_res": [1.0, 4.0]}}
    assert u["pending"] == [{"resources": {"CPU": 64.0}, "count": 1}, {"resources": {"CPU": 1.0}, "count": 2}]
    assert u["pending_groups"] == [{"bundles": [{"resources": {"CPU": 4.0}, "count": 2}], "strategy": "PACK",
                                    "count": 1}]
    assert u["requested"] == []


def test_a_ray_without_the_report_is_unknown_not_an_error(lib):
    d = Dashboard({"result": True, "msg": "", "data": {"autoscalingStatus": None, "clusterStatus": None}})
    try:
        u = lib.http_usage(d.base, None)
    finally:
        d.close()
    assert u == {"known": False, "why": "this Ray's autoscaler reports no resource usage"}
    assert d.auth == [None]


def test_a_dashboard_without_the_endpoint_is_unknown(lib):
    d = Dashboard({"result": False, "msg": "not found"}, status=404)
    try:
        u = lib.http_usage(d.base, None)
    finally:
        d.close()
    assert u["known"] is False
    assert "/api/cluster_status did not answer" in u["why"] and "404" in u["why"]


def test_a_dashboard_that_does_not_answer_is_unknown_within_the_timeout(lib):
    import socket
    import time

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)  # accepts the connection, never answers
    try:
        t0 = time.time()
        u = lib.http_usage("http://127.0.0.1:%d" % s.getsockname()[1], None, timeout=0.5)
        assert time.time() - t0 < 3
    finally:
        s.close()
    assert u["known"] is False and "timed out" in u["why"]
