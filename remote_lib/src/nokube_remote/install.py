# `install`: ray[<extras>]==<version> into a venv under the storage path; a failed install
# leaves the node's previous Ray untouched.
import os
import time

from .protocol import Fail, json, need, re, shutil, subprocess
from .node import strip_ansi, tail_text, which
from .storage import storage_check, storage_path
from .ray_found import interpreter_info
from .packages import environment_packages, package_drift, uv_on_node


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
