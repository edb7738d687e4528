# The programs run under another interpreter (Ray's, or the configured one), as `python -c`: what
# the interpreter has (also run in this one), the head's view through ray.nodes(), a drain through
# the GCS, a job submitted by Ray's own client. They take argv or stdin and print JSON lines.

_INFO_SNIPPET = r"""
import os, sys


def interpreter_info():
    r = {"python": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "prefix": sys.prefix}
    try:
        # importlib.util.find_spec("ray") without importing importlib.util: the first finder that knows it
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find("ray", None) if find else None
            if spec is not None:
                break
        if spec is not None and spec.submodule_search_locations:
            r["ray_dir"] = list(spec.submodule_search_locations)[0]
            site = os.path.dirname(r["ray_dir"])
            for d in sorted(os.listdir(site)):
                if d.startswith("ray-") and d.endswith(".dist-info"):
                    r["ray_version"] = d[4:-10]
            if not r.get("ray_version"):
                try:
                    import importlib.metadata as md
                    r["ray_version"] = md.version("ray")
                except Exception:
                    pass
    except Exception as e:
        r["error"] = str(e)
    return r
"""


_INFO_PRINT = "\nimport json\nprint(json.dumps(interpreter_info()))\n"


_NODES_SNIPPET = r"""
import json, sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
out = []
for n in ray.nodes():
    labels = n.get("Labels") or {}
    out.append({"node_id": n.get("NodeID"), "node_ip": n.get("NodeManagerAddress"), "alive": bool(n.get("Alive")),
                "name": labels.get("nokube.io/node"), "resources": n.get("Resources") or {}, "labels": labels})
print("NOKUBE_NODES=" + json.dumps(out))
"""


_DRAIN_SNIPPET = r"""
import json, sys, ray
from ray.core.generated import autoscaler_pb2
gcs = ray._raylet.GcsClient(address=sys.argv[1])
accepted, message = gcs.drain_node(sys.argv[2], autoscaler_pb2.DrainNodeReason.Value("DRAIN_NODE_REASON_PREEMPTION"),
                                   "nokube: stopping this node for a deploy", int(sys.argv[3]))
print("NOKUBE_DRAIN=" + json.dumps({"accepted": bool(accepted), "message": message}))
"""


# Run under Ray's interpreter: Ray's own client uploads the working dir (its rules: .gitignore,
# .rayignore, excludes, the package size limit), submits, and tails the log as it comes.
_JOB_SUBMIT_SNIPPET = r"""
import asyncio, json, os, shutil, sys, time
inp = json.loads(sys.stdin.readline())
def emit(**e):
    sys.stdout.write(json.dumps(e) + "\n")
    sys.stdout.flush()
from ray.job_submission import JobSubmissionClient
client = JobSubmissionClient(inp["address"])
try:
    job_id = client.submit_job(entrypoint=inp["entrypoint"], runtime_env=inp.get("runtime_env") or None,
                               submission_id=inp.get("submission_id"), metadata=inp.get("metadata") or None)
except Exception as e:
    emit(result={"ok": False, "error": "Ray did not accept the job: %s" % (str(e).strip() or type(e).__name__),
                 "rejected": True})
    sys.exit(0)
finally:
    if inp.get("cleanup"):
        shutil.rmtree(inp["cleanup"], ignore_errors=True)
emit(event="submitted", job_id=job_id)
if inp.get("follow"):
    async def tail():
        async for chunk in client.tail_job_logs(job_id):
            emit(event="log", text=chunk)
    try:
        asyncio.run(tail())
    except Exception as e:
        emit(event="warning", text="the log stream ended early: %s" % e)
    while str(client.get_job_status(job_id)) not in ("SUCCEEDED", "FAILED", "STOPPED"):
        time.sleep(0.2)
emit(result={"ok": True, "job_id": job_id})
"""
