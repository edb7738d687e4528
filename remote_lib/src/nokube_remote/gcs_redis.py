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
    """One RESP command (an array of bulk strings): safe for any byte in the password; a word may be
    bytes (a key SCAN returned) or text."""
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        data = w if isinstance(w, bytes) else str(w).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


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
    reader = _RespReader(sock, timeout, deadline)
    try:
        try:
            if password:
                sock.sendall(_command("AUTH", password))
                reader.reply()
            sock.sendall(_command("PING"))
            pong = reader.reply()
        except NotRedisReply as e:
            pong = e.line
        except RedisReplyError as e:
            return _auth_problem(where, "-%s" % e)
        except socket.timeout:
            return {"error": "%s accepted the connection but did not answer within %ds" % (where, timeout),
                    "hint": "check that %s is a Redis server and not overloaded" % address}
        except OSError as e:
            return {"error": "%s closed the connection: %s" % (where, e.strerror or e),
                    "hint": "check that %s is a Redis server (TLS is not supported here)" % address}
    finally:
        sock.close()
    if pong != "PONG":
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


class RedisReplyError(Exception):
    """An error reply (-ERR ..., -NOAUTH ...) to one command."""


class NotRedisReply(RedisReplyError):
    """Bytes that are no RESP reply (`line`, their start): not a Redis at that port."""

    def __init__(self, line):
        RedisReplyError.__init__(self, "not a Redis reply: %r" % line)
        self.line = line


# a status or error line longer than this is not Redis talking
MAX_LINE = 4096


class _RespReader(object):
    """Replies of RESP2 read off a socket, each reply bounded by `timeout` seconds (and all of them
    by `deadline`, when given)."""

    def __init__(self, sock, timeout, deadline=None):
        self.sock = sock
        self.timeout = timeout
        self.deadline = deadline
        self.buf = b""

    def _fill(self, ready):
        """Reads until `ready()` holds, within the time left."""
        deadline = time.time() + self.timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        while not ready():
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the connection was closed")
            self.buf += chunk

    def _line(self):
        self._fill(lambda: b"\r\n" in self.buf or len(self.buf) > MAX_LINE)
        line, sep, rest = self.buf.partition(b"\r\n")
        if not sep:
            raise NotRedisReply(self.buf[:40].decode("utf-8", "replace"))
        self.buf = rest
        return line

    def _exactly(self, n):
        self._fill(lambda: len(self.buf) >= n + 2)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RedisReplyError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exactly(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise NotRedisReply(line[:40].decode("utf-8", "replace"))


def _glob_escape(text):
    """`text` matched literally inside a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]^\\" else c for c in text)


def clear_namespace(address, password, namespace, timeout):
    """Deletes the keys of Ray's storage `namespace` (RAY<namespace>@..., as Ray's own
    cleanup_redis_storage does) from the Redis at `address`: {"keys": count deleted}, or {"error",
    "hint"} naming the Redis when it cannot be reached or refuses. Never shows the password."""
    where = "the Redis at %s (ray_spec.gcs_fault_tolerance.redis_address)" % address
    try:
        host, port = _split_address(address)
    except ValueError:
        return {"error": "%s is not host:port" % address, "hint": None}
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except (OSError, socket.timeout) as e:
        why = "connection refused" if isinstance(e, ConnectionRefusedError) else (
            "no answer within %ds" % timeout if isinstance(e, socket.timeout) else (e.strerror or str(e)))
        return {"error": "%s cannot be reached from the head: %s" % (where, why),
                "hint": "the cluster's state stays in that Redis under namespace %s: once it answers, run stop "
                        "again, or delete its keys RAY%s@* yourself" % (namespace, namespace)}
    reader = _RespReader(sock, timeout)
    deleted = 0
    try:
        try:
            if password:
                sock.sendall(_command("AUTH", password))
                reader.reply()
            pattern = "RAY%s@*" % _glob_escape(namespace)
            cursor = b"0"
            while True:
                sock.sendall(_command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"))
                cursor, keys = reader.reply()
                if keys:
                    sock.sendall(_command("DEL", *keys))
                    deleted += int(reader.reply())
                if cursor in (b"0", "0"):
                    break
        except RedisReplyError as e:
            problem = _auth_problem(where, "-" + str(e))
            return {"error": problem["error"], "hint": problem["hint"]}
        except (socket.timeout, OSError) as e:
            why = "no answer within %ds" % timeout if isinstance(e, socket.timeout) else (e.strerror or str(e))
            return {"error": "%s stopped answering while the cluster's keys were deleted (%d so far): %s"
                             % (where, deleted, why),
                    "hint": "run stop again once it answers, or delete the keys RAY%s@* yourself" % namespace}
    finally:
        sock.close()
    return {"keys": deleted}


def clear_gcs_state(applied, storage, timeout):
    """After the head's stop: the cluster's state deleted from the Redis its GCS ran with (the
    applied spec's `redis`), as `stop` reports it; None when the head ran without one. The password
    file goes with a clean result (a failed clear keeps it for the next stop)."""
    spec = (applied or {}).get("redis")
    if not spec:
        return None
    path = password_path(storage)
    try:
        with open(path) as f:
            password = f.read()
    except OSError:
        password = None
    out = {"address": str(spec["address"]), "namespace": str(spec["namespace"])}
    out.update(clear_namespace(out["address"], password, out["namespace"], timeout))
    if "error" not in out:
        try:
            os.unlink(path)
        except OSError:
            pass
    return out


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
