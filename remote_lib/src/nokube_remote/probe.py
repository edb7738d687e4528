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
from .ray_found import find_ray, python_first, supports_token_auth
from .lock import verb_lock
from .gcs_redis import check_redis
from .status import verb_status
from .gpus import gpu_report
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
        runtime = read_json_file(os.path.join(state_dir(storage), "runtime.json")) or {}
        out["running_ray_version"] = runtime.get("ray_version")
        out["running_python_first"] = running_python_first(pids, runtime)
    if err:
        out["storage"]["error"] = err
        out["storage"]["unsafe"] = storage_safety(storage) is not None
    if inp.get("gpus"):
        # asked by `init` only: nvidia-smi takes a while, and no deploy needs it
        out["gpus"] = gpu_report()
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


def _environ(pid):
    """The environment of a running process (same user: /proc/<pid>/environ is readable), or None."""
    try:
        with open("/proc/%d/environ" % int(pid), "rb") as f:
            items = f.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return dict(i.decode(errors="replace").split("=", 1) for i in items if b"=" in i)


def running_python_first(pids, runtime):
    """Whether the running Ray was started with its interpreter first on PATH (a job's `python` is
    Ray's): read from the raylet's environment, else from runtime.json (nokube records the PATH it
    gave `ray start`); {"known": False} for a Ray started by an older nokube or by hand."""
    python = runtime.get("python")
    env = None
    for pid in sorted(pids, key=lambda p: _comm(p) != "raylet"):
        env = _environ(pid)
        if env is not None:
            break
    path = env.get("PATH") if env is not None else runtime.get("path")
    if not python or path is None:
        return {"known": False}
    first, found = python_first(python, path)
    # with the SSH session's variables, the `bash -c` Ray starts its workers with reads ~/.bashrc,
    # which may put another python first (pyenv, conda): a Ray started by an older nokube
    return {"known": True, "first": first, "python": python, "found": found,
            "ssh_session": "SSH_CLIENT" in (env or {})}
