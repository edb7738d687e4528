# Facts of the node and small readers: /proc files, the login user, PATH lookups, cpus,
# memory, /dev/shm, the tail of a log.
import os

from .protocol import re


def _read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data if binary else data.decode("utf-8", "replace")
    except OSError:
        return None


def which(name, path=None):
    """shutil.which(name, path=path) without importing shutil (it brings bz2, lzma and fnmatch, ms a call)."""
    if os.sep in name:  # a path is not looked up on PATH
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for d in (os.environ.get("PATH", os.defpath) if path is None else path).split(os.pathsep):
        cand = os.path.join(d or os.curdir, name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _shebang(path):
    try:
        with open(path, "rb") as f:
            line = f.readline(512)
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    parts = line[2:].decode(errors="replace").strip().split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return which(parts[1])
    return parts[0]


def _user_name(uid):
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def current_user():
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        return os.environ.get("USER") or str(os.getuid())


def meminfo_bytes():
    for line in (_read("/proc/meminfo") or "").splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == "MemTotal:" and f[1].isdigit() and f[2] == "kB":
            return int(f[1]) * 1024
    return None


def shm_bytes():
    try:
        st = os.statvfs("/dev/shm")
        return st.f_blocks * st.f_frsize
    except OSError:
        return None


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def tail_text(path, lines=40, max_bytes=64 * 1024):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def fresh_ray_logs(temp, since, lines=10):
    """The tails of the Ray daemons' logs a failed `ray start` wrote (in the session under `temp`,
    changed since `since`), each under its name: what Ray printed is often not the reason."""
    parts = []
    for name in ("raylet.err", "raylet.out", "gcs_server.err", "gcs_server.out"):
        path = os.path.join(temp, "session_latest", "logs", name)
        if os.path.exists(path) and os.path.getmtime(path) >= since - 1:
            tail = tail_text(path, lines)
            if tail.strip():
                parts.append("--- %s ---\n%s" % (name, tail))
    return "\n".join(parts)


def strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _comm(pid):
    try:
        with open("/proc/%d/comm" % int(pid)) as f:
            return f.read().strip()
    except (OSError, ValueError):
        return ""
