# Finding Ray and its interpreter without importing ray (`import ray` costs ~1 s): the
# configured python, this one, the `ray` on PATH; what that Ray supports.
import os
import sys

from .protocol import Fail, json, subprocess
from .node import _shebang, which
from .ray_programs import _INFO_PRINT, _INFO_SNIPPET


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
