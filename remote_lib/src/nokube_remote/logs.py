# `logs`: this node's logs packed into one bounded archive the engine fetches over SFTP.
import os
import time

from .protocol import json, log, need, re, secrets
from .node import _comm, cpu_count, current_user, meminfo_bytes, _read, strip_ansi
from .storage import cluster_name, read_json_file, read_token, state_dir, storage_path, temp_dir_for
from .processes import cluster_pids
from .ray_found import find_ray


# Ray's session logs, most useful first (the rest of the directory follows while room is left)
_LOG_ORDER = (r"raylet\.(out|err)$", r"gcs_server\.(out|err)$", r"dashboard(\.log|\.err|\.out)$",
              r"monitor\.(log|out|err)$", r"worker-.*\.(out|err)$", r"python-core-driver-.*\.log$",
              r"(log_monitor|dashboard_agent|runtime_env_agent|ray_client_server).*", r".")


# Ray's error lines: glog "[ts E pid tid]" / "F" (C++ daemons), Python logging's ERROR, a traceback's
# last line ("SomethingError: ..."), and `ray start`'s own "ERROR"/"Error:" lines.
_KEY_LINE = r"^\[[^\]]* [EF] \d+ \d+\]|\b(ERROR|FATAL|CRITICAL)\b|^[A-Za-z_.]*(Error|Exception): |^Error: "
KEY_LINES_MAX = 20  # per node, most useful logs first
KEY_LINES_PER_FILE = 5  # the newest of each log


def key_lines(name, data, out):
    """Appends "name: line" for a log's newest error lines while the node's list has room."""
    found = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = strip_ansi(line).strip()
        if line and re.search(_KEY_LINE, line):
            found.append("%s: %s" % (name, line[:500]))
    out.extend(found[-KEY_LINES_PER_FILE:][:max(0, KEY_LINES_MAX - len(out))])


def _log_rank(rel):
    base = os.path.basename(rel)
    for i, pat in enumerate(_LOG_ORDER):
        if re.match(pat, base):
            return i
    return len(_LOG_ORDER)


def _files_under(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            full = os.path.join(d, f)
            if os.path.isfile(full) and not os.path.islink(full):
                out.append((os.path.relpath(full, root), full))
    return out


def _disk(path):
    try:
        st = os.statvfs(path)
        return {"path": path, "total_bytes": st.f_blocks * st.f_frsize, "free_bytes": st.f_bavail * st.f_frsize}
    except OSError as e:
        return {"path": path, "error": e.strerror or str(e)}


def log_facts(cluster, storage, inp):
    """What a reader of the logs needs to know about the node: versions, resources, disk, /dev/shm."""
    ray, pyinfo, ray_error = find_ray(inp.get("python"))
    pids = cluster_pids(cluster, storage)
    sd = state_dir(storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json"))
    return {
        "hostname": os.uname()[1], "user": current_user(), "time": int(time.time()),
        "uname": " ".join(os.uname()), "uptime_sec": float((_read("/proc/uptime") or "0").split()[0]),
        "loadavg": (_read("/proc/loadavg") or "").strip(),
        "python": {"path": pyinfo.get("python"), "version": pyinfo.get("version")},
        "ray": {"version": ray["version"], "python": ray["python"], "python_version": ray["python_version"]}
        if ray else None,
        "ray_error": None if ray else ray_error,
        "cpus": cpu_count(), "memory_bytes": meminfo_bytes(),
        "shm": _disk("/dev/shm"), "storage_disk": _disk(storage),
        "temp_dir": temp_dir_for(cluster, storage),
        "running": bool(pids), "processes": [{"pid": p, "comm": _comm(p)} for p in pids],
        "runtime": runtime, "applied": read_json_file(os.path.join(sd, "applied.json")),
    }


def verb_logs(inp, now=None):
    import io
    import tarfile

    cluster = cluster_name(inp)
    storage = storage_path(inp)
    now = time.time() if now is None else now
    since = inp.get("since_sec")
    oldest = now - float(since) if since else None
    budget = int(need(inp, "max_bytes", "logs"))
    file_max = int(need(inp, "file_max_bytes", "logs"))
    temp = temp_dir_for(cluster, storage)
    session = os.path.join(temp, "session_latest")
    session_name = os.path.basename(os.path.realpath(session)) if os.path.exists(session) else None
    # (name in the archive, file) in order of use; the library's own log and state first (small)
    picked = [("nokube/" + rel, full) for rel, full in _files_under(os.path.join(storage, "logs"))
              if not rel.startswith("bundles/")]
    for f in ("runtime.json", "applied.json", "members.json"):
        full = os.path.join(state_dir(storage), f)
        if os.path.isfile(full):
            picked.append(("nokube/state/" + f, full))
    ray_logs = _files_under(os.path.join(session, "logs")) if session_name else []
    ray_logs.sort(key=lambda rf: (_log_rank(rf[0]), rf[0]))
    picked += [("ray/" + rel, full) for rel, full in ray_logs]

    cut, omitted, skipped_old, files, used, errors, redacted = [], [], 0, [], 0, [], []
    token = (read_token(os.path.join(state_dir(storage), "auth_token")) or "").encode() or None
    out_dir = os.path.join(storage, "logs", "bundles")
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):  # left behind by a run that never fetched its bundle
        try:
            if now - os.path.getmtime(os.path.join(out_dir, old)) > 3600:
                os.unlink(os.path.join(out_dir, old))
        except OSError:
            pass
    archive = os.path.join(out_dir, "logs-%d-%s.tar.gz" % (int(now), secrets.token_hex(4)))
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        def add(name, data, mtime):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
            tar.addfile(info, io.BytesIO(data))

        for name, full in picked:
            try:
                st = os.stat(full)
            except OSError:
                continue
            if oldest is not None and st.st_mtime < oldest:
                skipped_old += 1
                continue
            room = min(file_max, budget - used)
            if room <= 0:
                omitted.append(name)
                continue
            try:
                with open(full, "rb") as f:
                    if st.st_size > room:
                        f.seek(st.st_size - room)
                    data = f.read(room)
            except OSError as e:
                log("cannot read %s: %s" % (full, e.strerror))
                continue
            if st.st_size > len(data):
                cut.append("%s: kept the last %d of %d bytes" % (name, len(data), st.st_size))
            if token and token in data:  # the cluster's token never leaves the node in a bundle
                data = data.replace(token, b"<the cluster token>")
                redacted.append(name)
            used += len(data)
            files.append(name)
            if name.endswith((".out", ".err", ".log")) and not name.startswith("ray/events/"):
                key_lines(name, data, errors)
            add(name, data, st.st_mtime)
        facts = log_facts(cluster, storage, inp)
        facts.update({"session": session_name, "since_sec": since, "max_bytes": budget, "cut": cut,
                      "omitted": omitted, "skipped_older_than_since": skipped_old})
        add("facts.json", (json.dumps(facts, indent=1, sort_keys=True) + "\n").encode(), now)
        files.append("facts.json")
        if cut or omitted:
            note = "This node's logs were cut to %d bytes (max_bytes).\n" % budget
            note += "".join("%s\n" % c for c in cut)
            note += "".join("%s: left out (no room left)\n" % o for o in omitted)
            add("CUT.txt", note.encode(), now)
            files.append("CUT.txt")
    return {"ok": True, "archive": archive, "size": os.path.getsize(archive), "files": files, "cut": cut,
            "omitted": omitted, "skipped_old": skipped_old, "session": session_name, "temp_dir": temp,
            "bytes": used, "key_lines": errors, "redacted": redacted}
