# `job` (head): Ray jobs through the head's dashboard (list, status, logs, stop), and a
# submit that streams Ray's own client's events.
import os
import sys
import time

from .protocol import Fail, json, need, re, shutil, subprocess
from .node import strip_ansi
from .storage import cluster_name, read_token
from .ray_programs import _JOB_SUBMIT_SNIPPET
from .status import dashboard_base
from .environment import ray_environment


# Ray 2.60 refuses a working_dir package (the zip it uploads to the GCS) of this size or more
# (ray._private.runtime_env.packaging.GCS_STORAGE_MAX_SIZE, RAY_max_grpc_message_size).
RAY_PACKAGE_MAX_BYTES = 512 * 1024 * 1024
TERMINAL_JOB_STATES = ("SUCCEEDED", "FAILED", "STOPPED")


def _dashboard_request(inp, method, path, body=None, timeout=30.0):
    """(status, parsed JSON or text) of the head's dashboard (the job REST API), token supplied."""
    import urllib.error
    import urllib.request

    e = ray_environment(inp)
    if not e["running"]:
        raise Fail("Ray of cluster %s is not running on the head" % cluster_name(inp),
                   "start it: nokube ray start --config <file>", cluster_down=True)
    port = int(need(inp, "dashboard_port", "job"))
    base = dashboard_base(e, port)
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    token = read_token(e["token_path"]) if e["token_path"] else None
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read().decode(errors="replace")
    except OSError as err:
        raise Fail("the head's dashboard at %s does not answer: %s" % (base, getattr(err, "reason", err)),
                   "check `nokube ray status`; the dashboard log is ray/session_latest/logs/dashboard.log "
                   "under the head's storage")
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def job_record(d):
    """Ray's JobDetails reduced to what the CLI prints: {job_id, status, message, start_time, end_time, ...}."""
    return {"job_id": d.get("submission_id") or d.get("job_id"), "status": d.get("status"),
            "message": d.get("message"), "start_time": d.get("start_time"), "end_time": d.get("end_time"),
            "entrypoint": d.get("entrypoint"), "error_type": d.get("error_type"),
            "driver_node_id": (d.get("driver_info") or {}).get("node_id")}


def _not_found(job_id):
    return Fail("no job %s on this cluster" % job_id, "list the jobs: nokube ray job list --config <file>",
                not_found=True)


def _job_id(inp):
    job_id = inp.get("job_id")
    if not isinstance(job_id, str) or not re.match(r"^[A-Za-z0-9._:-]{1,200}$", job_id):
        raise Fail("invalid job id %r" % (job_id,), "job ids look like raysubmit_XXXXXXXXXXXXXXXX")
    return job_id


def _job_get(inp, job_id):
    status, body = _dashboard_request(inp, "GET", "/api/jobs/%s" % job_id)
    if status == 404:
        raise _not_found(job_id)
    if status != 200 or not isinstance(body, dict):
        raise Fail("the dashboard answered %s for job %s: %s" % (status, job_id, str(body)[:500]))
    return job_record(body)


def _log_tail(text, lines=20):
    return "\n".join((text or "").rstrip("\n").split("\n")[-lines:])


def _job_logs(inp, job_id):
    status, body = _dashboard_request(inp, "GET", "/api/jobs/%s/logs" % job_id)
    if status == 404:
        raise _not_found(job_id)
    if status != 200 or not isinstance(body, dict):
        raise Fail("the dashboard answered %s for the logs of job %s: %s" % (status, job_id, str(body)[:500]))
    return body.get("logs") or ""


def unpack_working_dir(archive, dest):
    """Extracts the uploaded .tar.gz of a working dir into a new private directory (0700): regular
    files and directories only (a link, even one pointing inside, could be followed by a later member
    or by the job: refused), no `..` or absolute names, no owner kept and modes masked (0755/0644).
    Each file is created new (O_EXCL|O_NOFOLLOW), so nothing is written through a planted path."""
    import tarfile

    parent = os.path.dirname(dest)
    os.makedirs(parent, 0o700, exist_ok=True)
    os.mkdir(dest, 0o700)
    with tarfile.open(archive, "r:gz") as tf:
        for m in tf:
            parts = [p for p in m.name.split("/") if p not in ("", ".")]
            if m.name.startswith("/") or ".." in parts:
                raise Fail("refusing working-dir archive member outside the directory: %s" % m.name)
            if not (m.isfile() or m.isdir()):
                raise Fail("refusing working-dir archive member %s: only files and directories are unpacked "
                           "(a link or a device is not)" % m.name)
            if not parts:
                continue
            target = os.path.join(dest, *parts)
            # every directory on the way was made here (lstat: a directory, never a symlink)
            here = dest
            for part in parts[:-1] if m.isfile() else parts:
                here = os.path.join(here, part)
                try:
                    os.mkdir(here, 0o700)
                except FileExistsError:
                    if not os.path.isdir(here) or os.path.islink(here):
                        raise Fail("refusing working-dir archive member %s: %s is not a directory" % (m.name, here))
            if m.isdir():
                continue
            src = tf.extractfile(m)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, (m.mode & 0o755) | 0o600)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest


def _job_submit(inp):
    entrypoint = inp.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint.strip():
        raise Fail("'entrypoint' must be a non-empty shell command")
    e = ray_environment(inp)
    if not e["running"]:
        raise Fail("Ray of cluster %s is not running on the head" % cluster_name(inp),
                   "start it: nokube ray start --config <file>", cluster_down=True)
    tail = int(need(inp, "tail", "job"))  # before anything is submitted
    port = int(need(inp, "dashboard_port", "job"))
    runtime_env = dict(inp.get("runtime_env") or {})
    env_vars = dict(runtime_env.get("env_vars") or {})
    # `python` in the entrypoint (and in tasks) is the interpreter that runs Ray: Ray expands ${PATH}
    env_vars.setdefault("PATH", e["bin_dir"] + ":${PATH}")
    runtime_env["env_vars"] = env_vars
    cleanup = None
    if inp.get("archive"):
        dest = os.path.join(e["storage"], "jobs", "upload-%d-%d" % (int(time.time() * 1000), os.getpid()))
        try:
            runtime_env["working_dir"] = unpack_working_dir(inp["archive"], dest)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        finally:
            try:
                os.unlink(inp["archive"])
            except OSError:
                pass
        cleanup = dest
    child_in = {"address": dashboard_base(e, port), "entrypoint": entrypoint, "runtime_env": runtime_env,
                "submission_id": inp.get("submission_id"), "metadata": inp.get("metadata"),
                "follow": bool(inp.get("follow")), "cleanup": cleanup}
    env = dict(os.environ)
    env.pop("RAY_AUTH_TOKEN", None)
    env.pop("RAY_ADDRESS", None)
    env.update(e["env"])
    p = subprocess.Popen([e["python"], "-c", _JOB_SUBMIT_SNIPPET], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=e["storage"])
    p.stdin.write((json.dumps(child_in) + "\n").encode())
    p.stdin.close()
    result = None
    job_id = None
    for raw in p.stdout:
        try:
            ev = json.loads(raw.decode(errors="replace"))
        except ValueError:
            continue
        if "result" in ev:
            result = ev["result"]
            continue
        if ev.get("event") == "submitted":
            job_id = ev.get("job_id")
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()
    err = p.stderr.read().decode(errors="replace")
    p.wait()
    if cleanup:
        shutil.rmtree(cleanup, ignore_errors=True)
    if result is None:
        raise Fail("submitting the job failed (exit %s): %s" % (p.returncode, _log_tail(strip_ansi(err), 8)))
    if not result.get("ok"):
        raise Fail(result.get("error"), _package_hint(result.get("error") or ""), rejected=True)
    out = {"ok": True, "job": _job_get(inp, job_id)}
    if out["job"]["status"] in ("FAILED", "STOPPED"):
        out["log_tail"] = _log_tail(_job_logs(inp, job_id), tail)
    return out


def _package_hint(error):
    if "exceeds the maximum size" in error:
        return ("Ray uploads the working dir as one zip of less than %d MiB: leave large files out with "
                ".gitignore / .rayignore in it or runtime_env excludes, or give a remote URI "
                "(s3://, https://...) as working_dir" % (RAY_PACKAGE_MAX_BYTES // (1024 * 1024)))
    return None


def verb_job(inp):
    """Ray jobs through the head's dashboard: action submit | status | logs | stop | list."""
    action = inp.get("action")
    if action == "submit":
        return _job_submit(inp)
    if action == "list":
        status, body = _dashboard_request(inp, "GET", "/api/jobs/")
        if status != 200 or not isinstance(body, list):
            raise Fail("the dashboard answered %s for the job list: %s" % (status, str(body)[:500]))
        jobs = [job_record(d) for d in body]
        jobs.sort(key=lambda j: j.get("start_time") or 0)
        return {"ok": True, "jobs": jobs}
    job_id = _job_id(inp)
    if action == "status":
        out = {"ok": True, "job": _job_get(inp, job_id)}
        if inp.get("tail") and out["job"]["status"] in ("FAILED", "STOPPED"):
            out["log_tail"] = _log_tail(_job_logs(inp, job_id), int(inp.get("tail")))
        return out
    if action == "logs":
        return {"ok": True, "logs": _job_logs(inp, job_id)}
    if action == "stop":
        job = _job_get(inp, job_id)
        if job["status"] in TERMINAL_JOB_STATES:
            return {"ok": True, "stopped": False, "job": job}
        status, body = _dashboard_request(inp, "POST", "/api/jobs/%s/stop" % job_id)
        if status != 200:
            raise Fail("the dashboard answered %s to stopping job %s: %s" % (status, job_id, str(body)[:500]))
        deadline = time.time() + float(need(inp, "wait_sec", "job stop"))
        while time.time() < deadline:
            job = _job_get(inp, job_id)
            if job["status"] in TERMINAL_JOB_STATES:
                break
            time.sleep(0.3)
        return {"ok": True, "stopped": True, "job": job}
    raise Fail("unknown job action %r: expected submit, status, logs, stop or list" % (action,))
