# The cluster's packages (ray_spec.install.requirements / packages) in an interpreter: what is
# installed of them (missing, another version, shadowed by another copy earlier on sys.path), Ray's
# own dependencies (what Ray's processes import) and the requirements that conflict with Ray's pins;
# `imports` (status --deep): a job that imports them on every alive node.
import os

from .protocol import Fail, json, need, subprocess
from .node import which
from .storage import read_json_file, state_dir, storage_path
from .ray_found import activated_env, find_ray


# Run by the environment's interpreter (stdin: {"requirements": [{name, version}], "extras": [...]}).
# packaging comes from the environment, else from pip's vendored copy; without either, no pin is checked.
_PACKAGES_SNIPPET = r"""
import json, re, sys
import importlib.metadata as md
try:
    from packaging.requirements import Requirement
    from packaging.version import Version
except Exception:
    try:
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    except Exception:
        Requirement = None


def norm(n):
    return re.sub(r"[-_.]+", "-", n or "").lower()


inp = json.loads(sys.stdin.read())
copies, seen = {}, set()
for entry in sys.path:
    if not entry:
        continue
    try:
        found = list(md.distributions(path=[entry]))
    except Exception:
        continue
    for d in found:
        try:
            name = norm(d.metadata["Name"])
            where = str(d._path) if hasattr(d, "_path") else entry
        except Exception:
            continue
        if where in seen:
            continue
        seen.add(where)
        copies.setdefault(name, []).append({"version": d.version, "location": entry})

# Ray's own dependencies (with the extras asked for), transitively, and the pins they carry
closure, pins, todo = set(), {}, [("ray", set(inp.get("extras") or []))]
while todo and Requirement is not None:
    name, extras = todo.pop()
    if (name, tuple(sorted(extras))) in closure:
        continue
    closure.add((name, tuple(sorted(extras))))
    try:
        reqs = md.requires(name) or []
    except Exception:
        continue
    for r in reqs:
        try:
            req = Requirement(r)
        except Exception:
            continue
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (list(extras) or [""])):
            continue
        n = norm(req.name)
        if str(req.specifier):
            pins.setdefault(n, []).append({"spec": str(req.specifier), "by": name})
        todo.append((n, set(req.extras)))
ray_deps = sorted({n for n, _ in closure} - {"ray"})

conflicts = []
for r in inp.get("requirements") or []:
    n, want = norm(r["name"]), r.get("version")
    if not want or Requirement is None:
        continue
    for pin in pins.get(n, []):
        try:
            ok = Requirement("x" + pin["spec"]).specifier.contains(Version(want), prereleases=True)
        except Exception:
            continue
        if not ok:
            conflicts.append({"name": r["name"], "version": want, "ray_needs": pin["spec"], "by": pin["by"]})
print(json.dumps({"copies": {norm(r["name"]): copies.get(norm(r["name"]), []) for r in inp.get("requirements") or []},
                  "ray_deps": ray_deps, "pins_checked": Requirement is not None, "conflicts": conflicts}))
"""


def environment_packages(python, requirements, extras):
    """{copies, ray_deps, conflicts, pins_checked} of `python`'s environment (see _PACKAGES_SNIPPET)."""
    try:
        p = subprocess.run([python, "-c", _PACKAGES_SNIPPET], input=json.dumps(
            {"requirements": requirements, "extras": extras}).encode(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Fail("cannot list the packages of %s: %s" % (python, getattr(e, "strerror", None) or e))
    if p.returncode != 0:
        raise Fail("listing the packages of %s failed: %s" % (python, p.stderr.decode(errors="replace").strip()[-500:]))
    return json.loads(p.stdout.decode())


def norm_name(n):
    out, dash = [], False
    for ch in (n or "").lower():
        if ch in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(ch)
    return "".join(out)


def package_drift(requirements, found):
    """Each requirement not as wanted: {name, want, have, state: missing|version|shadowed, locations}."""
    drift = []
    for r in requirements:
        copies = found["copies"].get(norm_name(r["name"])) or []
        want = r.get("version")
        if not copies:
            drift.append({"name": r["name"], "want": want, "have": None, "state": "missing"})
            continue
        active = copies[0]
        if want and active["version"] != want:
            drift.append({"name": r["name"], "want": want, "have": active["version"], "state": "version",
                          "locations": [c["location"] for c in copies]})
        elif len({c["version"] for c in copies}) > 1:
            # another copy of it later on sys.path: harmless here, but a sign the environment is mixed
            drift.append({"name": r["name"], "want": want, "have": active["version"], "state": "shadowed",
                          "locations": ["%s (%s)" % (c["location"], c["version"]) for c in copies]})
    return drift


def uv_on_node(python):
    """The `uv` beside the interpreter or on PATH, or None."""
    return which("uv", path=os.pathsep.join([os.path.dirname(python or ""), os.environ.get("PATH", "")]))


def verb_packages(inp):
    """The cluster's packages in the node's Ray environment: drift, conflicts with Ray's pins,
    whether nokube manages that environment (a venv under the storage path) and the installer there."""
    ray, _, err = find_ray(inp.get("python"))
    if not ray:
        return {"ok": True, "ray": False, "error_detail": err}
    requirements = [r for r in (inp.get("requirements") or []) if isinstance(r, dict) and r.get("name")]
    found = environment_packages(ray["python"], requirements, [str(e) for e in inp.get("extras") or []])
    venvs = os.path.join(storage_path(inp), "venvs") + os.sep
    return {"ok": True, "ray": True, "python": ray["python"], "ray_version": ray["version"],
            "managed": os.path.abspath(ray["python"]).startswith(venvs),
            "drift": package_drift(requirements, found), "conflicts": found["conflicts"],
            "pins_checked": found["pins_checked"], "ray_deps": found["ray_deps"],
            "uv": uv_on_node(ray["python"])}


# Run by Ray's interpreter on the head (argv: GCS address, requirements as JSON): one task pinned to
# every alive node imports each package and reports its version and what failed.
_IMPORTS_SNIPPET = r"""
import json, sys, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
reqs = json.loads(sys.argv[2])
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)


@ray.remote(num_cpus=0)
def check(reqs):
    import importlib, sys
    import importlib.metadata as md
    problems = []
    for r in reqs:
        try:
            v = md.version(r["name"])
        except Exception:
            problems.append("%s not installed" % r["name"])
            continue
        if r.get("version") and v != r["version"]:
            problems.append("%s %s (wanted %s)" % (r["name"], v, r["version"]))
            continue
        try:
            top = md.distribution(r["name"]).read_text("top_level.txt") or ""
        except Exception:
            top = ""
        for m in [m for m in top.split() if not m.startswith("_")] or [r["name"].replace("-", "_").lower()]:
            try:
                importlib.import_module(m)
            except Exception as e:
                problems.append("import %s: %s: %s" % (m, type(e).__name__, e))
    return {"python": sys.executable, "problems": problems}


nodes = [n for n in ray.nodes() if n["Alive"]]
refs = [check.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(reqs)
        for n in nodes]
out = []
for n, res in zip(nodes, ray.get(refs, timeout=float(sys.argv[3]))):
    res.update({"name": (n.get("Labels") or {}).get("nokube.io/node"), "node_ip": n.get("NodeManagerAddress")})
    out.append(res)
print("NOKUBE_IMPORTS=" + json.dumps(out))
"""


def verb_imports(inp):
    """Head: a Ray job of one task on every alive node that imports the cluster's packages."""
    storage = storage_path(inp)
    runtime = read_json_file(os.path.join(state_dir(storage), "runtime.json")) or {}
    python = runtime.get("python") or (find_ray(inp.get("python"))[0] or {}).get("python")
    if not python:
        raise Fail("Ray not found on the head")
    timeout = float(need(inp, "timeout_sec", "imports"))
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    env.update(activated_env(python, env.get("PATH")))
    token_path = os.path.join(state_dir(storage), "auth_token")
    if runtime.get("auth") == "token" and os.path.exists(token_path):
        env["RAY_AUTH_MODE"] = "token"
        env["RAY_AUTH_TOKEN_PATH"] = token_path
    address = "127.0.0.1:%d" % int(need(inp, "gcs_port", "imports"))
    reqs = [{"name": r.get("name"), "version": r.get("version")} for r in inp.get("requirements") or []]
    try:
        p = subprocess.run([python, "-c", _IMPORTS_SNIPPET, address, json.dumps(reqs), str(timeout)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                           timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        raise Fail("the import check did not finish within %ds" % (timeout + 60))
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.startswith("NOKUBE_IMPORTS="):
            return {"ok": True, "nodes": json.loads(line[len("NOKUBE_IMPORTS="):])}
    raise Fail("the import check failed: %s" % p.stderr.decode(errors="replace").strip()[-800:])
