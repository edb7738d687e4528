# `probe`: the first look at a node (storage, Python, Ray, ports, what runs), with the
# deploy lock and the head's view in the same call when asked.
import os

from .protocol import Fail
from .node import _comm, cpu_count, current_user, meminfo_bytes, shm_bytes
from .storage import (
    cluster_name,
    read_json_file,
    read_token,
    state_dir,
    storage_check,
    storage_path,
    storage_safety,
    temp_dir_for,
)
from .processes import cluster_pids, port_report
from .ray_found import find_ray, supports_token_auth
from .lock import verb_lock
from .gcs_redis import check_redis
from .status import verb_status
from .launchers import detect_launcher
from .supervise import supervision_report


def verb_probe(inp):
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    if isinstance(inp.get("lock"), dict):
        # the deploy lock first, in the same call (saves `start` a round trip to the head): the
        # probe below then sees what the previous holder left
        try:
            lock = verb_lock(dict(inp["lock"], cluster=inp.get("cluster"), storage=inp.get("storage")))
        except Fail as e:
            lock = {"ok": False, "acquired": False, "error": e.error}
            if e.hint:
                lock["hint"] = e.hint
        except OSError as e:  # the storage path: the probe below reports it
            lock = {"ok": False, "acquired": False, "error": "%s: %s" % (e.filename or storage, e.strerror)}
        if lock.get("ok") and not lock.get("acquired"):
            return {"ok": True, "lock": lock}  # held by another run: the caller waits, then probes again
    writable, err = storage_check(storage)
    ray, pyinfo, ray_error = find_ray(inp.get("python"))
    pids = cluster_pids(cluster, storage)
    out = {
        "ok": True,
        "hostname": os.uname()[1],
        "user": current_user(),
        "storage": {"path": storage, "writable": writable},
        "python": {"path": pyinfo.get("python"), "version": pyinfo.get("version")},
        "ray": None,
        "cpus": cpu_count(),
        "memory_bytes": meminfo_bytes(),
        "shm_bytes": shm_bytes(),
        "ports": port_report(inp.get("ports"), cluster, storage, pids),
        "running": bool(pids),
        "raylet": any(_comm(pid) == "raylet" for pid in pids),
        "applied": read_json_file(os.path.join(state_dir(storage), "applied.json")),
        "temp_dir": temp_dir_for(cluster, storage),
        # what supervises this cluster here (None: never supervised) and what would (plan names it)
        "supervision": supervision_report(cluster, storage),
        "launcher": detect_launcher(),
    }
    if pids:
        # the Ray the running processes were started with (an upgrade installs another one beside it)
        out["running_ray_version"] = (read_json_file(os.path.join(state_dir(storage), "runtime.json")) or {}).get(
            "ray_version")
    if err:
        out["storage"]["error"] = err
        out["storage"]["unsafe"] = storage_safety(storage) is not None
    if inp.get("role") == "head":
        # What the last `start` applied (nodes it may have to stop later) and, while the cluster
        # runs, its token so workers started now can join a head that is kept.
        out["members"] = read_json_file(os.path.join(state_dir(storage), "members.json"))
        out["auth_token"] = read_token(os.path.join(state_dir(storage), "auth_token")) if pids else None
        if pids and inp.get("view"):
            # the head's cluster view in the same call (saves the engine a second round trip)
            v = dict(inp["view"]) if isinstance(inp["view"], dict) else {}
            v.update({"cluster": cluster, "storage": inp.get("storage"), "role": "head",
                      "python": inp.get("python")})
            out["view"] = verb_status(v, pids=pids)
    if inp.get("role") == "head" and isinstance(inp.get("redis"), dict):
        # GCS fault tolerance: the head's Ray keeps its state there, so the head must reach it
        out["redis"] = {"address": inp["redis"].get("address"), "ok": True}
        problem = check_redis(inp["redis"].get("address"), inp["redis"].get("password"))
        if problem:
            out["redis"].update(ok=False, **problem)
    if isinstance(inp.get("lock"), dict):
        out["lock"] = lock
    if ray:
        out["ray"] = {"version": ray["version"], "python": ray["python"], "ray_bin": ray["ray_bin"],
                      "python_version": ray["python_version"], "token_auth": supports_token_auth(ray)}
        out["python"] = {"path": ray["python"], "version": ray["python_version"]}
        want = inp.get("ray_version")
        if want and want != ray["version"]:
            out["ray_error"] = "Ray %s found (%s), but %s is required" % (ray["version"], ray["python"], want)
    else:
        out["ray_error"] = ray_error
    return out
