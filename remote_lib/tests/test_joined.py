"""The uploaded file (remote_lib/nokube_remote.py) is exactly its modules (remote_lib/src/nokube_remote/)
joined: rebuilt here byte for byte, every module's definitions in it as written, and the modules' own
imports honest (each name a module uses is its own, imported from an earlier module, or a builtin)."""
import ast
import builtins
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOURCES = os.path.join(REPO, "remote_lib", "src", "nokube_remote")
JOINED = os.path.join(REPO, "remote_lib", "nokube_remote.py")
MODULES = sorted(f[:-3] for f in os.listdir(SOURCES) if f.endswith(".py") and f != "__init__.py")


def top_level(tree):
    """{name: ast dump} of a module's definitions (functions, classes, assigned names)."""
    out = {}
    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.ClassDef)):
            names = [st.name]
        elif isinstance(st, ast.Assign):
            names = [n.id for t in st.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        else:
            continue
        for n in names:
            assert n not in out, "%s is defined twice" % n
            out[n] = ast.dump(st)
    return out


def parsed(path):
    with open(path) as f:
        return ast.parse(f.read(), path)


def test_the_uploaded_file_is_its_modules_joined_byte_for_byte(tmp_path):
    node = shutil.which("node")
    assert node, "node is needed to join the modules (scripts/join-remote-lib.mjs); it runs `npm run bundle` too"
    out = tmp_path / "nokube_remote.py"
    subprocess.run([node, os.path.join(REPO, "scripts", "join-remote-lib.mjs"), "--out", str(out)], check=True)
    with open(JOINED, "rb") as f:
        committed = f.read()
    assert out.read_bytes() == committed, (
        "remote_lib/nokube_remote.py is not its modules joined: run `npm run bundle` and commit it")


def test_every_module_is_in_the_joined_file_as_written(lib):
    joined = top_level(parsed(JOINED))
    seen = {}
    for mod in MODULES:
        defs = top_level(parsed(os.path.join(SOURCES, mod + ".py")))
        assert defs, "%s.py defines nothing" % mod
        for name, dump in defs.items():
            assert name not in seen, "%s is defined in both %s.py and %s.py" % (name, seen[name], mod)
            seen[name] = mod
            assert joined.get(name) == dump, "%s.%s differs in the joined file (or is missing)" % (mod, name)
            assert hasattr(lib, name), "the loaded library has no %s (from %s.py)" % (name, mod)
    assert set(joined) == set(seen), "the joined file defines what no module does: %s" % (set(joined) - set(seen))
    # the ones each verb's module must give, as a reader looks for them
    for mod, names in {"protocol": ["Fail", "need", "loads", "dumps"], "lock": ["verb_lock", "verb_unlock"],
                       "start_stop": ["verb_start", "verb_stop", "build_start_argv"], "status": ["verb_status"],
                       "probe": ["verb_probe"], "install": ["verb_install"], "jobs": ["verb_job"],
                       "logs": ["verb_logs"], "environment": ["verb_run", "verb_ray_env"], "drain": ["verb_drain"],
                       "supervise": ["verb_supervise", "main_supervise"],
                       "launchers": ["unit_text", "crontab_edit"],
                       "ray_programs": ["_NODES_SNIPPET", "_DRAIN_SNIPPET", "_JOB_SUBMIT_SNIPPET", "_INFO_SNIPPET"],
                       "dispatch": ["VERBS", "main"]}.items():
        for n in names:
            assert seen.get(n) == mod, "%s should be in %s.py, found in %s" % (n, mod, seen.get(n))
    assert sorted(lib.VERBS) == sorted(["probe", "start", "status", "stop", "drain", "install", "lock", "unlock",
                                        "run", "ray_env", "job", "logs", "supervise"])


def test_the_modules_import_as_a_package():
    """Each `from .module import name` resolves (no cycle, no name missing in the module it names)."""
    name = "nokube_remote_sources"
    spec = importlib.util.spec_from_file_location(name, os.path.join(SOURCES, "__init__.py"),
                                                  submodule_search_locations=[SOURCES])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    keep, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ among the sources
    try:
        spec.loader.exec_module(pkg)
        for mod in MODULES:
            importlib.import_module("%s.%s" % (name, mod))
    finally:
        sys.dont_write_bytecode = keep
        for k in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[k]


def bound_names(tree):
    """Every name a module binds anywhere: its definitions, imports, parameters, assignment targets."""
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
    return out


@pytest.mark.parametrize("mod", MODULES)
def test_each_module_imports_what_it_uses(mod):
    """In the joined file every module sees every other's names: this keeps the modules' own imports
    true, so a reader of one module finds where each name comes from."""
    tree = parsed(os.path.join(SOURCES, mod + ".py"))
    known = bound_names(tree) | set(dir(builtins)) | {"__name__", "__file__"}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    assert not used - known, "%s.py uses %s without importing it" % (mod, ", ".join(sorted(used - known)))
