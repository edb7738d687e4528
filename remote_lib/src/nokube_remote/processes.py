# Which processes are this cluster's (never by a substring of "ray"), stopping them in
# Ray's order, and the TCP ports listened on (and by whom).
import os
import time

from .protocol import log, signal
from .node import _read
from .storage import cluster_mark, MARK_ENV, temp_dir_for


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
