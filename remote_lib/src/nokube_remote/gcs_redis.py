# The Redis of Ray's GCS fault tolerance (ray_spec.gcs_fault_tolerance), on the head: checked before a
# deploy (a RESP AUTH + PING over a socket, bounded in time), and what `ray start --head` is given to
# use it (RAY_REDIS_ADDRESS, a storage namespace per cluster, the password). The password reaches
# `ray start` from a file only the login user reads, never through an argv nokube writes.
import os
import time

from .protocol import socket
from .storage import state_dir, write_file_atomic

REDIS_CHECK_SEC = 3.0
PASSWORD_FILE = "redis_password"


def _split_address(address):
    host, _, port = str(address).rpartition(":")
    return host.strip("[]"), int(port)


def _command(*words):
    """One RESP command (an array of bulk strings): safe for any byte in the password."""
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        data = w.encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _reply_line(sock, deadline):
    buf = b""
    while not buf.endswith(b"\r\n"):
        left = deadline - time.time()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(512)
        if not chunk:
            raise ConnectionResetError("the connection was closed")
        buf += chunk
        if len(buf) > 4096:
            break
    return buf.split(b"\r\n", 1)[0].decode("utf-8", "replace")


def check_redis(address, password, timeout=REDIS_CHECK_SEC):
    """None when the Redis at `address` answers PING (after AUTH with `password` when given);
    else {"error", "hint"} naming the address and what failed. Never shows the password."""
    where = "the Redis at %s (ray_spec.gcs_fault_tolerance.redis_address)" % address
    try:
        host, port = _split_address(address)
    except ValueError:
        return {"error": "%s is not host:port" % address, "hint": "write redis_address as host:port"}
    deadline = time.time() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return {"error": "%s did not answer within %ds from the head" % (where, timeout),
                "hint": "check that Redis runs there and that the head can reach %s (firewall, bind address)" % address}
    except socket.gaierror as e:
        return {"error": "%s: the head cannot resolve %s (%s)" % (where, host, e.strerror or e),
                "hint": "use a name the head resolves, or the Redis's IP address"}
    except OSError as e:
        why = "connection refused" if isinstance(e, ConnectionRefusedError) else (e.strerror or str(e))
        return {"error": "%s cannot be reached from the head: %s" % (where, why),
                "hint": "start Redis there, or check its port and bind address (redis.conf: bind, port) and the firewall"}
    try:
        try:
            if password:
                sock.sendall(_command("AUTH", password))
                auth = _reply_line(sock, deadline)
                if auth.startswith("-"):
                    return _auth_problem(where, auth)
            sock.sendall(_command("PING"))
            pong = _reply_line(sock, deadline)
        except socket.timeout:
            return {"error": "%s accepted the connection but did not answer within %ds" % (where, timeout),
                    "hint": "check that %s is a Redis server and not overloaded" % address}
        except OSError as e:
            return {"error": "%s closed the connection: %s" % (where, e.strerror or e),
                    "hint": "check that %s is a Redis server (TLS is not supported here)" % address}
    finally:
        sock.close()
    if pong.startswith("-"):
        return _auth_problem(where, pong)
    if pong != "+PONG":
        return {"error": "%s does not answer like a Redis server (PING got %r)" % (where, pong[:40]),
                "hint": "check the address: it must be Redis's port"}
    return None


def _auth_problem(where, reply):
    code = reply[1:].split(" ", 1)[0]
    if code == "NOAUTH":
        return {"error": "%s needs a password (NOAUTH)" % where,
                "hint": "set ray_spec.gcs_fault_tolerance.redis_password: ${NAME} and map the Redis password into NAME"}
    if code == "WRONGPASS" or "invalid password" in reply:
        return {"error": "%s refused the password (WRONGPASS)" % where,
                "hint": "check the secret ray_spec.gcs_fault_tolerance.redis_password reads (Redis's requirepass)"}
    if "without any password configured" in reply:
        return {"error": "%s has no password, but redis_password is set" % where,
                "hint": "remove redis_password, or set requirepass on that Redis"}
    return {"error": "%s answered with an error: %s" % (where, reply[1:120]), "hint": None}


def password_path(storage):
    return os.path.join(state_dir(storage), PASSWORD_FILE)


def head_redis_env(spec, cluster, storage, password):
    """The environment `ray start --head` needs for GCS fault tolerance ({} without it), and the password
    file written (or removed); `spec` is the applied spec's `redis`."""
    path = password_path(storage)
    if not spec:
        try:
            os.unlink(path)
        except OSError:
            pass
        return {}
    if password:
        write_file_atomic(path, password, 0o600)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
    return {"RAY_REDIS_ADDRESS": str(spec["address"]),
            "RAY_external_storage_namespace": str(spec.get("namespace") or cluster)}


# `ray start` given the password without it in any argv nokube writes (/proc/PID/cmdline is readable
# by every user of the machine): the file's path is the argument, the flag is added inside Python.
_WITH_PASSWORD = ("import sys; sys.argv[0] = 'ray'; f = sys.argv.pop(1); "
                  "sys.argv.append('--redis-password=' + open(f).read()); "
                  "from ray.scripts.scripts import main; sys.exit(main())")


def ray_cmd_with_password(python, storage):
    """The `ray` command that reads the Redis password from its file, or None when there is none."""
    path = password_path(storage)
    if not os.path.exists(path):
        return None
    return [python, "-c", _WITH_PASSWORD, path]


def gcs_start_pieces(role, applied, cluster, storage, password, python):
    """What GCS fault tolerance adds to a `ray start` (the environment, and the head's `ray` command
    when it reads a password), from the applied spec: the head's `redis`, the workers'
    `gcs_reconnect_timeout_s`. Returns (env updates, command or None for the usual one)."""
    applied = applied or {}
    if role == "head":
        env = head_redis_env(applied.get("redis"), cluster, storage, password)
        return env, ray_cmd_with_password(python, storage) if env else None
    timeout = applied.get("gcs_reconnect_timeout_s")
    if timeout:
        # how long a raylet waits for a restarting head's GCS before it exits (Ray's default: 60 s)
        return {"RAY_gcs_rpc_server_reconnect_timeout_s": str(int(timeout))}, None
    return {}, None
