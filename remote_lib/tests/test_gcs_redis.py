# The Redis check of GCS fault tolerance against a small RESP server on loopback (the real Redis is
# checked end to end in __tests__/e2e/head-restart.test.ts), and what `ray start` is given.
import os
import socket
import stat
import threading

import pytest


def _serve(requirepass, replies=None, silent=False):
    """A RESP server on 127.0.0.1 that answers AUTH and PING like Redis 7 (one connection)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        authed = requirepass is None
        buf = b""
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                if silent:
                    continue
                buf += data
                while buf.startswith(b"*"):
                    lines = buf.split(b"\r\n")
                    n = int(lines[0][1:])
                    if len(lines) < 1 + 2 * n + 1:
                        break
                    words = [lines[2 + 2 * i].decode() for i in range(n)]
                    buf = b"\r\n".join(lines[1 + 2 * n:])
                    if words[0] == "AUTH":
                        if requirepass is None:
                            conn.sendall(b"-ERR AUTH <password> called without any password configured for the default user.\r\n")
                        elif words[-1] == requirepass:
                            authed = True
                            conn.sendall(b"+OK\r\n")
                        else:
                            conn.sendall(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
                    elif words[0] == "PING":
                        conn.sendall(b"+PONG\r\n" if authed else b"-NOAUTH Authentication required.\r\n")

    threading.Thread(target=run, daemon=True).start()
    return "127.0.0.1:%d" % srv.getsockname()[1], srv


def test_answers_with_the_right_password(lib):
    address, _ = _serve("pw with spaces $1 *2")
    assert lib.check_redis(address, "pw with spaces $1 *2") is None


def test_names_a_wrong_password_without_showing_it(lib):
    address, _ = _serve("right-pw")
    problem = lib.check_redis(address, "wrong-pw-123")
    assert "refused the password (WRONGPASS)" in problem["error"]
    assert address in problem["error"]
    assert "wrong-pw-123" not in repr(problem)


def test_names_a_missing_password(lib):
    address, _ = _serve("right-pw")
    assert "needs a password (NOAUTH)" in lib.check_redis(address, None)["error"]


def test_a_password_for_a_redis_without_one(lib):
    address, _ = _serve(None)
    assert "has no password, but redis_password is set" in lib.check_redis(address, "x")["error"]


def test_refused_and_silent(lib):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    problem = lib.check_redis("127.0.0.1:%d" % port, None)
    assert problem["error"].endswith("cannot be reached from the head: connection refused")
    address, _ = _serve(None, silent=True)
    problem = lib.check_redis(address, None, timeout=0.5)
    assert "accepted the connection but did not answer within" in problem["error"]


def test_head_start_pieces_keep_the_password_out_of_argv(lib, tmp_path):
    storage = str(tmp_path)
    os.makedirs(lib.state_dir(storage), exist_ok=True)
    env, cmd = lib.gcs_start_pieces("head", {"redis": {"address": "10.0.0.7:6379", "namespace": "prod"}}, "prod",
                                    storage, "s3cret", "/usr/bin/python3")
    assert env == {"RAY_REDIS_ADDRESS": "10.0.0.7:6379", "RAY_external_storage_namespace": "prod"}
    path = lib.password_path(storage)
    assert cmd[:2] == ["/usr/bin/python3", "-c"] and cmd[3] == path
    assert "s3cret" not in " ".join(cmd)
    assert open(path).read() == "s3cret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # fault tolerance turned off: the password file goes
    env, cmd = lib.gcs_start_pieces("head", {}, "prod", storage, None, "/usr/bin/python3")
    assert (env, cmd) == ({}, None) and not os.path.exists(path)


def test_worker_waits_for_the_head(lib, tmp_path):
    env, cmd = lib.gcs_start_pieces("worker", {"gcs_reconnect_timeout_s": 300}, "prod", str(tmp_path), None, "p")
    assert env == {"RAY_gcs_rpc_server_reconnect_timeout_s": "300"} and cmd is None
    assert lib.gcs_start_pieces("worker", {}, "prod", str(tmp_path), None, "p") == ({}, None)
