# `install`: ray[<extras>]==<version> into a venv under the storage path; a failed install
# leaves the node's previous Ray untouched.
import os
import time

from .protocol import Fail, json, need, re, shutil, subprocess
from .node import strip_ansi, tail_text, which
from .storage import storage_check, storage_path
from .ray_found import interpreter_info


VENV_DONE = ".nokube-installed"  # written last: a venv without it is a failed or interrupted install


def venv_dir(storage, ray_version):
    return os.path.join(storage, "venvs", "ray-" + ray_version)


def installed_python(storage, ray_version):
    """The interpreter of a complete tool-installed venv for this Ray version, else None."""
    d = venv_dir(storage, ray_version)
    py = os.path.join(d, "bin", "python")
    return py if os.path.isfile(os.path.join(d, VENV_DONE)) and os.access(py, os.X_OK) else None


def pip_command(python, ray_version, extras, index_url=None, find_links=None):
    req = "ray[%s]==%s" % (",".join(extras), ray_version) if extras else "ray==%s" % ray_version
    argv = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", req]
    if index_url:
        argv += ["--index-url", index_url]
    if find_links:
        argv += ["--find-links", find_links]
    # pip ignores a plain-http index or links page unless its host is trusted
    for url in (index_url, find_links):
        m = re.match(r"^http://(\[[^\]]+\]|[^/:]+)", url or "")  # [IPv6] first: its colons are no port
        if m and m.group(1) not in argv:
            argv += ["--trusted-host", m.group(1)]
    return argv


def verb_install(inp):
    """Installs ray[<extras>]==<ray_version> into <storage>/venvs/ray-<version>, made from `base_python`.
    A failed install removes its half-made venv: whatever Ray the node had before stays as it was."""
    storage = storage_path(inp)
    version = str(inp.get("ray_version") or "")
    if not re.match(r"^[0-9][A-Za-z0-9.+-]*$", version):
        raise Fail("install needs a Ray version, got %r" % version)
    extras = [str(e) for e in (inp.get("extras") or [])]
    done = installed_python(storage, version)
    if done:
        return {"ok": True, "installed": False, "python": done}
    writable, err = storage_check(storage)
    if not writable:
        raise Fail(err)
    base = str(need(inp, "base_python", "install"))
    exe = base if os.sep in base else which(base)
    if not exe:
        raise Fail("python interpreter %r not found on PATH" % base, "install python3, or set ray_spec.python")
    d = venv_dir(storage, version)
    shutil.rmtree(d, ignore_errors=True)  # an earlier failed attempt
    os.makedirs(os.path.dirname(d), exist_ok=True)
    log_path = os.path.join(storage, "logs", "install-ray-%s.log" % version)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    timeout = float(need(inp, "timeout_sec", "install"))
    pip = pip_command(os.path.join(d, "bin", "python"), version, extras, inp.get("index_url"), inp.get("find_links"))
    steps = [([exe, "-m", "venv", d], "%s -m venv %s" % (exe, d)), (pip, " ".join(pip))]
    t0 = time.time()
    with open(log_path, "wb") as logf:
        for argv, shown in steps:
            logf.write(("$ %s\n" % shown).encode())
            logf.flush()
            try:
                p = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   timeout=max(1.0, timeout - (time.time() - t0)))
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = "timeout after %ds" % timeout
            except OSError as e:
                rc = e.strerror
            if rc != 0:
                shutil.rmtree(d, ignore_errors=True)
                tail = strip_ansi(tail_text(log_path, lines=15))
                hint = "read the whole output in %s" % log_path
                if argv[1:3] == ["-m", "venv"]:
                    hint = "the node's Python cannot make a virtual environment: install python3-venv (Debian/Ubuntu: apt-get install python3-venv); " + hint
                elif "No space left" in tail:
                    hint = "the disk holding %s is full: free space there; %s" % (storage, hint)
                return {"ok": False, "error": "%s failed (%s)" % ("making the venv" if argv is not pip else "pip install",
                                                                  "exit %s" % rc if isinstance(rc, int) else rc),
                        "hint": hint, "command": shown, "log_tail": tail, "installed": False}
    info = interpreter_info(os.path.join(d, "bin", "python"))
    if info.get("ray_version") != version:
        shutil.rmtree(d, ignore_errors=True)
        raise Fail("pip finished but Ray %s is not importable from %s (found %s)" % (version, d, info.get("ray_version")))
    with open(os.path.join(d, VENV_DONE), "w") as f:
        f.write(json.dumps({"ray_version": version, "extras": extras, "at": time.time()}))
    return {"ok": True, "installed": True, "python": os.path.join(d, "bin", "python"),
            "install_ms": int((time.time() - t0) * 1000)}
