# Where the cluster's files live on the node: the storage path and its safety, the state
# files (written atomically, never through a symlink), the token, Ray's temp dir and its mark.
import os

from .protocol import Fail, json, loads
from .node import current_user, _read, _user_name


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
