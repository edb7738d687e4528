# Exited workers' log files in the live session (ray_spec.keep_dead_worker_logs). Ray writes a set per
# worker process (worker-<id>-<job>-<pid>.out/.err, python-core-worker-<id>_<pid>.log, their rotated
# copies) and keeps them until the session ends: a cluster that runs for weeks fills its disk with them
# (ray#62961). The supervisor removes the oldest sets beyond the bound; never a set whose process is
# alive, and never a file any process has open (a `tail -f`, Ray's log monitor: it goes once closed).
import os

from .protocol import re
from .processes import pid_alive

# (worker id, pid) from a worker log's name; a rotated copy ends in .N (.out.1, or .1.log for C++ logs)
_WORKER_LOG_NAMES = (
    re.compile(r"^(?:io_)?worker-([0-9a-f]+)(?:-[0-9a-f]+)?-(\d+)\.(?:out|err)(?:\.\d+)?$"),
    re.compile(r"^python-core-(?:worker|driver)-([0-9a-f]+)_(\d+)(?:\.\d+)?\.log(?:\.\d+)?$"),
)


def worker_log_key(name):
    """(worker id, pid) of a worker's log file name, or None for any other file (pure)."""
    for pattern in _WORKER_LOG_NAMES:
        m = pattern.match(name)
        if m:
            return m.group(1), int(m.group(2))
    return None


def worker_logs_to_prune(sets, keep):
    """The paths to remove (pure). `sets`: {key: {"mtime": newest, "paths": [...], "dead": bool,
    "held": [paths some process has open]}}; the `keep` newest dead sets stay whole, and of the older
    ones every file but those held open (Ray's log monitor holds a worker's .out/.err until it has 200
    files open, then closes them all: the next pass removes them)."""
    dead = sorted((s for s in sets.values() if s["dead"]), key=lambda s: s["mtime"], reverse=True)
    out = []
    for s in dead[max(0, int(keep)):]:
        out.extend(p for p in s["paths"] if p not in s["held"])
    return sorted(out)


def _files_held_open():
    """Real paths of every file a process this user may look at holds open (/proc/PID/fd)."""
    held = set()
    try:
        pids = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return held
    for pid in pids:
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                held.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                pass
    return held


def prune_worker_logs(temp, keep):
    """Removes the logs of exited workers of the live session beyond the `keep` newest; the count of
    files removed. `temp` is the cluster's Ray temp dir (its session_latest is the live session)."""
    logs = os.path.join(temp, "session_latest", "logs")
    sets = {}
    for d in (logs, os.path.join(logs, "old")):  # Ray's log monitor moves some dead workers' logs to old/
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            key = worker_log_key(name)
            if not key:
                continue
            path = os.path.join(d, name)
            try:
                mtime = os.lstat(path).st_mtime
            except OSError:
                continue
            s = sets.setdefault(key, {"mtime": 0, "paths": [], "dead": not pid_alive(key[1]), "held": []})
            s["mtime"] = max(s["mtime"], mtime)
            s["paths"].append(path)
    if sum(1 for s in sets.values() if s["dead"]) <= max(0, int(keep)):
        return 0  # nothing to remove: no look at every process's open files
    held = _files_held_open()
    for s in sets.values():
        s["held"] = [p for p in s["paths"] if os.path.realpath(p) in held]
    removed = 0
    for path in worker_logs_to_prune(sets, keep):
        try:
            os.unlink(path)
            removed += 1
        except OSError:
            pass
    return removed
