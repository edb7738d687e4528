# How a node's supervisor is kept running: a systemd unit (system as root, user where linger is
# on), else the supervisor detached plus an @reboot crontab line, else the supervisor detached alone.
# The unit text and the crontab edit are pure functions (remote_lib/tests/test_supervise.py).
import os

from .protocol import log, subprocess
from .node import current_user, which
from .storage import _digest, write_file_atomic


LAUNCHERS = ("systemd", "systemd-user", "cron", "detached")
CRON_TAG = "# nokube-ray"


def unit_name(cluster, storage):
    """One unit per cluster and storage path: two clusters on a machine never share one."""
    return "nokube-ray-%s-%s.service" % (cluster, _digest(storage)[:8])


def _systemd_word(word):
    """A word of a systemd ExecStart line: quoted, with systemd's specifiers (%) and variables ($) escaped."""
    w = str(word).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return '"%s"' % w


def unit_text(cluster, storage, python, lib, user_unit=False):
    """The systemd unit that runs `supervise-run` in the foreground (pure)."""
    argv = [python, lib, "supervise-run", cluster, storage]
    target = "default.target" if user_unit else "multi-user.target"
    return "\n".join([
        "# written by nokube (ray start supervision); removed by `nokube ray stop`",
        "[Unit]",
        "Description=nokube Ray supervisor of cluster %s (storage %s)" % (cluster, storage.replace("%", "%%")),
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=%s" % " ".join(_systemd_word(w) for w in argv),
        # the supervisor restarts Ray; systemd restarts the supervisor itself should it die
        "Restart=on-failure",
        "RestartSec=2",
        # SIGTERM to the supervisor alone (it stops Ray in Ray's order), SIGKILL to what is left after
        "KillMode=mixed",
        "TimeoutStopSec=60",
        "",
        "[Install]",
        "WantedBy=%s" % target,
        "",
    ])


def _sh_word(word):
    w = str(word)
    return "'" + w.replace("'", "'\\''") + "'"


def cron_marker(cluster, storage):
    return "%s cluster=%s storage=%s" % (CRON_TAG, cluster, _digest(storage)[:8])


def cron_line(cluster, storage, python, lib):
    """The @reboot line: the supervisor started detached at each boot (`%` is cron's newline: escaped)."""
    cmd = " ".join(_sh_word(w) for w in (python, lib, "supervise-start", cluster, storage))
    return "@reboot %s >/dev/null 2>&1 %s" % (cmd.replace("%", "\\%"), cron_marker(cluster, storage))


def crontab_edit(text, cluster, storage, line=None):
    """The crontab `text` with this cluster's line removed, then `line` added when given (pure):
    every other line is kept as it was."""
    marker = cron_marker(cluster, storage)
    kept = [ln for ln in (text or "").splitlines() if not ln.rstrip().endswith(marker)]
    if line:
        kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


def choose_launcher(uid, systemd_booted, linger, has_systemctl, has_crontab):
    """The best launcher the node has (pure): systemd as root, a user unit with linger, cron, detached."""
    if systemd_booted and has_systemctl:
        if uid == 0:
            return "systemd"
        if linger:
            return "systemd-user"
    if has_crontab:
        return "cron"
    return "detached"


def _cron_runs():
    """A cron daemon runs on this machine (its process), or at least is installed to run at boot."""
    try:
        for n in os.listdir("/proc"):
            if n.isdigit():
                try:
                    with open("/proc/%s/comm" % n) as f:
                        if f.read().strip() in ("cron", "crond", "cronie", "busybox-crond"):
                            return True
                except OSError:
                    pass
    except OSError:
        pass
    return False


def detect_launcher():
    """(launcher, why) of this node, as probe, plan and start see it."""
    user = current_user()
    systemd_booted = os.path.isdir("/run/systemd/system")
    linger = os.path.exists("/var/lib/systemd/linger/%s" % user)
    has_crontab = bool(which("crontab")) and _cron_runs()
    launcher = choose_launcher(os.getuid(), systemd_booted, linger, bool(which("systemctl")), has_crontab)
    return launcher


def _user_env():
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/run/user/%d" % os.getuid())
    return env


def _systemctl(user_unit, *args):
    argv = ["systemctl"] + (["--user"] if user_unit else []) + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=_user_env() if user_unit else None, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace").strip()


def unit_path(cluster, storage, user_unit):
    if user_unit:
        base = os.path.join(os.path.expanduser("~"), ".config", "systemd", "user")
    else:
        base = "/etc/systemd/system"
    return os.path.join(base, unit_name(cluster, storage))


def systemd_install_start(cluster, storage, python, lib, user_unit):
    """Writes the unit (when it differs), enables it for boot and (re)starts it. An error text or None."""
    path = unit_path(cluster, storage, user_unit)
    text = unit_text(cluster, storage, python, lib, user_unit)
    try:
        with open(path) as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_file_atomic(path, text, 0o644)
        rc, out = _systemctl(user_unit, "daemon-reload")
        if rc:
            return "systemctl daemon-reload failed: %s" % out
    name = unit_name(cluster, storage)
    rc, out = _systemctl(user_unit, "enable", name)
    if rc:
        return "systemctl enable %s failed: %s" % (name, out)
    rc, out = _systemctl(user_unit, "restart", name)
    if rc:
        return "systemctl restart %s failed: %s" % (name, out)
    return None


def systemd_remove(cluster, storage, user_unit):
    """Stops and disables the unit and removes its file; True when there was one."""
    path = unit_path(cluster, storage, user_unit)
    if not os.path.exists(path):
        return False
    name = unit_name(cluster, storage)
    _systemctl(user_unit, "disable", "--now", name)
    try:
        os.unlink(path)
    except OSError as e:
        log("cannot remove %s: %s" % (path, e))
    _systemctl(user_unit, "daemon-reload")
    _systemctl(user_unit, "reset-failed", name)
    return True


def _crontab_read():
    p = subprocess.run(["crontab", "-l"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    # `crontab -l` of a user without one exits 1 ("no crontab for ..."): an empty crontab
    return p.stdout.decode(errors="replace") if p.returncode == 0 else ""


def crontab_set(cluster, storage, line):
    """Read-modify-write of the user's crontab: this cluster's line replaced (or removed: line None).
    True when the crontab changed; raises OSError when `crontab` cannot write it."""
    if not which("crontab"):
        return False
    old = _crontab_read()
    new = crontab_edit(old, cluster, storage, line)
    if new == old or (not old.strip() and not new.strip()):
        return False
    p = subprocess.run(["crontab", "-"], input=new.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    if p.returncode:
        raise OSError("crontab - failed: %s" % p.stdout.decode(errors="replace").strip())
    return True
