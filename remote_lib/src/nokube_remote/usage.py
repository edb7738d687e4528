# `status` with `usage` (head): what the cluster is doing, as Ray's own `ray status` shows it: used /
# total of each resource, in total and per node, and the demand waiting for resources. One HTTP call
# to the dashboard's /api/cluster_status: the report Ray's autoscaler monitor keeps in the GCS
# (refreshed every ~5 s), the same one `ray status` prints.
from .protocol import json

USAGE_TIMEOUT_SEC = 3.0

# Ray's names for the resources every node has (the dashboard renames keys to camelCase).
STANDARD_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory")


def _camel(name):
    """The dashboard's to_camel_case (keys of dicts in its answers are renamed with it)."""
    parts = name.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def _table(usage, names):
    """{resource: [used, total]} with the names given back: Ray's own when known (else left out:
    a placement group's `CPU_group_<id>` or a node's `node:<ip>`, which `ray status` does not show either)."""
    out = {}
    for key, pair in (usage or {}).items():
        name = names.get(key)
        if name is None or name.startswith("node:") or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        out[name] = [float(pair[0]), float(pair[1])]
    return out


def _bundles(items):
    """[[{resource: amount}, count], ...] as [{"resources": ..., "count": n}] (pending tasks and actors)."""
    out = []
    for item in items or []:
        if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], dict):
            # `bundle` is Ray's own marker of a placement group's bundle, not a resource a user asked for
            res = dict((k, float(v)) for k, v in item[0].items() if k != "bundle")
            if res:
                out.append({"resources": res, "count": int(item[1])})
    return out


def _groups(items):
    """Pending placement groups: [[{bundles: [[bundle, n]], strategy}, count], ...]."""
    out = []
    for item in items or []:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], dict)):
            continue
        pg = item[0]
        out.append({"bundles": _bundles(pg.get("bundles")), "strategy": str(pg.get("strategy") or ""),
                    "count": int(item[1])})
    return out


def _get(d, *keys):
    for k in keys:
        if isinstance(d, dict) and k in d:
            return d[k]
    return None


def http_usage(base, token, resource_names=(), timeout=USAGE_TIMEOUT_SEC):
    """The cluster's usage and pending demand, or {"known": False, "why": ...} when this Ray does not
    say (too old, an autoscaler that does not write the report, the dashboard down)."""
    import urllib.request

    names = dict((_camel(n), n) for n in list(STANDARD_RESOURCES) + list(resource_names))
    names.update(dict((n, n) for n in list(STANDARD_RESOURCES) + list(resource_names)))
    req = urllib.request.Request("%s/api/cluster_status" % base)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.loads(r.read().decode())
    except Exception as e:
        return {"known": False, "why": "the dashboard's /api/cluster_status did not answer: %s" % e}
    data = body.get("data") if isinstance(body, dict) else None
    status = _get(data, "clusterStatus", "cluster_status")
    report = _get(status, "loadMetricsReport", "load_metrics_report")
    if not isinstance(report, dict):
        return {"known": False, "why": "this Ray's autoscaler reports no resource usage"}
    by_node = _get(report, "usageByNode", "usage_by_node") or {}
    return {
        "known": True,
        "time": _get(status, "time"),
        "total": _table(report.get("usage"), names),
        # keyed by node ID (Ray 2.60's autoscaler) or by the node's IP address (older Ray)
        "by_node": dict((k, _table(u, names)) for k, u in by_node.items()) if isinstance(by_node, dict) else {},
        "pending": _bundles(_get(report, "resourceDemand", "resource_demand")),
        "pending_groups": _groups(_get(report, "pgDemand", "pg_demand")),
        "requested": _bundles(_get(report, "requestDemand", "request_demand")),
    }
