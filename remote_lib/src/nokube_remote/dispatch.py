# The verbs by name and main(): the JSON in, the verb, the JSON answer out.
import sys
import time

from .protocol import dumps, Fail, LIB_VERSION, loads
from .storage import storage_path
from .lock import verb_lock, verb_unlock
from .start_stop import verb_start, verb_stop
from .status import verb_status
from .drain import verb_drain
from .probe import verb_probe
from .install import installed_python, verb_install
from .environment import RUN_ERROR_PREFIX, RUN_FAILED, verb_ray_env, verb_run
from .jobs import verb_job
from .logs import verb_logs
from .supervise import main_supervise, verb_supervise


VERBS = {"probe": verb_probe, "start": verb_start, "status": verb_status, "stop": verb_stop, "drain": verb_drain,
         "install": verb_install, "lock": verb_lock, "unlock": verb_unlock, "run": verb_run, "ray_env": verb_ray_env,
         "job": verb_job, "logs": verb_logs, "supervise": verb_supervise}
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
