# The node's Ray environment (`ray_env`) and a command run in it (`run`, which replaces
# itself with the command).
import os
import sys

from .protocol import Fail
from .node import which
from .storage import cluster_name, read_json_file, read_token, state_dir, storage_path
from .processes import cluster_pids
from .ray_found import find_ray


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
