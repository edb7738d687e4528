"""Unit tests of the verbs that use a running cluster (run, ray_env, job): no Ray needed, a stand-in
`ray` package (a directory with a dist-info) makes find_ray pick this interpreter's environment."""
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest


@pytest.fixture()
def fake_ray(tmp_path):
    site = tmp_path / "site"
    (site / "ray").mkdir(parents=True)
    (site / "ray" / "__init__.py").write_text("")
    (site / "ray-9.9.9.dist-info").mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env.pop("RAY_ADDRESS", None)
    return env


def call(lib_path, verb, inp, env):
    p = subprocess.run([sys.executable, lib_path, verb], input=json.dumps(inp).encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_run_execs_the_words_in_the_ray_environment(lib_path, tmp_path, fake_ray):
    storage = tmp_path / "st"
    (storage / "state").mkdir(parents=True)
    token = storage / "state" / "auth_token"
    token.write_text("t0ken")
    os.chmod(token, 0o600)
    script = 'echo "PATH0=${PATH%%:*}"; echo "ADDR=$RAY_ADDRESS"; echo "MODE=$RAY_AUTH_MODE"; printf "[%s]" "$@"; exit 7'
    code, out, err = call(lib_path, "run", {"cluster": "c", "storage": str(storage), "python": None,
                                            "ray_address": "10.0.0.1:6379",
                                            "argv": ["sh", "-c", script, "sh", "a b", "$HOME", "it's"]}, fake_ray)
    assert code == 7, err
    lines = out.splitlines()
    assert lines[0] == "PATH0=" + os.path.dirname(sys.executable)
    assert lines[1] == "ADDR=10.0.0.1:6379"
    assert lines[2] == "MODE=token"
    assert lines[3] == "[a b][$HOME][it's]"


def test_run_says_why_it_cannot_start(lib_path, tmp_path, fake_ray):
    code, out, err = call(lib_path, "run", {"cluster": "c", "storage": str(tmp_path / "s"),
                                            "argv": ["no-such-command-xyz"]}, fake_ray)
    assert code == 125 and out == ""
    line = [x for x in err.splitlines() if x.startswith("nokube-remote-error: ")][0]
    answer = json.loads(line[len("nokube-remote-error: "):])
    assert answer["ok"] is False and answer["exit_code"] == 127
    assert "command not found on this node: no-such-command-xyz" in answer["error"]
    code, _, err = call(lib_path, "run", {"cluster": "c", "argv": []}, fake_ray)
    assert code == 125 and "'argv' must be a non-empty list of strings" in err


def test_ray_env_reports_interpreter_and_token_only_when_asked(lib_path, tmp_path, fake_ray):
    storage = tmp_path / "st"
    (storage / "state").mkdir(parents=True)
    (storage / "state" / "auth_token").write_text("t0ken\n")
    code, out, _ = call(lib_path, "ray_env", {"cluster": "c", "storage": str(storage)}, fake_ray)
    answer = json.loads(out)
    assert answer["ok"] and answer["running"] is False and answer["auth"] == "token"
    assert answer["bin_dir"] == os.path.dirname(sys.executable) and answer["ray_version"] == "9.9.9"
    assert "auth_token" not in answer
    _, out, _ = call(lib_path, "ray_env", {"cluster": "c", "storage": str(storage), "with_token": True}, fake_ray)
    assert json.loads(out)["auth_token"] == "t0ken"


def test_job_on_a_stopped_cluster_says_so(lib_path, tmp_path, fake_ray):
    for action in ("list", "submit"):
        _, out, _ = call(lib_path, "job", {"cluster": "c", "storage": str(tmp_path / "st"), "action": action,
                                           "entrypoint": "true"}, fake_ray)
        answer = json.loads(out)
        assert answer["ok"] is False and answer["cluster_down"] is True
        assert "Ray of cluster c is not running on the head" in answer["error"]
    _, out, _ = call(lib_path, "job", {"cluster": "c", "action": "status", "job_id": "a b"}, fake_ray)
    assert "invalid job id" in json.loads(out)["error"]


def _archive(tmp_path, members, name="wd.tar.gz"):
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tf:
        for entry in members:
            name, data, kind = entry[:3]
            info = tarfile.TarInfo(name)
            if len(entry) > 3:
                info.mode = entry[3]
            if kind in ("sym", "hard"):
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE), data
                tf.addfile(info)
            elif kind == "dev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                tf.addfile(info)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return str(path)


def test_unpack_working_dir_files_only_private(lib, tmp_path):
    ok = _archive(tmp_path, [("./a", None, "dir", 0o777), ("./a/b.txt", b"hi", "file", 0o6777)])
    dest = lib.unpack_working_dir(ok, str(tmp_path / "jobs" / "out"))
    assert open(os.path.join(dest, "a", "b.txt")).read() == "hi"
    assert os.stat(dest).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(dest, "a")).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(dest, "a", "b.txt")).st_mode & 0o7777 & ~0o755 == 0  # no setuid/setgid, no o+w


@pytest.mark.parametrize("members", [
    [("../escape.txt", b"x", "file")],
    [("/abs.txt", b"x", "file")],
    [("./evil", "/etc/passwd", "sym")],
    # a chain of links, each pointing inside, that ends outside once all are made
    [("./l1", "l2", "sym"), ("./l2", "..", "sym"), ("./l1/escape.txt", b"x", "file")],
    [("./inside", "a.txt", "sym"), ("./a.txt", b"x", "file")],
    [("./hard", "/etc/passwd", "hard")],
    [("./null", None, "dev")],
])
def test_unpack_working_dir_refuses_links_and_escapes(lib, tmp_path, members):
    with pytest.raises(lib.Fail):
        lib.unpack_working_dir(_archive(tmp_path, members), str(tmp_path / "out"))
    assert not (tmp_path / "escape.txt").exists()
    assert not os.path.lexists(tmp_path / "out" / "evil")


def test_job_record_and_messages(lib):
    rec = lib.job_record({"submission_id": "raysubmit_1", "job_id": "02000000", "status": "FAILED",
                          "message": "boom", "start_time": 1, "end_time": 2, "entrypoint": "python x.py"})
    assert rec["job_id"] == "raysubmit_1" and rec["status"] == "FAILED" and rec["entrypoint"] == "python x.py"
    assert "512 MiB" in lib._package_hint("Package size (600.00MiB) exceeds the maximum size of 512.00MiB")
    assert lib.RAY_PACKAGE_MAX_BYTES == 512 * 1024 * 1024
