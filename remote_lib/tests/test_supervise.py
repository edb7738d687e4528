"""The supervisor's pure parts: backoff, exit words, session pruning, the state file's restart
watermark, the crontab line edit, the launcher choice and the systemd unit text (checked by
`systemd-analyze verify` where this machine has it)."""
import os
import shutil
import signal
import subprocess
import time

import pytest


def test_backoff_grows_to_30_s_and_stays(lib):
    assert [lib.backoff_sec(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert lib.backoff_sec(0) == 1
    assert lib.MAX_TRIES == 6
    # the longest wait before giving up is bounded (the crash-loop e2e waits on it)
    assert sum(lib.backoff_sec(n) for n in range(1, lib.MAX_TRIES)) == 31


def test_exit_words_name_the_signal_or_the_code(lib):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert lib.describe_exit(status) == {"signal": "SIGKILL"}
    assert lib.why_text(lib.describe_exit(status)) == "killed by SIGKILL"
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert lib.describe_exit(status) == {"exit_code": 3}
    assert lib.why_text({"exit_code": 3}) == "exit code 3"
    assert lib.why_text({"reason": "the node rebooted"}) == "the node rebooted"


def test_sessions_to_prune_keeps_the_newest_and_never_the_live_one(lib):
    names = ["session_2026-01-0%d_00-00-00_000000_1" % d for d in range(1, 8)] + ["session_latest", "sockets"]
    live = "session_2026-01-01_00-00-00_000000_1"  # the oldest, but live: never removed
    gone = lib.sessions_to_prune(names, live, 2)
    assert live not in gone
    assert gone == ["session_2026-01-0%d_00-00-00_000000_1" % d for d in (2, 3, 4, 5)]
    assert lib.sessions_to_prune(names, None, 100) == []
    assert "session_latest" not in lib.sessions_to_prune(names, None, 0)


def test_prune_sessions_removes_directories_on_disk(lib, tmp_path):
    for d in range(1, 6):
        (tmp_path / ("session_2026-01-0%d_00-00-00_000000_1" % d) / "logs").mkdir(parents=True)
    os.symlink(str(tmp_path / "session_2026-01-02_00-00-00_000000_1"), str(tmp_path / "session_latest"))
    gone = lib.prune_sessions(str(tmp_path), 1)
    assert gone == ["session_2026-01-01_00-00-00_000000_1", "session_2026-01-03_00-00-00_000000_1",
                    "session_2026-01-04_00-00-00_000000_1"]
    left = sorted(os.listdir(str(tmp_path)))
    assert left == ["session_2026-01-02_00-00-00_000000_1", "session_2026-01-05_00-00-00_000000_1", "session_latest"]


def test_restart_watermark_counts_once_per_caller(lib, tmp_path):
    storage = str(tmp_path)
    os.makedirs(os.path.join(storage, "state"))
    report = {"restarts": 2, "restart_seq": 7}
    assert lib.restarts_seen(storage, "action", report) == 2  # first look: the restarts since the deploy
    assert lib.restarts_seen(storage, "action", report) == 0
    assert lib.restarts_seen(storage, "cli", report) == 2  # another caller has its own watermark
    assert lib.restarts_seen(storage, "action", {"restarts": 3, "restart_seq": 8}) == 1
    with pytest.raises(lib.Fail):
        lib.restarts_seen(storage, "../x", report)


def test_crontab_edit_touches_only_this_clusters_line(lib):
    mine = lib.cron_line("c1", "/srv/a b", "/usr/bin/python3", "/srv/a b/lib/nokube_supervisor.py")
    assert mine.startswith("@reboot '/usr/bin/python3' '/srv/a b/lib/nokube_supervisor.py' 'supervise-start' 'c1' '/srv/a b'")
    other = lib.cron_line("c1", "/srv/other", "/usr/bin/python3", "/srv/other/lib/nokube_supervisor.py")
    user = "# my jobs\n0 3 * * * backup.sh\n"
    with_mine = lib.crontab_edit(user, "c1", "/srv/a b", mine)
    assert with_mine == user + mine + "\n"
    # replaced, not added twice
    assert lib.crontab_edit(with_mine, "c1", "/srv/a b", mine) == with_mine
    both = lib.crontab_edit(with_mine, "c1", "/srv/other", other)
    assert lib.crontab_edit(both, "c1", "/srv/a b", None) == user + other + "\n"
    assert lib.crontab_edit(lib.crontab_edit(both, "c1", "/srv/a b"), "c1", "/srv/other") == user
    assert lib.crontab_edit(mine + "\n", "c1", "/srv/a b") == ""
    # cron reads % as a newline: escaped
    assert "\\%" in lib.cron_line("c1", "/srv/50%", "python3", "/srv/50%/lib/x.py")


def test_launcher_choice_best_first(lib):
    assert lib.choose_launcher(0, True, False, True, True) == "systemd"
    assert lib.choose_launcher(1000, True, True, True, True) == "systemd-user"
    assert lib.choose_launcher(1000, True, False, True, True) == "cron"
    assert lib.choose_launcher(0, False, False, True, True) == "cron"
    assert lib.choose_launcher(1000, False, False, False, False) == "detached"
    assert lib.choose_launcher(0, True, False, False, False) == "detached"  # no systemctl


def test_unit_names_differ_per_cluster_and_storage(lib):
    a = lib.unit_name("prod", "/srv/a")
    assert a.startswith("nokube-ray-prod-") and a.endswith(".service")
    assert a != lib.unit_name("prod", "/srv/b")
    assert a != lib.unit_name("dev", "/srv/a")


def test_unit_text(lib):
    text = lib.unit_text("prod", "/srv/ray 100%", "/usr/bin/python3", "/srv/ray 100%/lib/nokube_supervisor.py")
    assert 'ExecStart="/usr/bin/python3" "/srv/ray 100%%/lib/nokube_supervisor.py" "supervise-run" "prod" "/srv/ray 100%%"' in text
    assert "Type=simple" in text and "KillMode=mixed" in text and "Restart=on-failure" in text
    assert "WantedBy=multi-user.target" in text
    assert "WantedBy=default.target" in lib.unit_text("prod", "/srv", "python3", "/srv/lib/x.py", user_unit=True)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed here")
def test_unit_passes_systemd_analyze_verify(lib, tmp_path):
    # ExecStart must name an executable that exists: this interpreter, and a library file
    import sys

    storage = tmp_path / "st"
    (storage / "lib").mkdir(parents=True)
    libfile = storage / "lib" / "nokube_supervisor.py"
    libfile.write_text("# stand-in\n")
    name = lib.unit_name("prod", str(storage))
    unit = tmp_path / name
    unit.write_text(lib.unit_text("prod", str(storage), sys.executable, str(libfile)))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    # on a machine not booted with systemd, verify still parses the unit; only its own complaints count
    problems = [ln for ln in out.splitlines() if name in ln or "ExecStart" in ln or "Unknown" in ln]
    assert p.returncode == 0 or not problems, out
    assert not problems, out
