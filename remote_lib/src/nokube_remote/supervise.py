# The node's supervisor (`supervise-run`): runs `ray start` from the spec `start` stored, becomes the
# parent of every Ray daemon (a child subreaper), and when one dies records why, stops the rest of
# this cluster and starts Ray again after a backoff; a crash loop is given up after MAX_TRIES.
# `start` (re)starts it through a launcher (launchers.py) and waits on its state file; `stop`
# removes it first. Its state file (state/supervisor.json) is what `status` reports.
import os
import sys
import time

from .protocol import Fail, json, log, re, signal, subprocess
from .node import _comm, _read, fresh_ray_logs, strip_ansi, tail_text
from .storage import (
    cluster_name,
    own_temp_dir,
    read_json_file,
    state_dir,
    storage_path,
    temp_dir_for,
    write_file_atomic,
    write_json_atomic,
)
from .lock import _boot_id
from .worker_logs import prune_worker_logs
from .processes import CLEANUP_GRACE_SEC, cluster_pids, pid_alive, stop_cluster
from .launchers import (
    _systemctl,
    cron_line,
    crontab_set,
    detect_launcher,
    systemd_install_start,
    systemd_remove,
    unit_name,
    unit_path,
)


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
