#!/usr/bin/env python3
# Generated from remote_lib/src/nokube_remote/*.py by scripts/join-remote-lib.mjs (npm run bundle):
# edit those modules, not this file. Its SHA-256 names it on the node (see remote_lib/PROTOCOL.md).


"""nokube remote library: run on a Ray node as `<python> nokube_remote.py <verb>`.

One JSON object on stdin, one JSON object on stdout, logs on stderr. Python 3.8+, standard library
only. Verbs: probe, start, status, stop, drain, install, lock, unlock, run, ray_env, job, logs.
See remote_lib/PROTOCOL.md. The sources are the modules of remote_lib/src/nokube_remote/, joined in
the order of scripts/join-remote-lib.mjs into the one file that is uploaded (`npm run bundle`).
"""


# ---- protocol.py ----
# The protocol's plumbing every part uses: the modules imported on first use, the call's JSON
# (read and written on CPython's accelerator), Fail (a verb's error answer), need (a field the
# engine always sends) and the log on stderr.
import sys


# urllib.request (with http.client, email, ssl) costs ~35 ms to import: only `status` needs it, so it is
# imported there. Every verb is one short-lived process, so import time is paid on every call: the
# modules a `probe` or `status` may not need are loaded on first use (on a 2-core runner fanning out
# to 200 test hosts, each millisecond here is 0.1 s of the run). `json`, `re` and `shutil` are among
# them: together with the `enum`, `functools` and `collections` they pull in, they were a third of a
# probe's time; the call's own JSON goes through `loads` / `dumps` below instead.


class _OnFirstUse(object):
    """A module imported on first attribute access (then it replaces itself in this module)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        mod = importlib.import_module(self._name)
        globals()[self._name] = mod
        return getattr(mod, attr)


fcntl = _OnFirstUse("fcntl")
json = _OnFirstUse("json")
re = _OnFirstUse("re")
secrets = _OnFirstUse("secrets")
select = _OnFirstUse("select")
shutil = _OnFirstUse("shutil")
signal = _OnFirstUse("signal")
socket = _OnFirstUse("socket")
subprocess = _OnFirstUse("subprocess")

LIB_VERSION = 1


def log(*a):
    try:
        print("nokube_remote:", *a, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # the SSH session that called us is gone: carry on (and clean up) without a log


def _json_codec():
    """(loads, dumps with sort_keys) on CPython's `_json` accelerator alone, which the json module
    itself uses for both; the json module where there is no such accelerator (PyPy) or its calls
    differ. The answers are byte for byte json.dumps(obj, sort_keys=True)'s (tests/test_unit.py)."""
    try:
        import _json

        class _Decoding(object):  # the attributes json.decoder.JSONDecoder gives the scanner
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
            memo = {}

        scan = _json.make_scanner(_Decoding())

        def unserializable(o):
            raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

        # json.encoder.JSONEncoder.iterencode's one-shot encoder (sort_keys, no indent, the default separators)
        encode = _json.make_encoder({}, unserializable, _json.encode_basestring_ascii, None, ": ", ", ",
                                    True, False, True)
        if "".join(encode({"b": [1.5, None, True], "a": "\u00e9"}, 0)) != '{"a": "\\u00e9", "b": [1.5, null, true]}':
            raise ValueError("another _json")
    except (ImportError, AttributeError, TypeError, ValueError):
        return json.loads, lambda obj: json.dumps(obj, sort_keys=True)

    space = " \t\n\r"

    def loads(text):
        try:
            obj, end = scan(text, len(text) - len(text.lstrip(space)))
        except Exception:  # StopIteration, or the scanner's own error, which needs json.decoder loaded
            end = None
        if end is None or text[end:].strip(space):
            return json.loads(text)  # not JSON: the json module says where and why
        return obj

    def dumps(obj):
        return "".join(encode(obj, 0))

    return loads, dumps


loads, dumps = _json_codec()


class Fail(Exception):
    def __init__(self, error, hint=None, **extra):
        Exception.__init__(self, error)
        self.error = error
        self.hint = hint
        self.extra = extra


def need(inp, field, verb):
    """A value the engine sends with every such request. Its defaults are applied once, in nokube's
    config model: none is filled in here, so a request without it is answered with this error."""
    value = inp.get(field)
    if value is None:
        raise Fail("%s: the request has no %r, which nokube always sends" % (verb, field),
                   "the nokube that called this library sent an incomplete request: report it as a bug")
    return value


# ---- node.py ----
# Facts of the node and small readers: /proc files, the login user, PATH lookups, cpus,
# memory, /dev/shm, the tail of a log.
import os


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


# ---- storage.py ----
# Where the cluster's files live on the node: the storage path and its safety, the state
# files (written atomically, never through a symlink), the token, Ray's temp dir and its mark.
import os


MARK_ENV = "NOKUBE_RAY_MARK"  # exported to `ray start`; every Ray process of the cluster inherits it
# Ray puts unix sockets at <temp>/session_<YYYY-MM-DD_HH-MM-SS_ffffff>_<pid>/sockets/<name>
# (longest names: dash_MetricsHead, plasma_store). AF_UNIX paths are at most 107 bytes.
SOCK_PATH_MAX = 107
SESSION_PART = len("/session_2026-01-01_00-00-00_000000_") + 7  # pid up to 7 digits
SOCKET_PART = len("/sockets/") + 20
MAX_TEMP_DIR_LEN = SOCK_PATH_MAX - SESSION_PART - SOCKET_PART  # = 35


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def cluster_name(inp):
    c = inp.get("cluster")
    if not isinstance(c, str) or not 1 <= len(c) <= 100 or not set(c) <= _NAME_CHARS:
        raise Fail("invalid or missing 'cluster': %r" % (c,))
    return c


def storage_path(inp):
    s = inp.get("storage")
    if not s:
        s = os.path.join(os.path.expanduser("~"), ".nokube", cluster_name(inp))
    s = os.path.expanduser(s)
    if not os.path.isabs(s):
        raise Fail("storage path must be absolute: %r" % s)
    return os.path.normpath(s)


def _digest(text):
    """sha1 hex of a text; CPython's built-in sha1 spares hashlib's OpenSSL load (ms a call)."""
    try:
        from _sha1 import sha1
    except ImportError:
        from hashlib import sha1
    return sha1(text.encode()).hexdigest()


def cluster_mark(cluster, storage):
    return _digest("%s\0%s" % (cluster, storage))[:16]


def temp_dir_for(cluster, storage):
    """Ray's --temp-dir: <storage>/ray when short enough for Ray's unix sockets, else /tmp/ray/nk-<h>."""
    preferred = os.path.join(storage, "ray")
    if len(preferred.encode()) <= MAX_TEMP_DIR_LEN:
        return preferred
    # Ray makes its temp dir 0777: it goes inside a 0700 directory of ours (own_temp_dir)
    return "/tmp/ray/nk-" + _digest("%s\0%s" % (cluster, storage))[:10] + "/ray"


def state_dir(storage):
    return os.path.join(storage, "state")


def read_json_file(path):
    try:
        with open(path) as f:
            return loads(f.read())
    except (OSError, ValueError):
        return None


def write_file_atomic(path, data, mode=0o644):
    """Writes `data` to a new file next to `path` (mkstemp: O_CREAT|O_EXCL, so a planted symlink is
    never followed), then renames it over `path` (rename replaces a symlink, it does not follow it).
    A reader sees the old file or the whole new one, never half of it."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=os.path.dirname(path))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json_atomic(path, obj, mode=0o644):
    write_file_atomic(path, json.dumps(obj, indent=1, sort_keys=True) + "\n", mode)


def ensure_dirs(storage):
    """Makes the storage's directories (new ones 0700), after refusing an unsafe storage path: nothing
    (not even the lock) is written under a path another user could change."""
    unsafe = storage_safety(storage)
    if unsafe:
        raise Fail(unsafe, STORAGE_HINT % storage)
    for sub in ("", "state", "logs", "lib"):
        os.makedirs(os.path.join(storage, sub), 0o700, exist_ok=True)


STORAGE_HINT = ("the storage path holds the cluster's token and the code nokube runs: make it and its parents "
                "belong to the login user or root and not writable by others (sudo chown <user> %s), or set "
                "storage.path to such a directory")


def storage_check(storage):
    """(writable, error)"""
    unsafe = storage_safety(storage)
    if unsafe:
        return False, unsafe
    try:
        ensure_dirs(storage)
        fd, path = None, os.path.join(storage, "state", ".probe.%d" % os.getpid())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.write(fd, b"ok")
        os.close(fd)
        os.unlink(path)
        return True, None
    except OSError as e:
        where = e.filename or storage
        user = current_user()
        return False, "cannot create %s as %s: %s" % (where, user, e.strerror or e)


def own_temp_dir(temp):
    """Creates Ray's temp dir. The /tmp/ray/nk-<hash> fallback is a 0700 directory of ours (Ray
    itself makes the temp dir inside it 0777); one that someone else made first (the name is
    guessable) is refused: its owner could read the session's sockets and logs, or swap files."""
    private = os.path.dirname(temp)
    if os.path.dirname(private) == "/tmp/ray":
        try:
            os.mkdir("/tmp/ray", 0o700)
            os.chmod("/tmp/ray", 0o1777)  # shared like /tmp (other users' Ray uses /tmp/ray too)
        except FileExistsError:
            pass
        except OSError as e:
            raise Fail("cannot create /tmp/ray: %s" % e.strerror)
        shared_tmp_ray()
    # under the storage path: Ray's 0777 temp dir sits in the storage, which only the login user may enter
    private_dir(private)
    try:
        os.makedirs(temp, exist_ok=True)
    except OSError as e:
        raise Fail("cannot create Ray temp dir %s: %s" % (temp, e.strerror))


def shared_tmp_ray(path="/tmp/ray"):
    """/tmp/ray, where the fallback temp dir goes, is used only when its owner (root or the login user)
    is the only one who may rename or replace what is in it: owned by root or us, and sticky when others
    may write it. Else refused: whoever owns /tmp/ray could swap our directory for theirs."""
    import stat as stat_mod

    st = os.lstat(path)
    why = None
    if stat_mod.S_ISLNK(st.st_mode):
        why = "is a symlink"
    elif not stat_mod.S_ISDIR(st.st_mode):
        why = "is not a directory"
    elif st.st_uid not in (0, os.getuid()):
        why = "belongs to %s, not root or %s" % (_user_name(st.st_uid), current_user())
    elif st.st_mode & 0o022 and not st.st_mode & stat_mod.S_ISVTX:
        why = "is writable by other users and not sticky (mode %o)" % (st.st_mode & 0o7777)
    if why:
        raise Fail("%s %s: Ray's temp dir is not made there" % (path, why),
                   "remove it (sudo rm -rf /tmp/ray) or make it root's and sticky (sudo chown root /tmp/ray; "
                   "sudo chmod 1777 /tmp/ray), or set a storage.path of at most %d bytes with a ray/ after it, "
                   "so that Ray's temp dir is under the storage path" % (MAX_TEMP_DIR_LEN - 4))


def private_dir(path):
    """`path` as a directory of the login user with mode 0700, or Fail."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise Fail("cannot create Ray temp dir %s: %s" % (path, e.strerror))
    temp = path
    st = os.lstat(temp)
    import stat as stat_mod

    if not stat_mod.S_ISDIR(st.st_mode):
        raise Fail("Ray temp dir %s exists and is not a directory (a symlink?)" % temp,
                   "remove it: rm %s" % temp)
    if st.st_uid != os.getuid():
        raise Fail("Ray temp dir %s exists and belongs to %s, not %s" % (temp, _user_name(st.st_uid), current_user()),
                   "another user made it first; remove it (sudo rm -rf %s) or set a shorter storage.path" % temp)
    if st.st_mode & 0o077:
        os.chmod(temp, 0o700)
    return path


# Directories that are shared by every user of the machine, or that hold more than this cluster.
UNSAFE_STORAGE = ("/", "/tmp", "/var/tmp", "/dev/shm")


def storage_safety(storage):
    """Why `storage` is not a safe place for this cluster's state (token, libraries it runs), or None.
    Like OpenSSH's StrictModes: the path and every existing parent must be owned by root or the login
    user and not writable by group or others (a sticky parent like /tmp may be world-writable)."""
    import stat as stat_mod

    uid = os.getuid()
    if storage in UNSAFE_STORAGE:
        return "storage path %s is shared by every user of the machine" % storage
    home = os.path.normpath(os.path.expanduser("~"))
    if storage == home:
        return "storage path %s is the login user's home directory (its files would be mixed with the cluster's)" % storage
    # the same rule as PREPARE_STORAGE in src/remote/bootstrap.ts, which runs before the library is uploaded
    def check(p):
        while True:
            try:
                st = os.lstat(p)
            except OSError:
                st = None
            if st is not None:
                if stat_mod.S_ISLNK(st.st_mode):
                    if st.st_uid != 0:
                        return "storage path %s: %s is a symlink of %s (give the real path)" % (
                            storage, p, _user_name(st.st_uid))
                    why = check(os.path.realpath(p))
                    if why:
                        return why
                else:
                    sticky = p != storage and st.st_mode & stat_mod.S_ISVTX
                    if st.st_uid not in (0, uid):
                        return "storage path %s: %s belongs to %s, not %s or root" % (
                            storage, p, _user_name(st.st_uid), current_user())
                    if st.st_mode & 0o022 and not sticky:
                        return "storage path %s: %s is writable by other users (mode %o)" % (
                            storage, p, st.st_mode & 0o7777)
            if p == "/":
                return None
            p = os.path.dirname(p)

    return check(storage)


def read_token(path):
    t = _read(path)
    return t.strip() if t else None


def write_token(path, token):
    write_file_atomic(path, token, 0o600)


# ---- processes.py ----
# Which processes are this cluster's (never by a substring of "ray"), stopping them in
# Ray's order, and the TCP ports listened on (and by whom).
import os
import time


# a half-started Ray (its start failed or its caller went away) is stopped with this grace:
# nothing of it is worth waiting for
CLEANUP_GRACE_SEC = 5.0


def _ancestors():
    out = set()
    pid = os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        st = _read("/proc/%d/stat" % pid)
        if not st:
            break
        try:
            pid = int(st.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            break
    return out


def _flag_names_dir(arg, d_eq):
    """`--some-flag=<dir>` or `--some-flag=<dir>/...` (how Ray passes its temp, session and log dirs).
    A bare path (`tail -f <dir>/session_latest/logs/raylet.out`) is not Ray's."""
    if not arg.startswith(b"-"):
        return False
    i = arg.find(d_eq)
    if i < 0:
        return False
    rest = arg[i + len(d_eq):]
    return rest == b"" or rest.startswith(b"/")


# Executables of Ray's own daemons (argv[0] basename) and the prefix of the proctitle its Python
# processes (workers, agents) set for themselves.
RAY_EXES = (b"raylet", b"gcs_server", b"plasma_store", b"ray")
RAY_TITLE = b"ray::"


def _uid_of(pid, proc="/proc"):
    try:
        return os.stat("%s/%d" % (proc, pid)).st_uid
    except OSError:
        return None


def cluster_pids(cluster, storage, proc="/proc", uid=None):
    """PIDs of this cluster's processes on this node: processes of the login user (uid) that
    - have NOKUBE_RAY_MARK=<mark> in their environ (exported to `ray start`, inherited by Ray's daemons), or
    - pass the cluster's exact Ray temp dir as a flag value (`--temp-dir=<temp>`, `--log_dir=<temp>/...`), or
    - descend from such a process (Ray's agents and workers rewrite their proctitle, which also
      clobbers /proc/<pid>/environ, e.g. `ray::DashboardAgent`), or
    - are Ray processes by name (raylet, gcs_server, `ray::...`) holding a file open under the temp dir
      (orphans of the above whose parent is gone).
    Never by a substring of "ray", a path argument or a working directory: another cluster whose
    storage lies inside this one's, and an operator's `tail -f <temp>/.../raylet.out`, are not ours.
    Zombies (empty cmdline) and this process's ancestors are excluded."""
    uid = os.getuid() if uid is None else uid
    mark = ("%s=%s" % (MARK_ENV, cluster_mark(cluster, storage))).encode()
    temp = temp_dir_for(cluster, storage)
    tb_eq = b"=" + temp.encode()
    skip = _ancestors()
    hits = set()
    maybe = []
    children = {}
    mine = set()
    try:
        names = os.listdir(proc)
    except OSError:
        return []
    for n in names:
        if not n.isdigit():
            continue
        pid = int(n)
        if pid in skip:
            continue
        cmd = _read("%s/%s/cmdline" % (proc, n), binary=True)
        if not cmd:
            continue  # kernel thread or zombie
        st = _read("%s/%s/stat" % (proc, n))
        if st:
            try:
                children.setdefault(int(st.rsplit(")", 1)[1].split()[1]), []).append(pid)
            except (IndexError, ValueError):
                pass
        if _uid_of(pid, proc) != uid:
            continue  # another user's process is never ours (and we could not signal it)
        mine.add(pid)
        args = cmd.split(b"\0")
        if any(_flag_names_dir(arg, tb_eq) for arg in args):
            hits.add(pid)
            continue
        env = _read("%s/%s/environ" % (proc, n), binary=True)
        if env and mark in env.split(b"\0"):
            hits.add(pid)
            continue
        if cmd.startswith(RAY_TITLE) or os.path.basename(args[0].split(b" ", 1)[0]) in RAY_EXES:
            maybe.append(pid)
    # descendants of hits
    todo = list(hits)
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in hits and c not in skip and c in mine:
                hits.add(c)
                todo.append(c)
    for pid in maybe:
        if pid in hits:
            continue
        fdd = "%s/%d/fd" % (proc, pid)
        try:
            fds = os.listdir(fdd)
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink("%s/%s" % (fdd, fd))
            except OSError:
                continue
            if t.startswith(temp + "/"):
                hits.add(pid)
                break
    return sorted(hits)


def pid_alive(pid):
    st = _read("/proc/%d/stat" % pid)
    if st is None:
        return False
    try:
        return st.rsplit(")", 1)[1].split()[0] != "Z"
    except IndexError:
        return False


def _stop_bucket(pid, proc="/proc"):
    """Ray's own `ray stop` order: raylet first, then everything else, gcs_server last (stopping them all
    at once makes raylet and GCS wait for each other until the grace period ends)."""
    cmd = _read("%s/%d/cmdline" % (proc, pid), binary=True) or b""
    exe = os.path.basename(cmd.split(b"\0", 1)[0].split(b" ", 1)[0])
    if exe == b"raylet":
        return 0
    if exe == b"gcs_server":
        return 2
    return 1


def _signal_and_wait(pids, grace, killed):
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 3.0)):
        live = [p for p in pids if pid_alive(p)]
        if not live:
            return
        for p in live:
            try:
                os.kill(p, sig)
                killed.add(p)
            except ProcessLookupError:
                pass
            except PermissionError:
                log("no permission to signal pid %d" % p)
        deadline = time.time() + wait
        while time.time() < deadline and any(pid_alive(p) for p in live):
            time.sleep(0.02)


def stop_cluster(cluster, storage, grace, proc="/proc"):
    """SIGTERM this cluster's processes (raylet, others, GCS), SIGKILL after the grace period, verify."""
    pids = [p for p in cluster_pids(cluster, storage, proc) if pid_alive(p)]
    was_running = bool(pids)
    killed = set()
    per_bucket = max(1.0, float(grace) / 3)
    if pids:
        for bucket in (0, 1, 2):
            cur = [p for p in cluster_pids(cluster, storage, proc) if pid_alive(p)]
            if bucket < 2:
                cur = [p for p in cur if _stop_bucket(p, proc) == bucket]
            _signal_and_wait(cur, per_bucket, killed)
        for _ in range(3):  # anything that appeared meanwhile (e.g. a worker being spawned)
            cur = [p for p in cluster_pids(cluster, storage, proc) if pid_alive(p)]
            if not cur:
                break
            _signal_and_wait(cur, 0.0, killed)
    remaining = [p for p in cluster_pids(cluster, storage, proc) if pid_alive(p)]
    return {"was_running": was_running, "killed": len(killed), "remaining": len(remaining),
            "remaining_pids": remaining}


TCP_LISTEN = "0A"


def parse_proc_net_tcp(text):
    """[(port, inode)] of LISTEN sockets in /proc/net/tcp or tcp6 text."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10 or f[3] != TCP_LISTEN:
            continue
        try:
            port = int(f[1].rsplit(":", 1)[1], 16)
            inode = int(f[9])
        except (IndexError, ValueError):
            continue
        out.append((port, inode))
    return out


def listening_ports(proc="/proc"):
    """{port: set(inodes)} of TCP listeners (IPv4 and IPv6) in this network namespace."""
    res = {}
    for name in ("tcp", "tcp6"):
        text = _read("%s/net/%s" % (proc, name))
        if not text:
            continue
        for port, inode in parse_proc_net_tcp(text):
            res.setdefault(port, set()).add(inode)
    return res


def socket_inodes_of(pids, proc="/proc"):
    inodes = set()
    for p in pids:
        d = "%s/%d/fd" % (proc, p)
        try:
            fds = os.listdir(d)
        except OSError:
            continue
        for fd in fds:
            try:
                t = os.readlink("%s/%s" % (d, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                try:
                    inodes.add(int(t[8:-1]))
                except ValueError:
                    pass
    return inodes


def port_report(ports, cluster, storage, pids=None):
    listen = listening_ports()
    mine = None
    out = []
    for item in ports or []:
        port = int(item.get("port"))
        inodes = listen.get(port, set())
        by_us = False
        if inodes:
            if mine is None:
                mine = socket_inodes_of(pids if pids is not None else cluster_pids(cluster, storage))
            by_us = bool(inodes & mine)
        out.append({"name": item.get("name"), "port": port, "in_use": bool(inodes),
                    "by_this_cluster": by_us})
    return out


# ---- ray_programs.py ----
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


# ---- ray_found.py ----
# Finding Ray and its interpreter without importing ray (`import ray` costs ~1 s): the
# configured python, this one, the `ray` on PATH; what that Ray supports.
import os
import sys


TOKEN_AUTH_MIN = (2, 52)  # first Ray with RAY_AUTH_MODE=token (also checked by file presence)


def interpreter_info(python):
    """{python, version, prefix, ray_dir?, ray_version?} of an interpreter, or raise Fail."""
    if python is None:
        ns = {}
        exec(_INFO_SNIPPET, ns)  # noqa: S102 - constant snippet
        return ns["interpreter_info"]()
    exe = python if os.sep in python else which(python)
    if not exe:
        raise Fail("python interpreter %r not found on PATH" % python)
    try:
        p = subprocess.run([exe, "-c", _INFO_SNIPPET + _INFO_PRINT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60)
    except OSError as e:
        raise Fail("cannot run %s: %s" % (exe, e.strerror))
    if p.returncode != 0:
        raise Fail("%s failed: %s" % (exe, p.stderr.decode(errors="replace").strip()[-500:]))
    return json.loads(p.stdout.decode())


def find_ray(configured_python):
    """-> (ray info dict | None, python info dict, error | None)

    ray info: {version, python, ray_bin, python_version, ray_dir}."""
    candidates = []
    if configured_python:
        candidates.append(configured_python)
    candidates.append(sys.executable)
    errors = []
    first_info = None
    tried = set()
    ray_on_path = which("ray")
    if ray_on_path:
        sb = _shebang(ray_on_path)
        if sb:
            candidates.append(sb)
    for c in candidates:
        key = os.path.realpath(which(c) or c) + "|" + c
        if key in tried:
            continue
        tried.add(key)
        try:
            same = os.path.abspath(which(c) or c) == os.path.abspath(sys.executable)
            info = interpreter_info(None if same else c)
        except Fail as e:
            errors.append(e.error)
            continue
        if first_info is None:
            first_info = info
        if info.get("ray_dir") and info.get("ray_version"):
            exe = info["python"] or c
            ray_bin = None
            for d in (os.path.join(info.get("prefix") or "", "bin"), os.path.dirname(exe)):
                cand = os.path.join(d, "ray")
                if os.path.isfile(cand) and os.access(cand, os.X_OK):
                    ray_bin = cand
                    break
            if ray_bin is None and ray_on_path and _shebang(ray_on_path) in (exe, c):
                ray_bin = ray_on_path
            return ({"version": info["ray_version"], "python": exe, "ray_bin": ray_bin,
                     "python_version": info["version"], "ray_dir": info["ray_dir"]}, info, None)
        errors.append("%s (Python %s) has no ray package" % (info.get("python") or c, info.get("version")))
    if first_info is None:
        first_info = {"python": configured_python or sys.executable, "version": None}
    return None, first_info, "; ".join(errors) or "ray not found"


def version_tuple(v):
    """(2, 52, 0) of "2.52.0"; numbers up to the first part that is not one ("2.53.0rc1" -> (2, 53, 0))."""
    out = []
    for part in (v or "").replace("+", ".").replace("-", ".").split("."):
        digits = len(part) - len(part.lstrip("0123456789"))
        if digits:
            out.append(int(part[:digits]))
        if digits < len(part) or not digits:
            break
    return tuple(out)


def supports_token_auth(ray):
    if not ray:
        return False
    d = ray.get("ray_dir")
    if d and os.path.isfile(os.path.join(d, "_private", "authentication", "authentication_token_setup.py")):
        return True
    return version_tuple(ray.get("version")) >= TOKEN_AUTH_MIN


def ray_cmd(ray):
    if ray.get("ray_bin"):
        return [ray["ray_bin"]]
    return [ray["python"], "-c", "import sys; sys.argv[0] = 'ray'; from ray.scripts.scripts import main; sys.exit(main())"]


def activated_env(python, path):
    """What an activated environment of `python` adds: its bin dir first on PATH and, for a venv,
    VIRTUAL_ENV. Ray runs a job's entrypoint and its workers' subprocesses with the environment
    `ray start` had: without this, a job's `python` is whatever the login PATH finds first."""
    bin_dir = os.path.dirname(python)
    rest = [d for d in (path or "/usr/local/bin:/usr/bin:/bin").split(os.pathsep) if d and d != bin_dir]
    env = {"PATH": os.pathsep.join([bin_dir] + rest)}
    if os.path.isfile(os.path.join(os.path.dirname(bin_dir), "pyvenv.cfg")):
        env["VIRTUAL_ENV"] = os.path.dirname(bin_dir)
    return env


def python_first(python, path):
    """Whether `python` on `path` is the interpreter `python` (its bin dir), the PATH's `python`
    otherwise (None when there is none)."""
    bin_dir = os.path.dirname(python or "")
    found = which("python", path=path or "") or which("python3", path=path or "")
    return os.path.dirname(found) == bin_dir if found else False, found


# ---- lock.py ----
# The deploy lock on the head (`lock`, `unlock`): owned by the caller's SSH connection,
# read-modify-write under flock; _Guard is that flock.
import os
import time


class _Guard:
    """flock on a file: the kernel releases it when its holder dies, however it dies."""

    def __init__(self, path, wait_sec=None, busy=None):
        self.path = path
        self.wait_sec = wait_sec
        self.busy = busy

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        if self.wait_sec is None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            return self
        deadline = time.time() + self.wait_sec
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.time() > deadline:
                    os.close(self.fd)
                    raise Fail(self.busy or "%s is held by another process" % self.path)
                time.sleep(0.1)

    def __exit__(self, *a):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _stat_fields(pid):
    st = _read("/proc/%d/stat" % pid)
    if not st:
        return None
    return st.rsplit(")", 1)[1].split()


def _boot_id():
    return (_read("/proc/sys/kernel/random/boot_id") or "").strip()


def caller_session():
    """The sshd process serving the SSH connection that runs this verb (the nearest ancestor named
    sshd*), as {pid, start, boot}: it lives exactly as long as that connection."""
    pid = os.getppid()
    for _ in range(16):
        if pid <= 1:
            return None
        f = _stat_fields(pid)
        if not f:
            return None
        if _comm(pid).startswith("sshd"):
            return {"pid": pid, "start": f[19], "boot": _boot_id()}
        try:
            pid = int(f[1])
        except (IndexError, ValueError):
            return None
    return None


def session_alive(sess):
    """True/False when the holder's SSH session can be checked on this machine, None when unknown."""
    if not isinstance(sess, dict) or not sess.get("pid"):
        return None
    if sess.get("boot") != _boot_id():
        return False  # rebooted since
    f = _stat_fields(int(sess["pid"]))
    return bool(f) and f[19] == sess.get("start") and f[0] != "Z"


def verb_lock(inp, now=None, session=None):
    """The deploy lock. It belongs to the SSH connection of the run that took it: while that
    connection lives (however long the apply takes) nobody else gets it; once it is gone (the run
    was killed, cancelled, or lost its connection) the next run replaces it at once and says so.
    Without a recognisable sshd ancestor the lock falls back to a lease of ttl_sec, renewed by
    every call of the same owner."""
    storage = storage_path(inp)
    cluster_name(inp)
    owner = str(inp.get("owner") or "")
    if not owner:
        raise Fail("lock needs an owner")
    ttl = int(need(inp, "ttl_sec", "lock"))
    ensure_dirs(storage)
    sd = state_dir(storage)
    path = os.path.join(sd, "lock.json")
    now = time.time() if now is None else now
    session = caller_session() if session is None else session
    with _Guard(os.path.join(sd, ".lock.guard")):
        cur = read_json_file(path)
        stale = None
        if cur and cur.get("owner") != owner:
            alive = session_alive(cur.get("session"))
            renewed = float(cur.get("renewed") or cur.get("since") or 0)
            if alive or (alive is None and now - renewed < float(cur.get("ttl_sec") or ttl)):
                return {"ok": True, "acquired": False,
                        "holder": {"owner": cur.get("owner"), "since": cur.get("since")}}
            reason = ("its SSH session is gone (the run was cancelled or lost its connection)" if alive is False
                      else "it was not renewed for %ds" % int(now - renewed))
            stale = {"owner": cur.get("owner"), "since": cur.get("since"), "reason": reason}
        since = cur.get("since") if cur and cur.get("owner") == owner else now
        write_json_atomic(path, {"owner": owner, "since": since, "renewed": now, "ttl_sec": ttl,
                                 "host": socket.gethostname(), "session": session}, mode=0o600)
    # `now` and the last release (head's clock) tell a caller that probed the other nodes while this
    # call ran whether a deploy could have ended in the meantime (engine/lock.ts: lockWasIdle)
    released = (read_json_file(os.path.join(sd, "lock.released")) or {}).get("at")
    out = {"ok": True, "acquired": True, "holder": {"owner": owner, "since": since}, "now": now,
           "was_free": not cur, "released_at": released}
    if stale:
        out["replaced_stale"] = stale
    return out


def verb_unlock(inp):
    storage = storage_path(inp)
    cluster_name(inp)
    owner = str(inp.get("owner") or "")
    sd = state_dir(storage)
    path = os.path.join(sd, "lock.json")
    if not os.path.isdir(sd):
        return {"ok": True, "released": False}
    with _Guard(os.path.join(sd, ".lock.guard")):
        cur = read_json_file(path)
        if cur and cur.get("owner") != owner and not inp.get("force"):
            return {"ok": False, "released": False, "error": "the lock is held by %s, not %s" % (cur.get("owner"), owner),
                    "holder": {"owner": cur.get("owner"), "since": cur.get("since")}}
        if isinstance(inp.get("members"), dict):
            # what this deploy applied, written by the lock holder before it lets go (one round trip)
            write_json_atomic(os.path.join(sd, "members.json"), inp["members"], mode=0o600)
        if not cur:
            return {"ok": True, "released": False}
        write_json_atomic(os.path.join(sd, "lock.released"), {"at": time.time(), "owner": cur.get("owner")},
                          mode=0o600)
        os.unlink(path)
    return {"ok": True, "released": True}


# ---- gcs_redis.py ----
# The Redis of Ray's GCS fault tolerance (ray_spec.gcs_fault_tolerance), on the head: checked before a
# deploy (a RESP AUTH + PING over a socket, bounded in time), and what `ray start --head` is given to
# use it (RAY_REDIS_ADDRESS, a storage namespace per cluster, the password). The password reaches
# `ray start` from a file only the login user reads, never through an argv nokube writes.
import os
import time


REDIS_CHECK_SEC = 3.0
PASSWORD_FILE = "redis_password"


def _split_address(address):
    host, _, port = str(address).rpartition(":")
    return host.strip("[]"), int(port)


def _command(*words):
    """One RESP command (an array of bulk strings): safe for any byte in the password; a word may be
    bytes (a key SCAN returned) or text."""
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        data = w if isinstance(w, bytes) else str(w).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def check_redis(address, password, timeout=REDIS_CHECK_SEC):
    """None when the Redis at `address` answers PING (after AUTH with `password` when given);
    else {"error", "hint"} naming the address and what failed. Never shows the password."""
    where = "the Redis at %s (ray_spec.gcs_fault_tolerance.redis_address)" % address
    try:
        host, port = _split_address(address)
    except ValueError:
        return {"error": "%s is not host:port" % address, "hint": "write redis_address as host:port"}
    deadline = time.time() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return {"error": "%s did not answer within %ds from the head" % (where, timeout),
                "hint": "check that Redis runs there and that the head can reach %s (firewall, bind address)" % address}
    except socket.gaierror as e:
        return {"error": "%s: the head cannot resolve %s (%s)" % (where, host, e.strerror or e),
                "hint": "use a name the head resolves, or the Redis's IP address"}
    except OSError as e:
        why = "connection refused" if isinstance(e, ConnectionRefusedError) else (e.strerror or str(e))
        return {"error": "%s cannot be reached from the head: %s" % (where, why),
                "hint": "start Redis there, or check its port and bind address (redis.conf: bind, port) and the firewall"}
    reader = _RespReader(sock, timeout, deadline)
    try:
        try:
            if password:
                sock.sendall(_command("AUTH", password))
                reader.reply()
            sock.sendall(_command("PING"))
            pong = reader.reply()
        except NotRedisReply as e:
            pong = e.line
        except RedisReplyError as e:
            return _auth_problem(where, "-%s" % e)
        except socket.timeout:
            return {"error": "%s accepted the connection but did not answer within %ds" % (where, timeout),
                    "hint": "check that %s is a Redis server and not overloaded" % address}
        except OSError as e:
            return {"error": "%s closed the connection: %s" % (where, e.strerror or e),
                    "hint": "check that %s is a Redis server (TLS is not supported here)" % address}
    finally:
        sock.close()
    if pong != "PONG":
        return {"error": "%s does not answer like a Redis server (PING got %r)" % (where, pong[:40]),
                "hint": "check the address: it must be Redis's port"}
    return None


def _auth_problem(where, reply):
    code = reply[1:].split(" ", 1)[0]
    if code == "NOAUTH":
        return {"error": "%s needs a password (NOAUTH)" % where,
                "hint": "set ray_spec.gcs_fault_tolerance.redis_password: ${NAME} and map the Redis password into NAME"}
    if code == "WRONGPASS" or "invalid password" in reply:
        return {"error": "%s refused the password (WRONGPASS)" % where,
                "hint": "check the secret ray_spec.gcs_fault_tolerance.redis_password reads (Redis's requirepass)"}
    if "without any password configured" in reply:
        return {"error": "%s has no password, but redis_password is set" % where,
                "hint": "remove redis_password, or set requirepass on that Redis"}
    return {"error": "%s answered with an error: %s" % (where, reply[1:120]), "hint": None}


def password_path(storage):
    return os.path.join(state_dir(storage), PASSWORD_FILE)


def head_redis_env(spec, cluster, storage, password):
    """The environment `ray start --head` needs for GCS fault tolerance ({} without it), and the password
    file written (or removed); `spec` is the applied spec's `redis`."""
    path = password_path(storage)
    if not spec:
        try:
            os.unlink(path)
        except OSError:
            pass
        return {}
    if password:
        write_file_atomic(path, password, 0o600)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
    return {"RAY_REDIS_ADDRESS": str(spec["address"]),
            "RAY_external_storage_namespace": str(spec.get("namespace") or cluster)}


class RedisReplyError(Exception):
    """An error reply (-ERR ..., -NOAUTH ...) to one command."""


class NotRedisReply(RedisReplyError):
    """Bytes that are no RESP reply (`line`, their start): not a Redis at that port."""

    def __init__(self, line):
        RedisReplyError.__init__(self, "not a Redis reply: %r" % line)
        self.line = line


# a status or error line longer than this is not Redis talking
MAX_LINE = 4096


class _RespReader(object):
    """Replies of RESP2 read off a socket, each reply bounded by `timeout` seconds (and all of them
    by `deadline`, when given)."""

    def __init__(self, sock, timeout, deadline=None):
        self.sock = sock
        self.timeout = timeout
        self.deadline = deadline
        self.buf = b""

    def _fill(self, ready):
        """Reads until `ready()` holds, within the time left."""
        deadline = time.time() + self.timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        while not ready():
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the connection was closed")
            self.buf += chunk

    def _line(self):
        self._fill(lambda: b"\r\n" in self.buf or len(self.buf) > MAX_LINE)
        line, sep, rest = self.buf.partition(b"\r\n")
        if not sep:
            raise NotRedisReply(self.buf[:40].decode("utf-8", "replace"))
        self.buf = rest
        return line

    def _exactly(self, n):
        self._fill(lambda: len(self.buf) >= n + 2)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RedisReplyError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exactly(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise NotRedisReply(line[:40].decode("utf-8", "replace"))


def _glob_escape(text):
    """`text` matched literally inside a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]^\\" else c for c in text)


def clear_namespace(address, password, namespace, timeout):
    """Deletes the keys of Ray's storage `namespace` (RAY<namespace>@..., as Ray's own
    cleanup_redis_storage does) from the Redis at `address`: {"keys": count deleted}, or {"error",
    "hint"} naming the Redis when it cannot be reached or refuses. Never shows the password."""
    where = "the Redis at %s (ray_spec.gcs_fault_tolerance.redis_address)" % address
    try:
        host, port = _split_address(address)
    except ValueError:
        return {"error": "%s is not host:port" % address, "hint": None}
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except (OSError, socket.timeout) as e:
        why = "connection refused" if isinstance(e, ConnectionRefusedError) else (
            "no answer within %ds" % timeout if isinstance(e, socket.timeout) else (e.strerror or str(e)))
        return {"error": "%s cannot be reached from the head: %s" % (where, why),
                "hint": "the cluster's state stays in that Redis under namespace %s: once it answers, run stop "
                        "again, or delete its keys RAY%s@* yourself" % (namespace, namespace)}
    reader = _RespReader(sock, timeout)
    deleted = 0
    try:
        try:
            if password:
                sock.sendall(_command("AUTH", password))
                reader.reply()
            pattern = "RAY%s@*" % _glob_escape(namespace)
            cursor = b"0"
            while True:
                sock.sendall(_command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"))
                cursor, keys = reader.reply()
                if keys:
                    sock.sendall(_command("DEL", *keys))
                    deleted += int(reader.reply())
                if cursor in (b"0", "0"):
                    break
        except RedisReplyError as e:
            problem = _auth_problem(where, "-" + str(e))
            return {"error": problem["error"], "hint": problem["hint"]}
        except (socket.timeout, OSError) as e:
            why = "no answer within %ds" % timeout if isinstance(e, socket.timeout) else (e.strerror or str(e))
            return {"error": "%s stopped answering while the cluster's keys were deleted (%d so far): %s"
                             % (where, deleted, why),
                    "hint": "run stop again once it answers, or delete the keys RAY%s@* yourself" % namespace}
    finally:
        sock.close()
    return {"keys": deleted}


def clear_gcs_state(applied, storage, timeout):
    """After the head's stop: the cluster's state deleted from the Redis its GCS ran with (the
    applied spec's `redis`), as `stop` reports it; None when the head ran without one. The password
    file goes with a clean result (a failed clear keeps it for the next stop)."""
    spec = (applied or {}).get("redis")
    if not spec:
        return None
    path = password_path(storage)
    try:
        with open(path) as f:
            password = f.read()
    except OSError:
        password = None
    out = {"address": str(spec["address"]), "namespace": str(spec["namespace"])}
    out.update(clear_namespace(out["address"], password, out["namespace"], timeout))
    if "error" not in out:
        try:
            os.unlink(path)
        except OSError:
            pass
    return out


# `ray start` given the password without it in any argv nokube writes (/proc/PID/cmdline is readable
# by every user of the machine): the file's path is the argument, the flag is added inside Python.
_WITH_PASSWORD = ("import sys; sys.argv[0] = 'ray'; f = sys.argv.pop(1); "
                  "sys.argv.append('--redis-password=' + open(f).read()); "
                  "from ray.scripts.scripts import main; sys.exit(main())")


def ray_cmd_with_password(python, storage):
    """The `ray` command that reads the Redis password from its file, or None when there is none."""
    path = password_path(storage)
    if not os.path.exists(path):
        return None
    return [python, "-c", _WITH_PASSWORD, path]


def gcs_start_pieces(role, applied, cluster, storage, password, python):
    """What GCS fault tolerance adds to a `ray start` (the environment, and the head's `ray` command
    when it reads a password), from the applied spec: the head's `redis`, the workers'
    `gcs_reconnect_timeout_s`. Returns (env updates, command or None for the usual one)."""
    applied = applied or {}
    if role == "head":
        env = head_redis_env(applied.get("redis"), cluster, storage, password)
        return env, ray_cmd_with_password(python, storage) if env else None
    timeout = applied.get("gcs_reconnect_timeout_s")
    if timeout:
        # how long a raylet waits for a restarting head's GCS before it exits (Ray's default: 60 s)
        return {"RAY_gcs_rpc_server_reconnect_timeout_s": str(int(timeout))}, None
    return {}, None


# ---- launchers.py ----
# How a node's supervisor is kept running: a systemd unit (system as root, user where linger is
# on), else the supervisor detached plus an @reboot crontab line, else the supervisor detached alone.
# The unit text and the crontab edit are pure functions (remote_lib/tests/test_supervise.py).
import os


LAUNCHERS = ("systemd", "systemd-user", "cron", "detached")
CRON_TAG = "# nokube-ray"


def unit_name(cluster, storage):
    """One unit per cluster and storage path: two clusters on a machine never share one."""
    return "nokube-ray-%s-%s.service" % (cluster, _digest(storage)[:8])


def _systemd_word(word):
    """A word of a systemd ExecStart line: quoted, with systemd's specifiers (%) and variables ($) escaped."""
    w = str(word).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return '"%s"' % w


def unit_text(cluster, storage, python, lib, user_unit=False):
    """The systemd unit that runs `supervise-run` in the foreground (pure)."""
    argv = [python, lib, "supervise-run", cluster, storage]
    target = "default.target" if user_unit else "multi-user.target"
    return "\n".join([
        "# written by nokube (ray start supervision); removed by `nokube ray stop`",
        "[Unit]",
        "Description=nokube Ray supervisor of cluster %s (storage %s)" % (cluster, storage.replace("%", "%%")),
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=%s" % " ".join(_systemd_word(w) for w in argv),
        # the supervisor restarts Ray; systemd restarts the supervisor itself should it die
        "Restart=on-failure",
        "RestartSec=2",
        # SIGTERM to the supervisor alone (it stops Ray in Ray's order), SIGKILL to what is left after
        "KillMode=mixed",
        "TimeoutStopSec=60",
        "",
        "[Install]",
        "WantedBy=%s" % target,
        "",
    ])


def _sh_word(word):
    w = str(word)
    return "'" + w.replace("'", "'\\''") + "'"


def cron_marker(cluster, storage):
    return "%s cluster=%s storage=%s" % (CRON_TAG, cluster, _digest(storage)[:8])


def cron_line(cluster, storage, python, lib):
    """The @reboot line: the supervisor started detached at each boot (`%` is cron's newline: escaped)."""
    cmd = " ".join(_sh_word(w) for w in (python, lib, "supervise-start", cluster, storage))
    return "@reboot %s >/dev/null 2>&1 %s" % (cmd.replace("%", "\\%"), cron_marker(cluster, storage))


def crontab_edit(text, cluster, storage, line=None):
    """The crontab `text` with this cluster's line removed, then `line` added when given (pure):
    every other line is kept as it was."""
    marker = cron_marker(cluster, storage)
    kept = [ln for ln in (text or "").splitlines() if not ln.rstrip().endswith(marker)]
    if line:
        kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


def choose_launcher(uid, systemd_booted, linger, has_systemctl, has_crontab):
    """The best launcher the node has (pure): systemd as root, a user unit with linger, cron, detached."""
    if systemd_booted and has_systemctl:
        if uid == 0:
            return "systemd"
        if linger:
            return "systemd-user"
    if has_crontab:
        return "cron"
    return "detached"


def _cron_runs():
    """A cron daemon runs on this machine (its process), or at least is installed to run at boot."""
    try:
        for n in os.listdir("/proc"):
            if n.isdigit():
                try:
                    with open("/proc/%s/comm" % n) as f:
                        if f.read().strip() in ("cron", "crond", "cronie", "busybox-crond"):
                            return True
                except OSError:
                    pass
    except OSError:
        pass
    return False


def detect_launcher():
    """(launcher, why) of this node, as probe, plan and start see it."""
    user = current_user()
    systemd_booted = os.path.isdir("/run/systemd/system")
    linger = os.path.exists("/var/lib/systemd/linger/%s" % user)
    has_crontab = bool(which("crontab")) and _cron_runs()
    launcher = choose_launcher(os.getuid(), systemd_booted, linger, bool(which("systemctl")), has_crontab)
    return launcher


def _user_env():
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/run/user/%d" % os.getuid())
    return env


def _systemctl(user_unit, *args):
    argv = ["systemctl"] + (["--user"] if user_unit else []) + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=_user_env() if user_unit else None, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace").strip()


def unit_path(cluster, storage, user_unit):
    if user_unit:
        base = os.path.join(os.path.expanduser("~"), ".config", "systemd", "user")
    else:
        base = "/etc/systemd/system"
    return os.path.join(base, unit_name(cluster, storage))


def systemd_install_start(cluster, storage, python, lib, user_unit):
    """Writes the unit (when it differs), enables it for boot and (re)starts it. An error text or None."""
    path = unit_path(cluster, storage, user_unit)
    text = unit_text(cluster, storage, python, lib, user_unit)
    try:
        with open(path) as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_file_atomic(path, text, 0o644)
        rc, out = _systemctl(user_unit, "daemon-reload")
        if rc:
            return "systemctl daemon-reload failed: %s" % out
    name = unit_name(cluster, storage)
    rc, out = _systemctl(user_unit, "enable", name)
    if rc:
        return "systemctl enable %s failed: %s" % (name, out)
    rc, out = _systemctl(user_unit, "restart", name)
    if rc:
        return "systemctl restart %s failed: %s" % (name, out)
    return None


def systemd_remove(cluster, storage, user_unit):
    """Stops and disables the unit and removes its file; True when there was one."""
    path = unit_path(cluster, storage, user_unit)
    if not os.path.exists(path):
        return False
    name = unit_name(cluster, storage)
    _systemctl(user_unit, "disable", "--now", name)
    try:
        os.unlink(path)
    except OSError as e:
        log("cannot remove %s: %s" % (path, e))
    _systemctl(user_unit, "daemon-reload")
    _systemctl(user_unit, "reset-failed", name)
    return True


def _crontab_read():
    p = subprocess.run(["crontab", "-l"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    # `crontab -l` of a user without one exits 1 ("no crontab for ..."): an empty crontab
    return p.stdout.decode(errors="replace") if p.returncode == 0 else ""


def crontab_set(cluster, storage, line):
    """Read-modify-write of the user's crontab: this cluster's line replaced (or removed: line None).
    True when the crontab changed; raises OSError when `crontab` cannot write it."""
    if not which("crontab"):
        return False
    old = _crontab_read()
    new = crontab_edit(old, cluster, storage, line)
    if new == old or (not old.strip() and not new.strip()):
        return False
    p = subprocess.run(["crontab", "-"], input=new.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    if p.returncode:
        raise OSError("crontab - failed: %s" % p.stdout.decode(errors="replace").strip())
    return True


# ---- worker_logs.py ----
# Exited workers' log files in the live session (ray_spec.keep_dead_worker_logs). Ray writes a set per
# worker process (worker-<id>-<job>-<pid>.out/.err, python-core-worker-<id>_<pid>.log, their rotated
# copies) and keeps them until the session ends: a cluster that runs for weeks fills its disk with them
# (ray#62961). The supervisor removes the oldest sets beyond the bound; never a set whose process is
# alive, and never a file any process has open (a `tail -f`, Ray's log monitor: it goes once closed).
import os


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


# ---- supervise.py ----
# The node's supervisor (`supervise-run`): runs `ray start` from the spec `start` stored, becomes the
# parent of every Ray daemon (a child subreaper), and when one dies records why, stops the rest of
# this cluster and starts Ray again after a backoff; a crash loop is given up after MAX_TRIES.
# `start` (re)starts it through a launcher (launchers.py) and waits on its state file; `stop`
# removes it first. Its state file (state/supervisor.json) is what `status` reports.
import os
import sys
import time


BACKOFF_SEC = (1, 2, 4, 8, 16, 30)
MAX_TRIES = 6  # failed tries in a row, then the supervisor gives up until the next deploy
STABLE_SEC = 60  # a run that stays up this long resets the backoff
HISTORY = 20  # restarts kept in the state file
POLL_SEC = 0.25
WORKER_LOGS_EVERY_SEC = 60  # how often exited workers' logs are counted (ray_spec.keep_dead_worker_logs)
SPEC_FILE = "supervise-spec.json"
STATE_FILE = "supervisor.json"
PAUSE_FILE = "supervise.paused"
LOCK_FILE = ".supervisor.lock"
LIB_COPY = "nokube_supervisor.py"
LOG_MAX_BYTES = 4 * 1024 * 1024


def _say(msg):
    """A line of the supervisor's log (stderr: logs/supervisor.log, or the unit's journal), timed."""
    log("%s %s" % (time.strftime("%Y-%m-%dT%H:%M:%S"), msg))


def backoff_sec(failures):
    """Seconds to wait before the next try after `failures` failed tries in a row (1, 2, 4 ... 30)."""
    return BACKOFF_SEC[min(max(int(failures), 1), len(BACKOFF_SEC)) - 1]


def describe_exit(status):
    """os.waitpid's status as {exit_code} or {signal} (a name: SIGKILL), the words `status` shows."""
    if os.WIFSIGNALED(status):
        num = os.WTERMSIG(status)
        try:
            name = signal.Signals(num).name
        except ValueError:
            name = "signal %d" % num
        return {"signal": name}
    if os.WIFEXITED(status):
        return {"exit_code": os.WEXITSTATUS(status)}
    return {"exit_code": None}


def why_text(why):
    if not why:
        return "unknown"
    if why.get("signal"):
        return "killed by %s" % why["signal"]
    if why.get("reason"):
        return str(why["reason"])
    return "exit code %s" % why.get("exit_code")


def sessions_to_prune(names, live, keep):
    """Which of Ray's session directories (names `session_<date>_<pid>`) go: all but the `keep`
    newest and the live one (session_latest's target), oldest first (pure; the names sort by date)."""
    old = sorted(n for n in names if n.startswith("session_") and n != "session_latest" and n != live)
    keep = max(0, int(keep))
    return old[:max(0, len(old) - keep)]


def prune_sessions(temp, keep):
    """Removes old session directories under Ray's temp dir; the names removed."""
    import shutil

    try:
        names = os.listdir(temp)
    except OSError:
        return []
    live = None
    try:
        live = os.path.basename(os.readlink(os.path.join(temp, "session_latest")))
    except OSError:
        pass
    gone = []
    for n in sessions_to_prune(names, live, keep):
        path = os.path.join(temp, n)
        if os.path.islink(path) or not os.path.isdir(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        gone.append(n)
    return gone


def read_node_id(temp_dir):
    d = os.path.join(temp_dir, "session_latest")
    try:
        for n in os.listdir(d):
            m = re.match(r"^(?:metrics_export_port|dashboard_agent_listen_port|runtime_env_agent_port)_([0-9a-f]{40,64})$", n)
            if m:
                return m.group(1)
    except OSError:
        pass
    return None


def _paths(storage):
    sd = state_dir(storage)
    return {"spec": os.path.join(sd, SPEC_FILE), "state": os.path.join(sd, STATE_FILE),
            "paused": os.path.join(sd, PAUSE_FILE), "lock": os.path.join(sd, LOCK_FILE),
            "log": os.path.join(storage, "logs", "supervisor.log"), "lib": os.path.join(storage, "lib", LIB_COPY)}


def read_state(storage):
    return read_json_file(_paths(storage)["state"]) or {}


def is_supervisor(pid, cluster, storage):
    """pid is this cluster's supervisor (its command line names supervise-run, the cluster and storage)."""
    cmd = _read("/proc/%d/cmdline" % int(pid), binary=True) if pid else None
    if not cmd:
        return False
    args = cmd.split(b"\0")
    return b"supervise-run" in args and cluster.encode() in args and storage.encode() in args and pid_alive(pid)


def process_name(pid):
    """A Ray daemon's name as an operator knows it: raylet, gcs_server, dashboard, log_monitor ..."""
    cmd = _read("/proc/%d/cmdline" % pid, binary=True) or b""
    args = [a.decode(errors="replace") for a in cmd.split(b"\0") if a]
    if args:
        base = os.path.basename(args[0].split(" ", 1)[0])
        if base in ("raylet", "gcs_server"):
            return base
        for i, a in enumerate(args[1:], 1):
            if a.endswith(".py"):
                return os.path.basename(a)[:-3]
            if a == "-m" and i + 1 < len(args):
                return args[i + 1].rsplit(".", 1)[-1]  # python -m ray.util.client.server: server
        if args[0].startswith("ray::"):
            return args[0].split(" ", 1)[0]
    return _comm(pid) or "pid %d" % pid


def _children(pid):
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for n in names:
        if not n.isdigit():
            continue
        st = _read("/proc/%s/stat" % n)
        try:
            if st and int(st.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(n))
        except (IndexError, ValueError):
            pass
    return out


def _subreaper():
    """Makes this process the parent of its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


class Supervisor(object):
    def __init__(self, cluster, storage):
        self.cluster = cluster
        self.storage = storage
        self.paths = _paths(storage)
        self.stopping = False
        self.state = {}

    # --- state file -----------------------------------------------------------------------------
    def save(self, **changes):
        self.state.update(changes)
        self.state["updated_at"] = time.time()
        try:
            write_json_atomic(self.paths["state"], self.state)
        except OSError as e:
            _say("cannot write %s: %s" % (self.paths["state"], e))

    def _on_signal(self, signum, frame):
        self.stopping = True

    def sleep(self, sec):
        """Sleeps up to `sec`, ended early by a stop; False when stopping."""
        end = time.time() + sec
        while not self.stopping and time.time() < end:
            time.sleep(min(POLL_SEC, max(0.0, end - time.time())))
        return not self.stopping

    def idle(self):
        """Nothing to do until the next deploy or stop (which signal this process): no spinning."""
        while not self.stopping:
            time.sleep(0.5)  # a deploy waits on our exit: two wake-ups a second, nothing else

    # --- one `ray start` --------------------------------------------------------------------------
    def ray_start(self, spec):
        """(exit code or None, its output and the Ray logs it wrote, ms it ran)."""
        temp = spec["temp_dir"]
        try:
            own_temp_dir(temp)
        except Fail as e:
            return 1, e.error, 0
        prune_sessions(temp, spec["keep_sessions"])
        argv = spec["argv"]
        log_path = spec["log_path"]
        timeout = float(spec["timeout_sec"])
        t0 = time.time()
        rc = None
        with open(log_path, "wb") as lf:
            lf.write(("$ %s\n" % " ".join(argv)).encode())
            lf.flush()
            try:
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                     env=spec["env"], cwd=self.storage, start_new_session=True)
            except OSError as e:
                lf.write(("cannot run %s: %s\n" % (argv[0], e.strerror)).encode())
                return 127, "cannot run %s: %s" % (argv[0], e.strerror), 0
            rejected = False
            while True:
                try:
                    rc = p.wait(timeout=POLL_SEC)
                    break
                except subprocess.TimeoutExpired:
                    pass
                # a worker whose token the head rejects retries forever: stop early
                rejected = spec.get("role") == "worker" and "InvalidAuthToken" in tail_text(log_path, 20)
                if self.stopping or rejected or time.time() - t0 > timeout:
                    p.kill()
                    p.wait()
                    rc = None
                    break
        ms = int((time.time() - t0) * 1000)
        text = tail_text(log_path, 40)
        if rc != 0:
            extra = fresh_ray_logs(temp, t0)
            text = text + ("\n" + extra if extra else "")
            if rejected:
                text += "\nInvalid authentication token"
            elif rc is None and not self.stopping:
                text += "\nray start did not return within %ds" % timeout
        return rc, strip_ansi(text)[-8000:], ms

    def daemons(self, reaper):
        """{pid: name} of the Ray daemons `ray start` left: as subreaper, our children; else this cluster's pids."""
        pids = _children(os.getpid()) if reaper else cluster_pids(self.cluster, self.storage)
        return dict((p, process_name(p)) for p in pids if pid_alive(p))

    def prune_worker_logs(self, spec):
        """Exited workers' logs of the live session beyond the spec's bound (an older spec has none)."""
        keep = spec.get("keep_dead_worker_logs")
        if keep is None:
            return
        try:
            removed = prune_worker_logs(spec["temp_dir"], int(keep))
        except OSError as e:
            _say("cannot prune exited workers' logs: %s" % e)
            return
        if removed:
            _say("removed %d log file(s) of exited workers (keep_dead_worker_logs: %d)" % (removed, int(keep)))

    def watch(self, daemons, reaper, spec):
        """Waits until a daemon dies or a stop: (name, why) of the death, or None when stopping.
        Every WORKER_LOGS_EVERY_SEC meanwhile, the exited workers' logs beyond the bound go."""
        next_prune = time.time() + WORKER_LOGS_EVERY_SEC
        while not self.stopping:
            if time.time() >= next_prune:
                self.prune_worker_logs(spec)
                next_prune = time.time() + WORKER_LOGS_EVERY_SEC
            if reaper:
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        pid = 0
                    if pid == 0:
                        break
                    if pid in daemons:  # Ray's workers (raylet's children) are only reaped
                        return daemons[pid], describe_exit(status)
                if not daemons:
                    return "ray", {"reason": "no Ray daemon left after ray start"}
            else:
                for pid, name in daemons.items():
                    if not pid_alive(pid):
                        return name, {"reason": "gone (exit status unknown: no subreaper)"}
            time.sleep(POLL_SEC)
        return None

    def reap(self):
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    return
            except ChildProcessError:
                return

    def stop_ray(self, spec):
        stop_cluster(self.cluster, self.storage, float(spec["grace_sec"]))
        self.reap()

    def _rotate_log(self):
        try:
            if os.path.getsize(self.paths["log"]) > LOG_MAX_BYTES:
                os.replace(self.paths["log"], self.paths["log"] + ".1")
        except OSError:
            pass

    # --- the loop ---------------------------------------------------------------------------------
    def run(self):
        spec = read_json_file(self.paths["spec"])
        if not spec:
            _say("no supervision spec in %s: nothing to supervise" % self.paths["spec"])
            return 0
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, self._on_signal)
        reaper = _subreaper()
        old = read_json_file(self.paths["state"]) or {}
        first = old.get("deploy_id") != spec.get("deploy_id")
        if first:
            # a deploy: its counters start again (restart_seq, the scheduled check's watermark, goes on)
            self.state = {"deploy_id": spec.get("deploy_id"), "restarts": 0, "history": [],
                          "restart_seq": int(old.get("restart_seq") or 0), "deployed_at": time.time()}
        else:
            self.state = dict(old)
        self.save(pid=os.getpid(), launcher=spec.get("launcher"), subreaper=reaper, boot_id=_boot_id(),
                  cluster=self.cluster, storage=self.storage)
        if not first:
            # started again without a deploy: the machine booted, or the supervisor itself was restarted.
            # A "stopped" state counts too: systemd stops the unit at a clean shutdown, and the node's Ray
            # starting again at the next boot is a restart all the same (nokube's own stop removes the spec)
            why = "the node rebooted" if old.get("boot_id") and old.get("boot_id") != _boot_id() else \
                "the supervisor was started again (boot, or it had died)"
            self.record_restart("node", {"reason": why})
        failures = 0 if first else int(self.state.get("tries") or 0)
        if cluster_pids(self.cluster, self.storage):
            self.stop_ray(spec)  # what an earlier supervisor or start left: never two Rays on a node
        while not self.stopping:
            if os.path.exists(self.paths["paused"]):
                self.save(state="paused")
                self.idle()
                break
            self._rotate_log()
            self.save(state="starting", tries=failures)
            _say("ray start (%s)" % ("deploy" if first else "try %d" % max(failures, 1)))
            rc, text, ms = self.ray_start(spec)
            if self.stopping:
                break
            if rc != 0:
                last_exit = {"at": time.time(), "process": "ray start", "exit_code": rc,
                             "log_tail": text}
                self.stop_ray(spec)
                if first:
                    # a deploy's failed start is reported by that deploy, never retried in the background
                    self.save(state="failed", last_exit=last_exit, ray_start_ms=ms, start_exit_code=rc)
                    return 0
                failures += 1
                if not self.after_failure(failures, last_exit):
                    break
                continue
            up_at = time.time()
            daemons = self.daemons(reaper)
            self.save(state="running", ray_start_ms=ms, started_at=up_at, tries=failures,
                      daemons=sorted(set(daemons.values())))
            if not first:
                self._update_runtime(spec, up_at)
            first = False
            death = self.watch(daemons, reaper, spec)
            if death is None:
                break
            name, why = death
            if os.path.exists(self.paths["paused"]):
                # a drain: the raylet leaves on purpose; the deploy that paused us goes on from here
                self.save(state="paused", last_exit=dict(why, at=time.time(), process=name))
                self.idle()
                break
            failures = 1 if time.time() - up_at >= STABLE_SEC else failures + 1
            log_tail = self._death_logs(spec, name)
            self.record_restart(name, why)
            self.stop_ray(spec)
            last_exit = dict(why, at=time.time(), process=name, log_tail=log_tail)
            if not self.after_failure(failures, last_exit):
                break
        self.stop_ray(spec)
        if self.state.get("state") not in ("failed",):
            self.save(state="stopped", pid=None)
        return 0

    def after_failure(self, failures, last_exit):
        """Backs off before the next try; after MAX_TRIES failures in a row stays idle. False: stop."""
        if failures >= MAX_TRIES:
            self.save(state="crash-loop", tries=failures, last_exit=last_exit, gave_up_at=time.time())
            _say("gave up after %d failed tries in a row (last: %s)" % (failures, why_text(last_exit)))
            self.idle()
            return False
        delay = backoff_sec(failures)
        self.save(state="backoff", tries=failures, last_exit=last_exit, next_try_at=time.time() + delay)
        return self.sleep(delay)

    def record_restart(self, process, why):
        entry = dict(why, at=time.time(), process=process)
        history = (self.state.get("history") or [])[-(HISTORY - 1):] + [entry]
        self.save(restarts=int(self.state.get("restarts") or 0) + 1,
                  restart_seq=int(self.state.get("restart_seq") or 0) + 1, last_restart=entry, history=history)
        _say("%s: %s; restarting" % (process, why_text(why)))

    def _death_logs(self, spec, name):
        logs_dir = os.path.join(spec["temp_dir"], "session_latest", "logs")
        for n in ("%s.err" % name, "%s.out" % name, "%s.log" % name):
            t = tail_text(os.path.join(logs_dir, n), 15)
            if t.strip():
                return strip_ansi("--- %s ---\n%s" % (n, t))[-4000:]
        return ""

    def _update_runtime(self, spec, up_at):
        """runtime.json after a restart of ours: the node's new Ray node id and start time."""
        path = os.path.join(state_dir(self.storage), "runtime.json")
        runtime = read_json_file(path)
        if runtime:
            runtime["node_id"] = read_node_id(spec["temp_dir"])
            runtime["started_at"] = int(up_at)
            try:
                write_json_atomic(path, runtime)
            except OSError as e:
                _say("cannot update %s: %s" % (path, e))


def supervise_run(cluster, storage):
    """`supervise-run CLUSTER STORAGE`: the supervisor, in the foreground; one per cluster and storage."""
    import fcntl

    paths = _paths(storage)
    fd = os.open(paths["lock"], os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say("another supervisor of cluster %s already runs for %s" % (cluster, storage))
        return 0
    return Supervisor(cluster, storage).run()


def spawn_detached(python, lib, cluster, storage):
    """The supervisor in a session of its own, its output appended to logs/supervisor.log."""
    paths = _paths(storage)
    with open(paths["log"], "ab") as lf:
        p = subprocess.Popen([python, lib, "supervise-run", cluster, storage], stdin=subprocess.DEVNULL,
                             stdout=lf, stderr=subprocess.STDOUT, cwd=storage, start_new_session=True,
                             close_fds=True)
    return p.pid


def supervise_start(cluster, storage):
    """`supervise-start CLUSTER STORAGE` (the @reboot line): the supervisor started detached."""
    spawn_detached(sys.executable, _paths(storage)["lib"], cluster, storage)
    return 0


def main_supervise(verb, argv):
    """`supervise-run|supervise-start CLUSTER STORAGE` (what the unit and the crontab line run)."""
    try:
        if len(argv) != 2:
            raise Fail("usage: nokube_remote.py supervise-run|supervise-start CLUSTER STORAGE")
        cluster = cluster_name({"cluster": argv[0]})
        storage = storage_path({"cluster": cluster, "storage": argv[1]})
    except Fail as e:
        print(e.error, file=sys.stderr)
        return 2
    return supervise_run(cluster, storage) if verb == "supervise-run" else supervise_start(cluster, storage)


def _lib_copy(storage):
    """A stable copy of this library for the unit / crontab line (the uploaded file is named by its hash)."""
    path = _paths(storage)["lib"]
    src = os.path.abspath(globals().get("__file__") or "")
    with open(src, "rb") as f:
        data = f.read()
    try:
        with open(path, "rb") as f:
            same = f.read() == data
    except OSError:
        same = False
    if not same:
        write_file_atomic(path, data, 0o644)
    return path


def stop_supervisor(cluster, storage, remove, wait_sec=90.0):
    """Stops this cluster's supervisor (which stops its Ray) and, with `remove`, takes its launcher off
    the node (the unit, the crontab line). The launcher that was removed, or None."""
    removed = None
    st = read_state(storage)
    for user_unit in (False, True):
        try:
            if remove:
                if systemd_remove(cluster, storage, user_unit):
                    removed = "systemd-user" if user_unit else "systemd"
            else:
                if os.path.exists(unit_path(cluster, storage, user_unit)):
                    _systemctl(user_unit, "stop", unit_name(cluster, storage))
        except (OSError, subprocess.SubprocessError) as e:
            _say("systemd: %s" % e)
    if remove and st:  # only a node that was supervised has a line (saves `crontab -l` elsewhere)
        try:
            if crontab_set(cluster, storage, None):
                removed = removed or "cron"
        except (OSError, subprocess.SubprocessError) as e:
            _say("crontab: %s" % e)
    pid = st.get("pid")
    if pid and is_supervisor(pid, cluster, storage):
        removed = removed or st.get("launcher") or "detached"
        try:
            os.kill(int(pid), signal.SIGTERM)
        except OSError:
            pass
        end = time.time() + wait_sec
        while time.time() < end and is_supervisor(pid, cluster, storage):
            time.sleep(0.05)
        if is_supervisor(pid, cluster, storage):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    if remove:
        for k in ("spec", "paused"):
            try:
                os.unlink(_paths(storage)[k])
            except OSError:
                pass
    return removed


def start_supervised(cluster, storage, spec, caller):
    """The first `ray start` of a deploy, through the supervisor: the spec written, the supervisor
    (re)started by the node's launcher, its state file waited on. (rc, text, ray_start_ms, launcher)."""
    paths = _paths(storage)
    launcher = detect_launcher()
    spec = dict(spec, launcher=launcher, deploy_id=os.urandom(8).hex())
    write_json_atomic(paths["spec"], spec, 0o600)  # holds the environment Ray is started with
    try:
        os.unlink(paths["paused"])
    except OSError:
        pass
    lib = _lib_copy(storage)
    python = sys.executable
    warning = None
    if launcher in ("systemd", "systemd-user"):
        err = systemd_install_start(cluster, storage, python, lib, launcher == "systemd-user")
        if err:
            warning = "%s; supervising without it" % err
            launcher = "detached"
        else:
            crontab_set(cluster, storage, None)
    if launcher in ("cron", "detached"):
        if launcher == "cron":
            try:
                crontab_set(cluster, storage, cron_line(cluster, storage, python, lib))
            except (OSError, subprocess.SubprocessError) as e:
                warning = "cannot add the @reboot line to the crontab (%s): the node will not come back after a reboot" % e
                launcher = "detached"
        else:
            crontab_set(cluster, storage, None)
        spawn_detached(python, lib, cluster, storage)
    if launcher != spec["launcher"]:
        spec["launcher"] = launcher
        write_json_atomic(paths["spec"], spec, 0o600)
    deadline = time.time() + float(spec["timeout_sec"]) + 30
    while True:
        st = read_state(storage)
        if st.get("deploy_id") == spec["deploy_id"]:
            if st.get("state") == "running":
                return 0, "", st.get("ray_start_ms"), launcher, warning
            if st.get("state") == "failed":
                last = st.get("last_exit") or {}
                return last.get("exit_code"), last.get("log_tail") or "", st.get("ray_start_ms"), launcher, warning
        if os.getppid() != caller:
            _say("the caller went away during ray start: stopping what it left")
            stop_supervisor(cluster, storage, remove=True)
            stop_cluster(cluster, storage, CLEANUP_GRACE_SEC)
            raise Fail("the run that started this node went away during ray start")
        if time.time() > deadline:
            stop_supervisor(cluster, storage, remove=True)
            raise Fail("the supervisor did not start Ray within %ds" % (deadline - time.time()),
                       "read %s on the node" % paths["log"])
        time.sleep(0.05)


def supervision_report(cluster, storage):
    """The supervisor's state file as `probe` and `status` report it; None when never supervised."""
    st = read_state(storage)
    if not st:
        return None
    out = dict((k, st.get(k)) for k in ("launcher", "state", "restarts", "restart_seq", "last_restart", "last_exit",
                                         "tries", "deployed_at", "ray_start_ms"))
    out["alive"] = bool(st.get("pid")) and is_supervisor(st["pid"], cluster, storage)
    if out["state"] in ("running", "starting", "backoff", "crash-loop", "paused") and not out["alive"]:
        out["state"] = "gone"  # its process is not there (a reboot without a launcher, a kill)
    out["paused"] = os.path.exists(_paths(storage)["paused"])
    return out


def restarts_seen(storage, who, report):
    """Restarts since the last status that `who` (cli, action) ran, whose count is kept on the node
    (state/restarts-seen.<who>.json, a watermark of the supervisor's restart_seq); the watermark moves on."""
    if not re.match(r"^[a-z0-9_-]{1,32}$", who):
        raise Fail("status: seen_by must be a short lowercase name, not %r" % who)
    path = os.path.join(state_dir(storage), "restarts-seen.%s.json" % who)
    seq = int(report.get("restart_seq") or 0)
    seen = read_json_file(path)
    new = seq - int(seen.get("restart_seq") or 0) if seen else int(report.get("restarts") or 0)
    if not seen or seen.get("restart_seq") != seq:
        try:
            write_json_atomic(path, {"restart_seq": seq, "at": time.time()})
        except OSError as e:
            _say("cannot write %s: %s" % (path, e))
    return max(0, new)


def verb_supervise(inp):
    """`supervise` {action: pause | state}: a drain pauses supervision first."""
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    action = inp.get("action")
    if action == "pause":
        write_file_atomic(_paths(storage)["paused"], "%d\n" % int(time.time()), 0o644)
        return {"ok": True, "supervision": supervision_report(cluster, storage)}
    if action == "state":
        return {"ok": True, "supervision": supervision_report(cluster, storage), "launcher": detect_launcher()}
    raise Fail("supervise: unknown action %r (pause or state)" % (action,))


# ---- start_stop.py ----
# `start` and `stop`: the `ray start` argv (flags as in src/config/ray-keys.ts), ports and
# the head checked first, the token, `ray start` watched to its exit, failures explained.
import os
import time


def _label_arg(labels, ray_version):
    items = sorted((str(k), str(v)) for k, v in (labels or {}).items())
    for k, v in items:
        if "," in k + v or "=" in k + v:
            raise Fail("label %s=%s contains ',' or '=' (not allowed in Ray labels)" % (k, v))
    if version_tuple(ray_version) and version_tuple(ray_version) < (2, 45):
        return json.dumps(dict(items), sort_keys=True)
    return ",".join("%s=%s" % kv for kv in items)


def head_port(args, key):
    """A head port from the engine's arguments: the engine fills in every default (none here)."""
    value = (args or {}).get(key)
    if value is None:
        raise Fail("head start needs %s in its arguments" % key)
    return int(value)


def dashboard_host(args, token_auth):
    """Where the head's dashboard (and so the Jobs API, which runs any code) listens. With token
    auth, every interface; without it (Ray before 2.52) only the node's own address, unless
    ray_config.dashboard_host says otherwise."""
    if args.get("dashboard_host"):
        return str(args["dashboard_host"])
    if token_auth:
        return "0.0.0.0"
    node_ip = str(args.get("node_ip_address") or "127.0.0.1")
    # Ray before 2.52 tests the dashboard's port with an IPv4 socket ("Address family for hostname
    # not supported" for an IPv6 address: the head fails to start): loopback there, reached by SSH
    return "127.0.0.1" if ":" in node_ip else node_ip


def build_start_argv(role, args, temp_dir, head_address=None, ray_version=None, base=("ray",), token_auth=True):
    """The `ray start` argv (a list: never a shell string). Flags follow src/config/ray-keys.ts."""
    a = dict(args or {})
    argv = list(base) + ["start"]
    if role == "head":
        argv += ["--head", "--port=%d" % head_port(a, "gcs_port")]
        if a.get("port") is not None:
            argv.append("--ray-client-server-port=%d" % int(a["port"]))
        argv += ["--dashboard-host=%s" % dashboard_host(a, token_auth),
                 "--dashboard-port=%d" % head_port(a, "dashboard_port"),
                 "--include-dashboard=true"]
    elif role == "worker":
        if not head_address:
            raise Fail("worker start needs head_address")
        argv.append("--address=%s" % head_address)
    else:
        raise Fail("role must be head or worker, not %r" % (role,))
    if a.get("node_ip_address"):
        argv.append("--node-ip-address=%s" % a["node_ip_address"])
    for key, flag in (("num_cpus", "--num-cpus"), ("num_gpus", "--num-gpus"), ("memory", "--memory"),
                      ("object_store_memory", "--object-store-memory")):
        if a.get(key) is not None:
            v = a[key]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            argv.append("%s=%s" % (flag, v))
    for key, flag in (("node_manager_port", "--node-manager-port"), ("object_manager_port", "--object-manager-port"),
                      ("runtime_env_agent_port", "--runtime-env-agent-port"),
                      ("dashboard_agent_listen_port", "--dashboard-agent-listen-port"),
                      ("dashboard_agent_grpc_port", "--dashboard-agent-grpc-port"),
                      ("metrics_export_port", "--metrics-export-port"),
                      ("min_worker_port", "--min-worker-port"), ("max_worker_port", "--max-worker-port")):
        if a.get(key) is not None:
            argv.append("%s=%d" % (flag, int(a[key])))
    if a.get("resources"):
        argv.append("--resources=%s" % json.dumps(a["resources"], sort_keys=True, separators=(",", ":")))
    if a.get("labels"):
        argv.append("--labels=%s" % _label_arg(a["labels"], ray_version))
    argv += ["--temp-dir=%s" % temp_dir, "--disable-usage-stats"]
    return argv


def explain_failure(text, role, args, head_address):
    t = strip_ansi(text)
    m = re.search(r"[Pp]ort (\d+) .*?(already in use|is in use|unavailable)", t) or \
        re.search(r"(\d+).{0,40}[Aa]ddress already in use", t)
    if m:
        return ("ray start failed: port %s is already in use on this node" % m.group(1),
                "free the port or choose another one in ray-config.yaml")
    if "already running" in t:
        return ("ray start failed: a Ray instance is already running with that address on this node",
                "stop it (nokube ray stop) or choose another gcs_port")
    if re.search(r"(Unauthenticated|InvalidAuthToken|UNAUTHENTICATED|Invalid authentication)", t):
        return ("ray start failed: the head rejected this node's authentication token",
                "restart the worker with the head's current token (nokube ray start)")
    if "timed out during startup" in t:
        # Ray's own words when its raylet did not come up (or register) in time: the GCS answered
        return ("ray start failed: Ray on this node did not finish starting in time (its raylet did not "
                "come up or register with the GCS)",
                "the head may be overloaded or this machine slow: see raylet.out in the node's logs "
                "(nokube ray logs), then run start again")
    if role == "worker" and re.search(r"(Unable to connect|Failed to connect|timed out|Connection refused|"
                                      r"Failed to get the system config|could not connect)", t, re.I):
        return ("ray start failed: cannot reach the head's GCS at %s" % head_address,
                "check that the head is running and that the node can reach %s (firewall?)" % head_address)
    m = re.search(r"Ray component (\S+) is trying to use a port number (\d+) that is used by other components", t)
    if m:
        info = re.search(r"Port information: (.*)", t)
        hint = "choose ports that no two Ray components share"
        if m.group(1) == "worker_ports":
            rng = re.search(r"'worker_ports': '\d+ ports from (\d+) to (\d+)'", t)
            hint = "port %s lies in Ray's worker port range %s; choose gcs_port, port and dashboard_port outside it" % (
                m.group(2), "%s-%s" % rng.groups() if rng else "10002-19999")
        return ("ray start failed: port %s is claimed by two Ray components (%s)%s" % (
            m.group(2), m.group(1), ("; " + info.group(1)[:400]) if info else ""), hint)
    errs = [ln.strip() for ln in t.splitlines() if re.match(r"^\s*[A-Za-z_.]*(Error|Exception): ", ln)]
    if errs:
        return ("ray start failed: %s" % errs[-1][:400], None)
    last = [ln for ln in t.splitlines() if ln.strip()]
    return ("ray start failed: %s" % (last[-1].strip()[:400] if last else "no output"), None)


def pidfd_of(p):
    """A pidfd of the child (readable once it exits: Linux 5.3+, Python 3.9+), or None."""
    try:
        return os.pidfd_open(p.pid)
    except (AttributeError, OSError):
        return None


def wait_exit(p, pidfd, timeout):
    """The child's exit code, or None after `timeout` seconds. With a pidfd the wait ends when the
    child exits; Popen.wait alone polls (every 50 ms at most), a delay on every `ray start`."""
    if pidfd is None:
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.poll(int(timeout * 1000))
    return p.poll()


def _watch_ray_start(p, pidfd, role, log_path, caller, cluster, storage, t0, timeout):
    """(`ray start`'s exit code or None when it was killed, whether the head refused the worker's token).
    Every half second: the caller still there, the head not refusing the token, the time limit."""
    while True:
        rc = wait_exit(p, pidfd, 0.5)
        if rc is not None:
            return rc, False
        # a worker whose token the head rejects retries forever: stop early
        rejected = role == "worker" and "InvalidAuthToken" in tail_text(log_path, 20)
        if os.getppid() != caller:
            # the run that asked for this start is gone (killed, cancelled, connection dropped):
            # leave nothing half-started behind for the next run to trip over
            log("the caller went away during ray start: stopping what it left")
            p.kill()
            p.wait()
            stop_cluster(cluster, storage, CLEANUP_GRACE_SEC)
            raise Fail("the run that started this node went away during ray start")
        if rejected or time.time() - t0 > timeout:
            p.kill()
            p.wait()
            return None, rejected


def rotation_env(applied):
    """Ray's log rotation (ray_spec.log_rotation) as the environment `ray start` reads it: every Ray
    process of the node rotates its logs by it (workers' .out/.err only when it is set at all)."""
    rotation = need(applied, "log_rotation", "start")
    return {"RAY_ROTATION_MAX_BYTES": str(int(need(rotation, "max_bytes", "start"))),
            "RAY_ROTATION_BACKUP_COUNT": str(int(need(rotation, "backup_count", "start")))}


def verb_start(inp):
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    writable, err = storage_check(storage)
    if not writable:
        raise Fail(err)
    # One start per node at a time: a start left running by a cancelled run (its SSH session gone,
    # the verb still in `ray start`) finishes or cleans up before this one looks at the processes,
    # so a node never gets two Ray instances.
    timeout = float(need(inp, "timeout_sec", "start"))
    with _Guard(os.path.join(state_dir(storage), ".start.guard"), wait_sec=timeout + 30,
                busy="another start of cluster %s is still running on this node" % cluster):
        return _start_locked(inp, cluster, storage)


def _start_locked(inp, cluster, storage):
    role = inp.get("role")
    # the Ray arguments travel once, inside the spec stored as applied.json
    args = (inp.get("applied") or {}).get("ray") or {}
    caller = os.getppid()
    ray, pyinfo, ray_error = find_ray(inp.get("python"))
    if not ray:
        raise Fail("Ray not found on this node: %s" % ray_error,
                   "install ray (pip install 'ray[default]') or set ray_spec.python")
    running = cluster_pids(cluster, storage)
    if running and not inp.get("restart"):
        raise Fail("Ray of cluster %s is already running on this node" % cluster,
                   "start with restart: true to restart it")
    policy = (inp.get("supervise") or {}).get("restart") or "never"
    # the supervisor a previous start left goes first (it would start Ray again behind this start's
    # back); with restart: never its launcher is taken off the node too
    stop_supervisor(cluster, storage, remove=policy != "always")
    running = cluster_pids(cluster, storage)
    if running:
        if inp.get("restart"):
            st = stop_cluster(cluster, storage, float(need(inp, "grace_sec", "start")))
            if st["remaining"]:
                raise Fail("could not stop the running Ray of cluster %s (pids %s)" % (cluster, st["remaining_pids"]))
        else:
            raise Fail("Ray of cluster %s is already running on this node" % cluster,
                       "start with restart: true to restart it")
    temp = temp_dir_for(cluster, storage)
    own_temp_dir(temp)

    # ports we are about to bind: refuse early with a precise message
    wanted = []
    if role == "head":
        wanted = [("gcs_port", head_port(args, "gcs_port")),
                  ("dashboard_port", head_port(args, "dashboard_port"))]
        if args.get("port") is not None:
            wanted.append(("port", int(args["port"])))
    if role == "worker" and inp.get("head_address"):
        host, _, port = str(inp["head_address"]).rpartition(":")
        host = host.strip("[]")
        try:
            socket.create_connection((host, int(port)), timeout=float(need(inp, "connect_timeout_sec", "start"))).close()
        except (OSError, ValueError) as e:
            raise Fail("cannot reach the head's GCS at %s from this node: %s" % (
                inp["head_address"], getattr(e, "strerror", None) or e),
                "check that the head is running and that this node can reach %s (firewall, node_ip_address)"
                % inp["head_address"])
    listen = listening_ports()
    for name, port in wanted:
        if port in listen:
            raise Fail("port %d (%s) is already in use on this node by another process" % (port, name),
                       "free the port or choose another %s in ray-config.yaml" % name)

    env = dict(os.environ)
    env[MARK_ENV] = cluster_mark(cluster, storage)
    env["NOKUBE_CLUSTER"] = cluster
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_TOKEN", None)
    # the job's `python` (and its workers' subprocesses') is Ray's interpreter, as in an activated venv.
    # Without the SSH session's variables: Ray starts workers through `bash -c`, and bash seeing
    # SSH_CLIENT reads ~/.bashrc, whose pyenv/conda lines would put another python first again.
    for k in ("SSH_CLIENT", "SSH2_CLIENT", "SSH_CONNECTION", "SSH_TTY"):
        env.pop(k, None)
    env.update(activated_env(ray["python"], env.get("PATH")))
    for name in ("RAY_REDIS_ADDRESS", "RAY_external_storage_namespace", "RAY_gcs_rpc_server_reconnect_timeout_s",
                 "RAY_ROTATION_MAX_BYTES", "RAY_ROTATION_BACKUP_COUNT"):
        env.pop(name, None)  # the config's alone, never the login environment's
    env.update(rotation_env(need(inp, "applied", "start")))
    gcs_env, ray_base = gcs_start_pieces(role, inp.get("applied"), cluster, storage, inp.get("redis_password"),
                                         ray["python"])
    env.update(gcs_env)
    ray_base = ray_base or ray_cmd(ray)
    token_path = os.path.join(state_dir(storage), "auth_token")
    token = None
    auth = "none"
    want_auth = inp.get("token_auth", True) is not False
    if supports_token_auth(ray) and want_auth:
        if role == "head":
            token = read_token(token_path)
            if not token or inp.get("rotate_token"):
                token = secrets.token_hex(32)
            write_token(token_path, token)
        else:
            token = inp.get("auth_token")
            if token:
                write_token(token_path, token)
    if token:
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
        auth = "token"
    elif supports_token_auth(ray):
        env["RAY_AUTH_MODE"] = "disabled"
        env.pop("RAY_AUTH_TOKEN_PATH", None)

    argv = build_start_argv(role, args, temp, inp.get("head_address"), ray["version"], ray_base,
                            token_auth=auth == "token")
    log_path = os.path.join(storage, "logs", "ray-start.log")
    timeout = float(need(inp, "timeout_sec", "start"))
    keep_sessions = int(need(need(inp, "supervise", "start"), "keep_sessions", "start"))
    t0 = time.time()
    launcher = None
    launcher_warning = None
    if policy == "always":
        spec = {"argv": argv, "env": env, "role": role, "temp_dir": temp, "log_path": log_path,
                "timeout_sec": timeout, "keep_sessions": keep_sessions,
                "keep_dead_worker_logs": int(need(inp["supervise"], "keep_dead_worker_logs", "start")),
                "grace_sec": float(need(inp, "grace_sec", "start"))}
        rc, full, ray_start_ms, launcher, launcher_warning = start_supervised(cluster, storage, spec, caller)
        out_tail = tail_text(log_path, 40)
        auth_rejected = "Invalid authentication token" in (full or "")
        if rc != 0:
            raise _start_failed(rc, full, auth_rejected, timeout, role, args, inp, ray)
        return _started(inp, cluster, storage, role, args, ray, argv, temp, auth, token, ray_start_ms, out_tail,
                        launcher, launcher_warning, env["PATH"])
    prune_sessions(temp, keep_sessions)
    with open(log_path, "wb") as lf:
        lf.write(("$ %s\n" % " ".join(argv)).encode())
        lf.flush()
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT, env=env,
                                 cwd=storage, start_new_session=True)
        except OSError as e:
            raise Fail("cannot run %s: %s" % (argv[0], e.strerror))
        pidfd = pidfd_of(p)
        try:
            rc, auth_rejected = _watch_ray_start(p, pidfd, role, log_path, caller, cluster, storage, t0, timeout)
        finally:
            if pidfd is not None:
                os.close(pidfd)
    ray_start_ms = int((time.time() - t0) * 1000)  # Ray's own part of this call, for the timeline
    out_tail = tail_text(log_path, 40)
    if rc != 0:
        extra = fresh_ray_logs(temp, t0)
        full = out_tail + ("\n" + extra if extra else "")
        # do not leave half-started processes behind
        stop_cluster(cluster, storage, CLEANUP_GRACE_SEC)
        raise _start_failed(rc, full, auth_rejected, timeout, role, args, inp, ray)
    return _started(inp, cluster, storage, role, args, ray, argv, temp, auth, token, ray_start_ms, out_tail,
                    None, None, env["PATH"])


def _start_failed(rc, full, auth_rejected, timeout, role, args, inp, ray):
    """The Fail of a `ray start` that exited with `rc` (None: not within `timeout`), Ray's output `full`."""
    if auth_rejected:
        error, hint = explain_failure("Invalid authentication token", role, args, inp.get("head_address"))
    elif rc is None:
        error, hint = "ray start did not return within %ds" % timeout, None
    else:
        error, hint = explain_failure(full, role, args, inp.get("head_address"))
    return Fail(error, hint, log_tail=strip_ansi(full)[-8000:], ray_version=ray["version"])


def _started(inp, cluster, storage, role, args, ray, argv, temp, auth, token, ray_start_ms, out_tail, launcher,
             launcher_warning, path):
    """The state files of a started node and the start's answer."""
    node_id = read_node_id(temp)
    runtime = {"temp_dir": temp, "role": role, "ray_version": ray["version"], "python": ray["python"],
               "python_version": ray["python_version"], "node_id": node_id, "auth": auth,
               "started_at": int(time.time()), "mark": cluster_mark(cluster, storage),
               "dashboard_port": head_port(args, "dashboard_port") if role == "head" else None,
               "dashboard_host": dashboard_host(args, auth == "token") if role == "head" else None,
               "gcs_port": head_port(args, "gcs_port") if role == "head" else None,
               "argv": argv[argv.index("start"):], "path": path}  # after the `ray` command, whichever it was
    write_json_atomic(os.path.join(state_dir(storage), "runtime.json"), runtime)
    write_json_atomic(os.path.join(state_dir(storage), "applied.json"), inp.get("applied") or {})
    out = {"ok": True, "ray_version": ray["version"], "python_version": ray["python_version"],
           "node_id": node_id, "auth": auth, "temp_dir": temp, "ray_start_ms": ray_start_ms,
           "log_tail": strip_ansi(out_tail)[-4000:]}
    if role == "head" and token:
        out["auth_token"] = token
    out["launcher"] = launcher
    if launcher_warning:
        out["warning"] = launcher_warning
    return out


def verb_stop(inp):
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    # supervision first: nothing may start Ray again behind this stop
    removed = stop_supervisor(cluster, storage, remove=True)
    res = stop_cluster(cluster, storage, float(need(inp, "grace_sec", "stop")))
    out = {"ok": res["remaining"] == 0, "was_running": res["was_running"], "killed": res["killed"],
           "remaining": res["remaining"], "supervision_removed": removed}
    clear = inp.get("clear_gcs_state")
    if clear is not None and not res["remaining"]:
        # the head is gone: the cluster's tables in Redis would be what its next head recovers
        applied = read_json_file(os.path.join(state_dir(storage), "applied.json"))
        state = clear_gcs_state(applied, storage, float(need(clear, "timeout_sec", "stop")))
        if state is not None:
            out["gcs_state"] = state
    if res["remaining"]:
        out["error"] = "%d process(es) of cluster %s survived SIGKILL: pids %s" % (
            res["remaining"], cluster, res["remaining_pids"])
        out["hint"] = "they may belong to another user; check with: ps -o user,pid,cmd -p %s" % ",".join(
            str(p) for p in res["remaining_pids"])
    return out


# ---- usage.py ----
# `status` with `usage` (head): what the cluster is doing, as Ray's own `ray status` shows it: used /
# total of each resource, in total and per node, and the demand waiting for resources. One HTTP call
# to the dashboard's /api/cluster_status: the report Ray's autoscaler monitor keeps in the GCS
# (refreshed every ~5 s), the same one `ray status` prints.

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


# ---- status.py ----
# `status`: what runs on the node and, on the head, its view of the cluster (the dashboard's
# state API, else ray.nodes() in a child), waited on while a start settles.
import os
import time


def dashboard_base(runtime, port):
    """The URL the head's own tools reach its dashboard at: where `start` bound it (runtime.json's
    dashboard_host), loopback when it listens on every interface or the head predates that field."""
    host = str((runtime or {}).get("dashboard_host") or "")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return "http://%s:%d" % ("[%s]" % host if ":" in host else host, int(port))


def _http_nodes(base, token, timeout=5.0):
    import urllib.request

    url = "%s/api/v0/nodes?detail=true&limit=10000&timeout=%d" % (base, max(1, int(timeout)))
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = json.loads(r.read().decode())
    if not body.get("result", True) and body.get("msg"):
        raise RuntimeError(body.get("msg"))
    data = body.get("data", {}).get("result", {})
    rows = data.get("result", data) if isinstance(data, dict) else data
    out = []
    for n in rows:
        labels = n.get("labels") or {}
        out.append({"node_id": n.get("node_id"), "node_ip": n.get("node_ip"),
                    "alive": n.get("state") == "ALIVE", "is_head": bool(n.get("is_head_node")),
                    "name": labels.get("nokube.io/node"), "resources": n.get("resources_total") or {},
                    "labels": labels, "state_message": n.get("state_message")})
    return out


def view_key(nodes):
    """A short digest of the alive nodes as the engine reads them (IDs, names, resources, labels)."""
    alive = sorted(json.dumps(n, sort_keys=True) for n in nodes if n.get("alive"))
    return _digest("\n".join(alive))[:16]


MAX_WAIT_MS = 10000


def _http_nodes_changed(base, token, wait):
    """(the dashboard's node table, its view_key). With `wait` ({key, ms}): looked at here every
    100 ms until the alive nodes differ from `key` (a view_key the caller holds) or `ms` pass, and
    the last table (or the dashboard's error) is the answer: one call while a start settles, instead
    of one SSH exec and one Python per look (each of those costs the starting head's CPU)."""
    if not isinstance(wait, dict):
        wait = {"key": None, "ms": 0}  # no wait asked for: one look
    wait_ms = int(need(wait, "ms", "status wait"))
    deadline = time.time() + min(max(wait_ms, 0), MAX_WAIT_MS) / 1000.0
    while True:
        try:
            nodes = _http_nodes(base, token)
            key = view_key(nodes)
            if key != wait.get("key") or time.time() >= deadline:
                return nodes, key
        except Exception:
            if time.time() >= deadline:
                raise
        time.sleep(0.1)


def _python_nodes(python, gcs_address, token_path, timeout=60.0):
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    if token_path and os.path.exists(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    p = subprocess.run([python, "-c", _NODES_SNIPPET, gcs_address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=env, timeout=timeout)
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_NODES="):
            return json.loads(line[len("NOKUBE_NODES="):])
    raise RuntimeError("ray.nodes() failed: %s" % p.stderr.decode(errors="replace").strip()[-500:])


def cluster_usage(base, token, nodes):
    """`usage` asked: used / total and pending demand (usage.py), the resource names taken from the view."""
    names = set()
    for n in nodes or []:
        names.update((n.get("resources") or {}).keys())
    return http_usage(base, token, sorted(names))


def verb_status(inp, pids=None):
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    sd = state_dir(storage)
    if pids is None:
        pids = cluster_pids(cluster, storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    out = {"ok": True, "running": bool(pids), "applied": read_json_file(os.path.join(sd, "applied.json"))}
    # The raylet is the node: without it the node is gone at once, while the head notices only
    # after Ray's health-check window (and leftover agents still count as "running").
    out["raylet"] = any(_comm(pid) == "raylet" for pid in pids)
    out["supervision"] = supervision_report(cluster, storage)
    if out["supervision"] and inp.get("seen_by"):
        out["supervision"]["new_restarts"] = restarts_seen(storage, str(inp["seen_by"]), out["supervision"])
    if pids and runtime:
        out["ray_version"] = runtime.get("ray_version")
        out["python_version"] = runtime.get("python_version")
        out["node_id"] = runtime.get("node_id") or read_node_id(runtime.get("temp_dir") or temp_dir_for(cluster, storage))
        out["auth"] = runtime.get("auth")
    else:
        ray, pyinfo, err = find_ray(inp.get("python"))
        out["ray_version"] = ray["version"] if ray else None
        out["python_version"] = ray["python_version"] if ray else pyinfo.get("version")
    role = inp.get("role") or runtime.get("role")
    if pids and role == "head":
        dport, gport = int(need(inp, "dashboard_port", "status")), int(need(inp, "gcs_port", "status"))
        token_path = os.path.join(sd, "auth_token")
        token = read_token(token_path) if runtime.get("auth") == "token" else None
        try:
            out["cluster"], out["view_key"] = _http_nodes_changed(dashboard_base(runtime, dport), token,
                                                                   inp.get("wait"))
            out["cluster_source"] = "dashboard"
            if inp.get("usage"):
                out["usage"] = cluster_usage(dashboard_base(runtime, dport), token, out["cluster"])
        except Exception as e:  # dashboard down or still starting
            if inp.get("fallback") is False:
                # the caller polls again shortly: `import ray` in a child (seconds of CPU while Ray's
                # own daemons are starting) would only slow down the start it is waiting for
                out["cluster"] = None
                out["cluster_error"] = "the dashboard at %s does not answer yet: %s" % (dashboard_base(runtime, dport), e)
                return out
            log("dashboard API at %s failed (%s); falling back to ray.nodes()" % (dashboard_base(runtime, dport), e))
            try:
                python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
                out["cluster"] = _python_nodes(python, "127.0.0.1:%d" % gport,
                                               token_path if token else None)
                out["cluster_source"] = "ray.nodes"
                if inp.get("usage"):
                    out["usage"] = {"known": False, "why": "the dashboard does not answer: %s" % e}
            except Exception as e2:
                out["cluster"] = None
                out["cluster_error"] = "cannot read the cluster view: dashboard: %s; ray.nodes(): %s" % (e, e2)
    return out


# ---- drain.py ----
# `drain` (head): one node drained through Ray's GCS, then watched until it has left.
import os
import time


def _running_tasks(base, token, node_id, timeout=5.0):
    """Tasks the state API lists as RUNNING on one node (None when it cannot tell)."""
    import urllib.request

    q = ("filter_keys=node_id&filter_predicates=%3D&filter_values={0}"
         "&filter_keys=state&filter_predicates=%3D&filter_values=RUNNING").format(node_id)
    url = "%s/api/v0/tasks?limit=10000&detail=false&timeout=%d&%s" % (base, int(timeout), q)
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.loads(r.read().decode())
        data = body.get("data", {}).get("result", {})
        rows = data.get("result", data) if isinstance(data, dict) else data
        return len(rows)
    except Exception as e:
        log("task count on %s failed: %s" % (node_id, e))
        return None


def verb_drain(inp):
    """Head: drains one node through the GCS (Ray's DrainNode, as `ray drain-node` sends it), then
    waits until the node has left the cluster (its raylet exits once idle) or the deadline passes."""
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    sd = state_dir(storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    node_id = str(inp.get("node_id") or "")
    if not re.match(r"^[0-9a-f]{8,}$", node_id):
        raise Fail("drain needs the node's hex id, got %r" % node_id)
    deadline_sec = max(0.0, float(need(inp, "deadline_sec", "drain")))
    dport = int(need(inp, "dashboard_port", "drain"))
    gport = int(need(inp, "gcs_port", "drain"))
    token_path = os.path.join(sd, "auth_token")
    token = read_token(token_path) if runtime.get("auth") == "token" else None
    python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
    if not python:
        raise Fail("no Ray found on the head to send the drain request with")
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env["RAY_AUTH_MODE"] = "token" if token else "disabled"
    if token:
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    t0 = time.time()
    deadline_ms = int((t0 + deadline_sec) * 1000)
    p = subprocess.run([python, "-c", _DRAIN_SNIPPET, "127.0.0.1:%d" % gport, node_id, str(deadline_ms)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, timeout=120)
    answer = None
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_DRAIN="):
            answer = json.loads(line[len("NOKUBE_DRAIN="):])
    if answer is None:
        raise Fail("the drain request failed: %s" % p.stderr.decode(errors="replace").strip()[-500:])
    if not answer["accepted"]:
        return {"ok": True, "accepted": False, "message": answer["message"], "drained": False,
                "waited_ms": int((time.time() - t0) * 1000)}
    end = t0 + deadline_sec
    drained = False
    while True:
        try:
            view = [n for n in _http_nodes(dashboard_base(runtime, dport), token) if n.get("node_id") == node_id]
        except Exception as e:  # the dashboard is busy: look again
            log("node view failed: %s" % e)
            view = None
        if view is not None and not any(n.get("alive") for n in view):
            drained = True
            break
        if time.time() >= end:
            break
        time.sleep(0.25)
    out = {"ok": True, "accepted": True, "drained": drained, "waited_ms": int((time.time() - t0) * 1000)}
    if not drained:
        out["running_tasks"] = _running_tasks(dashboard_base(runtime, dport), token, node_id)
    return out


# ---- gpus.py ----
# The node's NVIDIA GPUs, for `init`'s first look (probe with "gpus": true): nvidia-smi when it is
# there (name and memory), else the driver's /proc/driver/nvidia/gpus (name only), else none.
import os


def _from_nvidia_smi(exe):
    try:
        p = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    gpus = []
    for line in p.stdout.decode(errors="replace").splitlines():
        name, _, mib = line.rpartition(",")
        if not name.strip():
            continue
        gpu = {"name": name.strip()}
        if mib.strip().isdigit():
            gpu["memory_bytes"] = int(mib.strip()) * 1024 * 1024
        gpus.append(gpu)
    return gpus


def _from_proc(root="/proc/driver/nvidia/gpus"):
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    gpus = []
    for entry in entries:
        text = _read(os.path.join(root, entry, "information")) or ""
        name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Model:")), "")
        gpus.append({"name": name or "NVIDIA GPU"})
    return gpus


def gpu_report(proc_root="/proc/driver/nvidia/gpus"):
    """{"gpus": [{name, memory_bytes?}], "source": "nvidia-smi" | "/proc/driver/nvidia" | None}"""
    exe = which("nvidia-smi")
    if exe:
        gpus = _from_nvidia_smi(exe)
        if gpus is not None:
            return {"gpus": gpus, "source": "nvidia-smi"}
    gpus = _from_proc(proc_root)
    return {"gpus": gpus, "source": "/proc/driver/nvidia" if gpus else None}


# ---- probe.py ----
# `probe`: the first look at a node (storage, Python, Ray, ports, what runs), with the
# deploy lock and the head's view in the same call when asked.
import os


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


# ---- packages.py ----
# The cluster's packages (ray_spec.install.requirements / packages) in an interpreter: what is
# installed of them (missing, another version, shadowed by another copy earlier on sys.path), Ray's
# own dependencies (what Ray's processes import) and the requirements that conflict with Ray's pins;
# `imports` (status --deep): a job that imports them on every alive node.
import os


# Run by the environment's interpreter (stdin: {"requirements": [{name, version}], "extras": [...]}).
# packaging comes from the environment, else from pip's vendored copy; without either, no pin is checked.
_PACKAGES_SNIPPET = r"""
import json, re, sys
import importlib.metadata as md
try:
    from packaging.requirements import Requirement
    from packaging.version import Version
except Exception:
    try:
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    except Exception:
        Requirement = None


def norm(n):
    return re.sub(r"[-_.]+", "-", n or "").lower()


inp = json.loads(sys.stdin.read())
copies, seen = {}, set()
for entry in sys.path:
    if not entry:
        continue
    try:
        found = list(md.distributions(path=[entry]))
    except Exception:
        continue
    for d in found:
        try:
            name = norm(d.metadata["Name"])
            where = str(d._path) if hasattr(d, "_path") else entry
        except Exception:
            continue
        if where in seen:
            continue
        seen.add(where)
        copies.setdefault(name, []).append({"version": d.version, "location": entry})

# Ray's own dependencies (with the extras asked for), transitively, and the pins they carry
closure, pins, todo = set(), {}, [("ray", set(inp.get("extras") or []))]
while todo and Requirement is not None:
    name, extras = todo.pop()
    if (name, tuple(sorted(extras))) in closure:
        continue
    closure.add((name, tuple(sorted(extras))))
    try:
        reqs = md.requires(name) or []
    except Exception:
        continue
    for r in reqs:
        try:
            req = Requirement(r)
        except Exception:
            continue
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (list(extras) or [""])):
            continue
        n = norm(req.name)
        if str(req.specifier):
            pins.setdefault(n, []).append({"spec": str(req.specifier), "by": name})
        todo.append((n, set(req.extras)))
ray_deps = sorted({n for n, _ in closure} - {"ray"})

conflicts = []
for r in inp.get("requirements") or []:
    n, want = norm(r["name"]), r.get("version")
    if not want or Requirement is None:
        continue
    for pin in pins.get(n, []):
        try:
            ok = Requirement("x" + pin["spec"]).specifier.contains(Version(want), prereleases=True)
        except Exception:
            continue
        if not ok:
            conflicts.append({"name": r["name"], "version": want, "ray_needs": pin["spec"], "by": pin["by"]})
print(json.dumps({"copies": {norm(r["name"]): copies.get(norm(r["name"]), []) for r in inp.get("requirements") or []},
                  "ray_deps": ray_deps, "pins_checked": Requirement is not None, "conflicts": conflicts}))
"""


def environment_packages(python, requirements, extras):
    """{copies, ray_deps, conflicts, pins_checked} of `python`'s environment (see _PACKAGES_SNIPPET)."""
    try:
        p = subprocess.run([python, "-c", _PACKAGES_SNIPPET], input=json.dumps(
            {"requirements": requirements, "extras": extras}).encode(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Fail("cannot list the packages of %s: %s" % (python, getattr(e, "strerror", None) or e))
    if p.returncode != 0:
        raise Fail("listing the packages of %s failed: %s" % (python, p.stderr.decode(errors="replace").strip()[-500:]))
    return json.loads(p.stdout.decode())


def norm_name(n):
    out, dash = [], False
    for ch in (n or "").lower():
        if ch in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(ch)
    return "".join(out)


def package_drift(requirements, found):
    """Each requirement not as wanted: {name, want, have, state: missing|version|shadowed, locations}."""
    drift = []
    for r in requirements:
        copies = found["copies"].get(norm_name(r["name"])) or []
        want = r.get("version")
        if not copies:
            drift.append({"name": r["name"], "want": want, "have": None, "state": "missing"})
            continue
        active = copies[0]
        if want and active["version"] != want:
            drift.append({"name": r["name"], "want": want, "have": active["version"], "state": "version",
                          "locations": [c["location"] for c in copies]})
        elif len({c["version"] for c in copies}) > 1:
            # another copy of it later on sys.path: harmless here, but a sign the environment is mixed
            drift.append({"name": r["name"], "want": want, "have": active["version"], "state": "shadowed",
                          "locations": ["%s (%s)" % (c["location"], c["version"]) for c in copies]})
    return drift


def uv_on_node(python):
    """The `uv` beside the interpreter or on PATH, or None."""
    return which("uv", path=os.pathsep.join([os.path.dirname(python or ""), os.environ.get("PATH", "")]))


def verb_packages(inp):
    """The cluster's packages in the node's Ray environment: drift, conflicts with Ray's pins,
    whether nokube manages that environment (a venv under the storage path) and the installer there."""
    ray, _, err = find_ray(inp.get("python"))
    if not ray:
        return {"ok": True, "ray": False, "error_detail": err}
    requirements = [r for r in (inp.get("requirements") or []) if isinstance(r, dict) and r.get("name")]
    found = environment_packages(ray["python"], requirements, [str(e) for e in inp.get("extras") or []])
    venvs = os.path.join(storage_path(inp), "venvs") + os.sep
    return {"ok": True, "ray": True, "python": ray["python"], "ray_version": ray["version"],
            "managed": os.path.abspath(ray["python"]).startswith(venvs),
            "drift": package_drift(requirements, found), "conflicts": found["conflicts"],
            "pins_checked": found["pins_checked"], "ray_deps": found["ray_deps"],
            "uv": uv_on_node(ray["python"])}


# Run by Ray's interpreter on the head (argv: GCS address, requirements as JSON): one task pinned to
# every alive node imports each package and reports its version and what failed.
_IMPORTS_SNIPPET = r"""
import json, sys, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
reqs = json.loads(sys.argv[2])
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)


@ray.remote(num_cpus=0)
def check(reqs):
    import importlib, sys
    import importlib.metadata as md
    problems = []
    for r in reqs:
        try:
            v = md.version(r["name"])
        except Exception:
            problems.append("%s not installed" % r["name"])
            continue
        if r.get("version") and v != r["version"]:
            problems.append("%s %s (wanted %s)" % (r["name"], v, r["version"]))
            continue
        try:
            top = md.distribution(r["name"]).read_text("top_level.txt") or ""
        except Exception:
            top = ""
        for m in [m for m in top.split() if not m.startswith("_")] or [r["name"].replace("-", "_").lower()]:
            try:
                importlib.import_module(m)
            except Exception as e:
                problems.append("import %s: %s: %s" % (m, type(e).__name__, e))
    return {"python": sys.executable, "problems": problems}


nodes = [n for n in ray.nodes() if n["Alive"]]
refs = [check.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(reqs)
        for n in nodes]
out = []
for n, res in zip(nodes, ray.get(refs, timeout=float(sys.argv[3]))):
    res.update({"name": (n.get("Labels") or {}).get("nokube.io/node"), "node_ip": n.get("NodeManagerAddress")})
    out.append(res)
print("NOKUBE_IMPORTS=" + json.dumps(out))
"""


def verb_imports(inp):
    """Head: a Ray job of one task on every alive node that imports the cluster's packages."""
    storage = storage_path(inp)
    runtime = read_json_file(os.path.join(state_dir(storage), "runtime.json")) or {}
    python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
    if not python:
        raise Fail("Ray not found on the head")
    timeout = float(need(inp, "timeout_sec", "imports"))
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.update(activated_env(python, env.get("PATH")))
    token_path = os.path.join(state_dir(storage), "auth_token")
    if runtime.get("auth") == "token" and os.path.exists(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    address = "127.0.0.1:%d" % int(need(inp, "gcs_port", "imports"))
    reqs = [{"name": r.get("name"), "version": r.get("version")} for r in inp.get("requirements") or []]
    try:
        p = subprocess.run([python, "-c", _IMPORTS_SNIPPET, address, json.dumps(reqs), str(timeout)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                           timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        raise Fail("the import check did not finish within %ds" % (timeout + 60))
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_IMPORTS="):
            return {"ok": True, "nodes": json.loads(line[len("NOKUBE_IMPORTS="):])}
    raise Fail("the import check failed: %s" % p.stderr.decode(errors="replace").strip()[-800:])


# ---- install.py ----
# `install`: ray[<extras>]==<version> into a venv under the storage path; a failed install
# leaves the node's previous Ray untouched.
import os
import time


VENV_DONE = ".nokube-installed"  # written last: a venv without it is a failed or interrupted install


def venv_dir(storage, ray_version):
    return os.path.join(storage, "venvs", "ray-" + ray_version)


def installed_python(storage, ray_version):
    """The interpreter of a complete tool-installed venv for this Ray version, else None."""
    d = venv_dir(storage, ray_version)
    py = os.path.join(d, "bin", "python")
    return py if os.path.isfile(os.path.join(d, VENV_DONE)) and os.access(py, os.X_OK) else None


INSTALLER_TIMEOUT_SEC = 30  # one HTTP request of the installer: an unreachable index fails in seconds, not minutes


def index_args(index_url, find_links, trust_flag="--trusted-host"):
    """The package sources, and nothing else: with find_links and no index_url, --no-index (an offline
    site's installer must not wait out the public index for every package)."""
    argv = []
    if index_url:
        argv += ["--index-url", index_url]
    elif find_links:
        argv.append("--no-index")
    if find_links:
        argv += ["--find-links", find_links]
    # pip ignores a plain-http index or links page unless its host is trusted
    for url in (index_url, find_links):
        m = re.match(r"^http://(\[[^\]]+\]|[^/:]+)", url or "")  # [IPv6] first: its colons are no port
        if m and m.group(1) not in argv:
            argv += [trust_flag, m.group(1)]
    return argv


def ray_requirement(ray_version, extras):
    return "ray[%s]==%s" % (",".join(extras), ray_version) if extras else "ray==%s" % ray_version


def pip_command(python, ray_version, extras, index_url=None, find_links=None, requirements_file=None, hashes=False):
    # with hashes pip checks every package it installs: Ray's line comes from the file (pip-compile's output)
    reqs = [] if hashes else [ray_requirement(ray_version, extras)]
    argv = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"] + reqs
    if requirements_file:
        argv += ["-r", requirements_file]
    return argv + index_args(index_url, find_links)


def uv_command(uv, python, ray_version, extras, index_url=None, find_links=None, requirements_file=None,
               hashes=False):
    reqs = [] if hashes else [ray_requirement(ray_version, extras)]
    argv = [uv, "pip", "install", "--python", python] + reqs
    if requirements_file:
        argv += ["-r", requirements_file]
    if hashes:
        argv.append("--require-hashes")
    return argv + index_args(index_url, find_links, "--allow-insecure-host")


def _missing_package(tail):
    """The package an installer could not find, from its output."""
    for pat in (r"No matching distribution found for (\S+)", r"Because (\S+?) was not found in the (?:package registry|provided package locations)",
                r"Because there is no version of (\S+?)(?:==\S+)? and ",
                r"Because only \S+ is available and (\S+?) depends", r"Could not find a version that satisfies the requirement (\S+)"):
        m = re.search(pat, tail)
        if m:
            return m.group(1).rstrip(",.")
    return None


def _conflict(tail):
    """pip's or uv's words for requirements that cannot all hold (a pin against Ray's), or None."""
    m = re.search(r"The conflict is caused by:[ \t]*\n((?:[ \t]+.+\n?)+)", tail)
    if m:
        return "; ".join(ln.strip() for ln in m.group(1).splitlines() if ln.strip())[:600]
    m = re.search(r"No solution found when resolving dependencies:\s*\n(.+?)(?:\n\n|$)", tail, re.S)
    if m:
        return " ".join(ln.strip(" ╰─▶│") for ln in m.group(1).splitlines() if ln.strip())[:600]
    return None


class TimedOut(str):
    """_run_logged's answer when the command outlived its time (the text says the bound)."""


def _run_logged(argv, shown, logf, timeout, env=None, bound=None):
    """Exit code, or a text naming the timeout (a TimedOut: `bound`, the whole install's seconds,
    when given, since `timeout` is what was left of it) or the OS error."""
    logf.write(("$ %s\n" % shown).encode())
    logf.flush()
    try:
        p = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=max(1.0, timeout), env=env)
        return p.returncode
    except subprocess.TimeoutExpired:
        logf.write(b"\n(killed: the install's time, ray_spec.install.timeout, ran out)\n")
        logf.flush()
        return TimedOut("did not finish in time: stopped after %d s, the bound of one node's install "
                        "(ray_spec.install.timeout)" % round(bound if bound is not None else timeout))
    except OSError as e:
        return e.strerror


def _installer(d, inp, logf, deadline, env):
    """('uv', path) when the node has uv, or it can be had from the same sources into the venv; else
    ('pip', None). ray_spec.install.installer: pip skips uv."""
    if inp.get("installer") == "pip":
        return "pip", None
    py = os.path.join(d, "bin", "python")
    uv = uv_on_node(py)
    if uv:
        return "uv", uv
    argv = [py, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--retries", "1",
            "--timeout", str(INSTALLER_TIMEOUT_SEC), "uv"] + index_args(inp.get("index_url"), inp.get("find_links"))
    rc = _run_logged(argv, " ".join(argv), logf, min(300.0, deadline - time.time()), env)
    uv = os.path.join(d, "bin", "uv")
    if rc == 0 and os.access(uv, os.X_OK):
        return "uv", uv
    logf.write(b"(no uv from these sources: installing with pip)\n")
    return "pip", None


def verb_install(inp):
    """Installs ray[<extras>]==<ray_version> and the cluster's requirements into
    <storage>/venvs/ray-<version>, made from `base_python`, with uv where it can be had, else pip.
    A failed first install removes its half-made venv; a failed update of a venv leaves it as it was
    (the installer resolves and downloads everything before it changes a file): whatever Ray the node
    had before stays as it was, and a running Ray is never touched."""
    storage = storage_path(inp)
    version = str(inp.get("ray_version") or "")
    if not re.match(r"^[0-9][A-Za-z0-9.+-]*$", version):
        raise Fail("install needs a Ray version, got %r" % version)
    extras = [str(e) for e in (inp.get("extras") or [])]
    requirements = [r for r in (inp.get("requirements") or []) if isinstance(r, dict) and r.get("name")]
    done = installed_python(storage, version)
    before = []
    if done:
        if not requirements:
            return {"ok": True, "installed": False, "python": done}
        found = environment_packages(done, requirements, extras)
        before = [x for x in package_drift(requirements, found) if x["state"] != "shadowed"]  # reinstalling fixes no shadow
        if not before:
            return {"ok": True, "installed": False, "python": done}
    writable, err = storage_check(storage)
    if not writable:
        raise Fail(err)
    d = venv_dir(storage, version)
    py = os.path.join(d, "bin", "python")
    steps = []
    if not done:
        base = str(need(inp, "base_python", "install"))
        exe = base if os.sep in base else which(base)
        if not exe:
            raise Fail("python interpreter %r not found on PATH" % base, "install python3, or set ray_spec.python")
        shutil.rmtree(d, ignore_errors=True)  # an earlier failed attempt
        os.makedirs(os.path.dirname(d), exist_ok=True)
        steps.append(([exe, "-m", "venv", d], "%s -m venv %s" % (exe, d)))
    log_path = os.path.join(storage, "logs", "install-ray-%s.log" % version)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    req_file = None
    if requirements:
        req_file = os.path.join(storage, "logs", "requirements-ray-%s.txt" % version)
        with open(req_file, "w") as f:
            f.write("".join(str(r.get("line") or r["name"]) + "\n" for r in requirements))
    hashes = any("--hash" in str(r.get("line") or "") for r in requirements)
    timeout = float(need(inp, "timeout_sec", "install"))
    env = dict(os.environ, PIP_DEFAULT_TIMEOUT=str(INSTALLER_TIMEOUT_SEC), PIP_RETRIES="1", UV_HTTP_TIMEOUT=str(INSTALLER_TIMEOUT_SEC),
               UV_LINK_MODE="copy", UV_NO_PROGRESS="1", UV_CACHE_DIR=os.path.join(storage, "cache", "uv"))
    t0 = time.time()
    deadline = t0 + timeout
    installer = "pip"

    def failed(rc, shown, what):
        if not done:
            shutil.rmtree(d, ignore_errors=True)
        tail = strip_ansi(tail_text(log_path, lines=15))
        hint = "read the whole output in %s" % log_path
        if isinstance(rc, TimedOut):
            error = "%s %s" % (what, rc)
        else:
            error = "%s failed (%s)" % (what, "exit %s" % rc if isinstance(rc, int) else rc)
        missing = _missing_package(strip_ansi(tail_text(log_path, lines=60)))
        conflict = _conflict(strip_ansi(tail_text(log_path, lines=60)))
        if isinstance(rc, TimedOut):
            sources = inp.get("find_links") or inp.get("index_url")
            hint = ("check that the node reaches %s and that it answers, or raise ray_spec.install.timeout; %s"
                    % (sources, hint) if sources else "raise ray_spec.install.timeout; " + hint)
        elif what == "making the venv":
            hint = "the node's Python cannot make a virtual environment: install python3-venv (Debian/Ubuntu: apt-get install python3-venv); " + hint
        elif "No space left" in tail:
            hint = "the disk holding %s is full: free space there; %s" % (storage, hint)
        elif conflict:
            error += ": the requirements conflict with each other or with Ray's own pins: %s" % conflict
            hint = "change the named pins in ray_spec.install (requirements, packages) to versions Ray accepts; " + hint
        elif missing:
            error += ": %s is not in the package sources" % missing
            hint = "add %s to %s, or fix its name or version; %s" % (
                missing, inp.get("find_links") or inp.get("index_url") or "the package index", hint)
        return {"ok": False, "error": error, "hint": hint, "command": shown, "log_tail": tail, "installed": False,
                "package": missing, "installer": installer}

    with open(log_path, "wb") as logf:
        for argv, shown in steps:
            rc = _run_logged(argv, shown, logf, deadline - time.time(), bound=timeout)
            if rc != 0:
                return failed(rc, shown, "making the venv")
        installer, uv = _installer(d, inp, logf, deadline, env)
        if uv:
            argv = uv_command(uv, py, version, extras, inp.get("index_url"), inp.get("find_links"), req_file, hashes)
        else:
            argv = pip_command(py, version, extras, inp.get("index_url"), inp.get("find_links"), req_file, hashes)
        rc = _run_logged(argv, " ".join(argv), logf, deadline - time.time(), env, bound=timeout)
        if rc != 0:
            return failed(rc, " ".join(argv), "uv pip install" if uv else "pip install")
    info = interpreter_info(py)
    if info.get("ray_version") != version:
        if not done:
            shutil.rmtree(d, ignore_errors=True)
        raise Fail("%s finished but Ray %s is not importable from %s (found %s)" % (installer, version, d,
                                                                                   info.get("ray_version")))
    after = [x for x in package_drift(requirements, environment_packages(py, requirements, extras))
             if x["state"] != "shadowed"] if requirements else []
    if after:
        raise Fail("%s finished but %s not as required in %s" % (
            installer, ", ".join("%s (%s, wanted %s)" % (x["name"], x["have"] or "missing", x["want"] or "any")
                                 for x in after), d), "read the installer's output in %s" % log_path)
    with open(os.path.join(d, VENV_DONE), "w") as f:
        f.write(json.dumps({"ray_version": version, "extras": extras, "at": time.time()}))
    return {"ok": True, "installed": True, "python": py, "install_ms": int((time.time() - t0) * 1000),
            "installer": installer, "changed": before}


# ---- environment.py ----
# The node's Ray environment (`ray_env`) and a command run in it (`run`, which replaces
# itself with the command).
import os
import sys


RUN_FAILED = 125  # `run` could not start the command (like env(1)); stderr has RUN_ERROR_PREFIX + JSON
RUN_ERROR_PREFIX = "nokube-remote-error: "


def ray_environment(inp):
    """What a command needs to run "in the node's Ray environment": env additions and facts.

    The interpreter is the one `start` ran Ray with (state/runtime.json) while the cluster runs, else
    the one find_ray picks (ray_spec.python, this interpreter, `ray` on PATH)."""
    cluster = cluster_name(inp)
    storage = storage_path(inp)
    sd = state_dir(storage)
    runtime = read_json_file(os.path.join(sd, "runtime.json")) or {}
    running = bool(cluster_pids(cluster, storage))
    python = runtime.get("python") if running else None
    ray_version = runtime.get("ray_version") if running else None
    if not python or not os.path.exists(python):
        ray, pyinfo, err = find_ray(inp.get("python"))
        if not ray:
            raise Fail("Ray not found on this node: %s" % err,
                       "install ray (pip install 'ray[default]') or set ray_spec.python")
        python, ray_version = ray["python"], ray["version"]
    bin_dir = os.path.dirname(python)
    env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
           "RAY_USAGE_STATS_ENABLED": "0"}
    # a venv's interpreter is <venv>/bin/python: say so, as `activate` would
    if os.path.isfile(os.path.join(os.path.dirname(bin_dir), "pyvenv.cfg")):
        env["VIRTUAL_ENV"] = os.path.dirname(bin_dir)
    token_path = os.path.join(sd, "auth_token")
    auth = runtime.get("auth") or ("token" if os.path.exists(token_path) else "none")
    if auth == "token" and os.path.exists(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    else:
        auth = "none"
    if inp.get("ray_address"):
        env["RAY_ADDRESS"] = str(inp["ray_address"])
    return {"python": python, "bin_dir": bin_dir, "ray_version": ray_version, "auth": auth,
            "token_path": token_path if auth == "token" else None, "running": running, "env": env,
            "dashboard_port": runtime.get("dashboard_port"), "gcs_port": runtime.get("gcs_port"),
            "dashboard_host": runtime.get("dashboard_host") if running else None, "storage": storage}


def verb_ray_env(inp):
    e = ray_environment(inp)
    out = {"ok": True}
    out.update(e)
    if inp.get("with_token") and e["token_path"]:
        out["auth_token"] = read_token(e["token_path"])
    return out


def verb_run(inp):
    """Replaces itself with `argv` in the node's Ray environment; its output and exit status are the
    command's. When it cannot start the command: exit RUN_FAILED, stderr RUN_ERROR_PREFIX + JSON."""
    argv = inp.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise Fail("'argv' must be a non-empty list of strings")
    e = ray_environment(inp)
    env = dict(os.environ)
    env.pop("RAY_AUTH_TOKEN", None)
    env.update(e["env"])
    cwd = inp.get("cwd")
    if cwd:
        try:
            os.chdir(os.path.expanduser(cwd))
        except OSError as err:
            raise Fail("cannot enter %s: %s" % (cwd, err.strerror))
    exe = argv[0] if os.sep in argv[0] else which(argv[0], path=env["PATH"])
    if not exe:
        raise Fail("command not found on this node: %s (PATH=%s)" % (argv[0], env["PATH"]), exit_code=127)
    sys.stdout.flush()
    try:
        os.execve(exe, argv, env)
    except OSError as err:
        raise Fail("cannot run %s: %s" % (exe, err.strerror), exit_code=126)


# ---- jobs.py ----
# `job` (head): Ray jobs through the head's dashboard (list, status, logs, stop), and a
# submit that streams Ray's own client's events.
import os
import sys
import time


# Ray 2.60 refuses a working_dir package (the zip it uploads to the GCS) of this size or more
# (ray._private.runtime_env.packaging.GCS_STORAGE_MAX_SIZE, RAY_max_grpc_message_size).
RAY_PACKAGE_MAX_BYTES = 512 * 1024 * 1024
TERMINAL_JOB_STATES = ("SUCCEEDED", "FAILED", "STOPPED")


def _dashboard_request(inp, method, path, body=None, timeout=30.0):
    """(status, parsed JSON or text) of the head's dashboard (the job REST API), token supplied."""
    import urllib.error
    import urllib.request

    e = ray_environment(inp)
    if not e["running"]:
        raise Fail("Ray of cluster %s is not running on the head" % cluster_name(inp),
                   "start it: nokube ray start --config <file>", cluster_down=True)
    port = int(need(inp, "dashboard_port", "job"))
    base = dashboard_base(e, port)
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    token = read_token(e["token_path"]) if e["token_path"] else None
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read().decode(errors="replace")
    except OSError as err:
        raise Fail("the head's dashboard at %s does not answer: %s" % (base, getattr(err, "reason", err)),
                   "check `nokube ray status`; the dashboard log is ray/session_latest/logs/dashboard.log "
                   "under the head's storage")
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def job_record(d):
    """Ray's JobDetails reduced to what the CLI prints: {job_id, status, message, start_time, end_time, ...}."""
    return {"job_id": d.get("submission_id") or d.get("job_id"), "status": d.get("status"),
            "message": d.get("message"), "start_time": d.get("start_time"), "end_time": d.get("end_time"),
            "entrypoint": d.get("entrypoint"), "error_type": d.get("error_type"),
            "driver_node_id": (d.get("driver_info") or {}).get("node_id")}


def _not_found(job_id):
    return Fail("no job %s on this cluster" % job_id, "list the jobs: nokube ray job list --config <file>",
                not_found=True)


def _job_id(inp):
    job_id = inp.get("job_id")
    if not isinstance(job_id, str) or not re.match(r"^[A-Za-z0-9._:-]{1,200}$", job_id):
        raise Fail("invalid job id %r" % (job_id,), "job ids look like raysubmit_XXXXXXXXXXXXXXXX")
    return job_id


def _job_get(inp, job_id):
    status, body = _dashboard_request(inp, "GET", "/api/jobs/%s" % job_id)
    if status == 404:
        raise _not_found(job_id)
    if status != 200 or not isinstance(body, dict):
        raise Fail("the dashboard answered %s for job %s: %s" % (status, job_id, str(body)[:500]))
    return job_record(body)


def _log_tail(text, lines=20):
    return "\n".join((text or "").rstrip("\n").split("\n")[-lines:])


def _job_logs(inp, job_id):
    status, body = _dashboard_request(inp, "GET", "/api/jobs/%s/logs" % job_id)
    if status == 404:
        raise _not_found(job_id)
    if status != 200 or not isinstance(body, dict):
        raise Fail("the dashboard answered %s for the logs of job %s: %s" % (status, job_id, str(body)[:500]))
    return body.get("logs") or ""


def unpack_working_dir(archive, dest):
    """Extracts the uploaded .tar.gz of a working dir into a new private directory (0700): regular
    files and directories only (a link, even one pointing inside, could be followed by a later member
    or by the job: refused), no `..` or absolute names, no owner kept and modes masked (0755/0644).
    Each file is created new (O_EXCL|O_NOFOLLOW), so nothing is written through a planted path."""
    import tarfile

    parent = os.path.dirname(dest)
    os.makedirs(parent, 0o700, exist_ok=True)
    os.mkdir(dest, 0o700)
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf:
            parts = [p for p in m.name.split("/") if p not in ("", ".")]
            if m.name.startswith("/") or ".." in parts:
                raise Fail("refusing working-dir archive member outside the directory: %s" % m.name)
            if not (m.isfile() or m.isdir()):
                raise Fail("refusing working-dir archive member %s: only files and directories are unpacked "
                           "(a link or a device is not)" % m.name)
            if not parts:
                continue
            target = os.path.join(dest, *parts)
            # every directory on the way was made here (lstat: a directory, never a symlink)
            here = dest
            for part in parts[:-1] if m.isfile() else parts:
                here = os.path.join(here, part)
                try:
                    os.mkdir(here, 0o700)
                except FileExistsError:
                    if not os.path.isdir(here) or os.path.islink(here):
                        raise Fail("refusing working-dir archive member %s: %s is not a directory" % (m.name, here))
            if m.isdir():
                continue
            src = tf.extractfile(m)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, (m.mode & 0o755) | 0o600)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest


def _job_submit(inp):
    entrypoint = inp.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise Fail("'entrypoint' must be a non-empty shell command")
    e = ray_environment(inp)
    if not e["running"]:
        raise Fail("Ray of cluster %s is not running on the head" % cluster_name(inp),
                   "start it: nokube ray start --config <file>", cluster_down=True)
    tail = int(need(inp, "tail", "job"))  # before anything is submitted
    port = int(need(inp, "dashboard_port", "job"))
    runtime_env = dict(inp.get("runtime_env") or {})
    env_vars = dict(runtime_env.get("env_vars") or {})
    # `python` in the entrypoint (and in tasks) is the interpreter that runs Ray: Ray expands ${PATH}
    env_vars.setdefault("PATH", e["bin_dir"] + ":${PATH}")
    runtime_env["env_vars"] = env_vars
    cleanup = None
    if inp.get("archive"):
        dest = os.path.join(e["storage"], "jobs", "upload-%d-%d" % (int(time.time() * 1000), os.getpid()))
        try:
            runtime_env["working_dir"] = unpack_working_dir(inp["archive"], dest)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        finally:
            try:
                os.unlink(inp["archive"])
            except OSError:
                pass
        cleanup = dest
    child_in = {"address": dashboard_base(e, port), "entrypoint": entrypoint, "runtime_env": runtime_env,
                "submission_id": inp.get("submission_id"), "metadata": inp.get("metadata"),
                "follow": bool(inp.get("follow")), "cleanup": cleanup}
    env = dict(os.environ)
    env.pop("RAY_AUTH_TOKEN", None)
    env.pop("RAY_ADDRESS", None)
    env.update(e["env"])
    p = subprocess.Popen([e["python"], "-c", _JOB_SUBMIT_SNIPPET], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=e["storage"])
    p.stdin.write((json.dumps(child_in) + "\n").encode())
    p.stdin.close()
    result = None
    job_id = None
    for raw in p.stdout:
        try:
            ev = json.loads(raw.decode(errors="replace"))
        except ValueError:
            continue
        if "result" in ev:
            result = ev["result"]
            continue
        if ev.get("event") == "submitted":
            job_id = ev.get("job_id")
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()
    err = p.stderr.read().decode(errors="replace")
    p.wait()
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)
    if result is None:
        raise Fail("submitting the job failed (exit %s): %s" % (p.returncode, _log_tail(strip_ansi(err), 8)))
    if not result.get("ok"):
        raise Fail(result.get("error"), _package_hint(result.get("error") or ""), rejected=True)
    out = {"ok": True, "job": _job_get(inp, job_id)}
    if out["job"]["status"] in ("FAILED", "STOPPED"):
        out["log_tail"] = _log_tail(_job_logs(inp, job_id), tail)
    return out


def _package_hint(error):
    if "exceeds the maximum size" in error:
        return ("Ray uploads the working dir as one zip of less than %d MiB: leave large files out with "
                ".gitignore / .rayignore in it or runtime_env excludes, or give a remote URI "
                "(s3://, https://...) as working_dir" % (RAY_PACKAGE_MAX_BYTES // (1024 * 1024)))
    return None


def verb_job(inp):
    """Ray jobs through the head's dashboard: action submit | status | logs | stop | list."""
    action = inp.get("action")
    if action == "submit":
        return _job_submit(inp)
    if action == "list":
        status, body = _dashboard_request(inp, "GET", "/api/jobs/")
        if status != 200 or not isinstance(body, list):
            raise Fail("the dashboard answered %s for the job list: %s" % (status, str(body)[:500]))
        jobs = [job_record(d) for d in body]
        jobs.sort(key=lambda j: j.get("start_time") or 0)
        return {"ok": True, "jobs": jobs}
    job_id = _job_id(inp)
    if action == "status":
        out = {"ok": True, "job": _job_get(inp, job_id)}
        if inp.get("tail") and out["job"]["status"] in ("FAILED", "STOPPED"):
            out["log_tail"] = _log_tail(_job_logs(inp, job_id), int(inp.get("tail")))
        return out
    if action == "logs":
        return {"ok": True, "logs": _job_logs(inp, job_id)}
    if action == "stop":
        job = _job_get(inp, job_id)
        if job["status"] in TERMINAL_JOB_STATES:
            return {"ok": True, "stopped": False, "job": job}
        status, body = _dashboard_request(inp, "POST", "/api/jobs/%s/stop" % job_id)
        if status != 200:
            raise Fail("the dashboard answered %s to stopping job %s: %s" % (status, job_id, str(body)[:500]))
        deadline = time.time() + float(need(inp, "wait_sec", "job stop"))
        while time.time() < deadline:
            job = _job_get(inp, job_id)
            if job["status"] in TERMINAL_JOB_STATES:
                break
            time.sleep(0.3)
        return {"ok": True, "stopped": True, "job": job}
    raise Fail("unknown job action %r: expected submit, status, logs, stop or list" % (action,))


# ---- logs.py ----
# `logs`: this node's logs packed into one bounded archive the engine fetches over SFTP.
import os
import time


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


# ---- network.py ----
# The network between the nodes. Before Ray starts: `listen` holds a node's ports open for a moment
# and `reach` connects to other nodes' ports (TCP connect, nothing sent). On a running cluster:
# `net_check`, run on the head, moves an object between nodes with a small Ray program.
import errno
import os
import struct
import sys
import time


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


# ---- dispatch.py ----
# The verbs by name and main(): the JSON in, the verb, the JSON answer out.
import sys
import time


VERBS = {"probe": verb_probe, "start": verb_start, "status": verb_status, "stop": verb_stop, "drain": verb_drain,
         "install": verb_install, "lock": verb_lock, "unlock": verb_unlock, "run": verb_run, "ray_env": verb_ray_env,
         "job": verb_job, "logs": verb_logs, "packages": verb_packages,
         "imports": verb_imports, "listen": verb_listen, "reach": verb_reach, "net_check": verb_net_check,
         "supervise": verb_supervise}
# run by the node itself (a systemd unit, an @reboot line), with arguments instead of a JSON request
SUPERVISE_COMMANDS = ("supervise-run", "supervise-start")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUPERVISE_COMMANDS:
        return main_supervise(argv[0], argv[1:])
    if len(argv) != 1 or argv[0] not in VERBS:
        print("usage: nokube_remote.py {%s} < input.json" % "|".join(sorted(VERBS)), file=sys.stderr)
        return 2
    raw = sys.stdin.read()
    try:
        inp = loads(raw) if raw.strip() else {}
        if not isinstance(inp, dict):
            raise ValueError("input must be a JSON object")
    except ValueError as e:
        out = {"ok": False, "error": "invalid JSON input: %s" % e}
    else:
        t0 = time.time()
        try:
            if inp.get("ray_venv") and argv[0] != "install":
                # ray_spec.install: a complete tool-installed venv of that Ray version is the node's Ray
                venv_python = installed_python(storage_path(inp), str(inp["ray_venv"]))
                if venv_python:
                    inp["python"] = venv_python
            out = VERBS[argv[0]](inp)
        except Fail as e:
            out = {"ok": False, "error": e.error}
            if e.hint:
                out["hint"] = e.hint
            out.update(e.extra)
        out["elapsed_ms"] = int((time.time() - t0) * 1000)
    out["lib_version"] = LIB_VERSION
    if argv[0] == "run":
        # only reached when the command could not be started: stdout belongs to the command
        sys.stderr.write(RUN_ERROR_PREFIX + dumps(out) + "\n")
        sys.stderr.flush()
        return RUN_FAILED
    sys.stdout.write(dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
