# `start` and `stop`: the `ray start` argv (flags as in src/config/ray-keys.ts), ports and
# the head checked first, the token, `ray start` watched to its exit, failures explained.
import os
import time

from .protocol import Fail, json, log, need, re, secrets, select, socket, subprocess
from .node import fresh_ray_logs, strip_ansi, tail_text
from .storage import (
    cluster_mark,
    cluster_name,
    MARK_ENV,
    own_temp_dir,
    read_json_file,
    read_token,
    state_dir,
    storage_check,
    storage_path,
    temp_dir_for,
    write_json_atomic,
    write_token,
)
from .processes import CLEANUP_GRACE_SEC, cluster_pids, listening_ports, stop_cluster
from .ray_found import activated_env, find_ray, ray_cmd, supports_token_auth, version_tuple
from .lock import _Guard
from .gcs_redis import clear_gcs_state, gcs_start_pieces
from .supervise import prune_sessions, read_node_id, start_supervised, stop_supervisor


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
