# The deploy lock on the head (`lock`, `unlock`): owned by the caller's SSH connection,
# read-modify-write under flock; _Guard is that flock.
import os
import time

from .protocol import Fail, fcntl, need, socket
from .node import _comm, _read
from .storage import cluster_name, ensure_dirs, read_json_file, state_dir, storage_path, write_json_atomic


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
