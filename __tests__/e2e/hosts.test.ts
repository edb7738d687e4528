// The test hosts' own kinds (scripts/testhosts.sh): reboot, cron, a decoy python on the login PATH, a
// packet filter, a Redis and a systemd host. Each test checks what a user of such a machine would see,
// mostly over real SSH from the test process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootHost,
  clearFirewall,
  dropPort,
  e2eEnabled,
  hostExec,
  poweroffHost,
  rebootHost,
  requireTestHosts,
  sshExec,
  testHost,
  testhosts,
  type TestHost,
} from './hosts';

const added: string[] = [];

/** Adds a host of its own for a test (removed after the file). */
function addHost(name: string, ...flags: string[]): TestHost {
  const r = testhosts('add', name, ...flags);
  if (r.code !== 0) throw new Error(`testhosts.sh add ${name} ${flags.join(' ')} failed: ${r.stderr}`);
  added.push(name);
  return testHost(name);
}

function ok(host: TestHost, cmd: string, user?: string): string {
  const r = sshExec(host, cmd, { user });
  if (r.code !== 0) throw new Error(`ssh ${user ?? 'nokube'}@${host.name} '${cmd}' exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Exit code of a TCP connect from `from` to ip:port within 3 s (0: connected, 124: timed out). */
function connect(from: string, ip: string, port: number): number {
  return hostExec(from, `timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/${port}'`).code;
}

describe.skipIf(!e2eEnabled)('test hosts', () => {
  beforeAll(() => {
    requireTestHosts();
  });
  afterAll(() => {
    for (const name of added) testhosts('rm', name);
  });

  it('reboot: every process gone, /tmp and /dev/shm empty, disk state and host keys kept', () => {
    const h = addHost('nkboot');
    ok(h, 'echo disk >/opt/nokube/data/kept && echo home >~/kept && touch /tmp/gone /dev/shm/gone');
    ok(h, 'setsid nohup sleep 1000 >/dev/null 2>&1 < /dev/null & echo started');
    expect(ok(h, 'pgrep -c -x sleep')).toBe('1');
    const before = Date.now();
    rebootHost('nkboot');
    const took = Date.now() - before;
    // the same name, IP and host keys (ssh checks them against known_hosts), a new boot
    expect(ok(h, 'hostname; hostname -I')).toBe(`nkboot\n${h.ip}`);
    expect(ok(h, 'pgrep -c -x sleep || true')).toBe('0');
    expect(ok(h, 'ls -A /tmp /dev/shm')).toBe('/dev/shm:\n\n/tmp:');
    expect(ok(h, 'cat /opt/nokube/data/kept ~/kept')).toBe('disk\nhome');
    expect(took).toBeLessThan(10_000);
    // the two halves: down (no answer on port 22, still listed), then up again
    poweroffHost('nkboot');
    expect(connect('nkh1', h.ip, 22)).not.toBe(0);
    expect(testhosts('status').stdout).toMatch(/nkboot .*powered-off/);
    expect(testHost('nkboot').ip).toBe(h.ip);
    bootHost('nkboot');
    expect(ok(h, 'cat ~/kept')).toBe('home');
  });

  it('cron: crontab of user nokube is private to the host, and an @reboot entry runs at the next boot', async () => {
    const h = addHost('nkcron', '--cron');
    expect(h.cron).toBe(true);
    expect(ok(h, 'pgrep -x cron >/dev/null && echo running')).toBe('running');
    // (no % in the entry: cron makes it a newline)
    ok(h, `echo '@reboot hostname >>/home/nokube/booted' | crontab -`);
    expect(ok(h, 'crontab -l')).toContain('@reboot');
    // a host without --cron has its own (empty) spool and no cron daemon
    const other = testHost('nkh1');
    expect(sshExec(other, 'crontab -l').stderr).toContain('no crontab for nokube');
    expect(sshExec(other, 'pgrep -x cron').code).toBe(1);
    // @reboot runs at cron's start after a boot, not when the entry is written
    expect(ok(h, 'test -e ~/booted && echo yes || echo no')).toBe('no');
    rebootHost('nkcron');
    const booted = await until(() => {
      const r = sshExec(h, 'cat ~/booted 2>/dev/null');
      return r.stdout.trim() || undefined;
    }, 20_000);
    expect(booted.split('\n')).toHaveLength(1);
    expect(ok(h, 'crontab -l')).toContain('@reboot');
    rebootHost('nkcron');
    await until(() => (ok(h, 'cat ~/booted').split('\n').length === 2 ? true : undefined), 20_000);
  });

  it('decoy python: the login PATH has a python without Ray first; Ray is in /opt/nokube-venv', () => {
    const h = addHost('nkdecoy', '--decoy-python');
    expect(h.decoy_python).toBe('/home/nokube/.pyenv/shims');
    for (const run of [(c: string) => c, (c: string) => `bash -lc '${c}'`]) {
      expect(ok(h, run('command -v python'))).toBe('/home/nokube/.pyenv/shims/python');
      expect(ok(h, run('command -v python3'))).toBe('/home/nokube/.pyenv/shims/python3');
      const imp = sshExec(h, run('python -c "import ray"'));
      expect(imp.code).not.toBe(0);
      expect(imp.stderr).toContain("No module named 'ray'");
    }
    expect(ok(h, '/opt/nokube-venv/bin/python -c "import ray; print(ray.__version__)"')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(ok(h, 'command -v ray')).toBe('/opt/nokube-venv/bin/ray');
    // the usual Ray hosts are unchanged
    expect(ok(testHost('nkh1'), 'python3 -c "import ray; print(ray.__file__)"')).toContain('/opt/nokube-venv/');
  });

  it('firewall: a dropped port times out from one host only, and answers again after clear', () => {
    const fw = addHost('nkfw', '--firewall');
    expect(fw.firewall).toBe(true);
    const [a, b] = [testHost('nkh1'), testHost('nkh2')];
    const port = 8076;
    hostExec('nkfw', `setsid timeout 120 python3 -m http.server ${port} --bind ${fw.ip} >/dev/null 2>&1 </dev/null &`);
    try {
      expect(connect('nkh1', fw.ip, port)).toBe(0);
      dropPort('nkfw', a.ip, port);
      expect(connect('nkh1', fw.ip, port)).toBe(124);
      expect(connect('nkh2', fw.ip, port)).toBe(0);
      // over ssh (port 22) the host still answers: only the named port is filtered
      expect(ok(fw, 'hostname')).toBe('nkfw');
      dropPort('nkfw', b.ip, port, { reject: true });
      const refused = hostExec('nkh2', `timeout 3 bash -c 'exec 3<>/dev/tcp/${fw.ip}/${port}' 2>&1`);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('Connection refused');
      clearFirewall('nkfw');
      expect(connect('nkh1', fw.ip, port)).toBe(0);
      expect(connect('nkh2', fw.ip, port)).toBe(0);
    } finally {
      hostExec('nkfw', `pkill -f 'http.server ${port}' || true`);
    }
  });

  it('systemd: boots to multi-user with sshd, root and nokube log in, Ray imports, enabled units (system, and a user unit with linger) survive a reboot', async () => {
    const h = addHost('nksd', '--systemd');
    expect(h.systemd).toBe(true);
    const state = ok(h, 'timeout 60 systemctl is-system-running --wait || true', 'root');
    expect(['running', 'degraded']).toContain(state);
    expect(ok(h, 'hostname; cat /proc/1/comm; id -un', 'root')).toBe('nksd\nsystemd\nroot');
    expect(ok(h, 'id -un; /opt/nokube-venv/bin/python -c "import ray; print(ray.__version__)"')).toMatch(
      /^nokube\n\d+\.\d+\.\d+$/,
    );
    expect(ok(h, 'python3 -c "import ray, sys; print(sys.version_info[:2])"')).toBe('(3, 11)');
    // Ray's venv is the machine's, bound read-only
    const write = sshExec(h, 'touch /opt/nokube-venv/x', { user: 'root' });
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
    // a root deploy installs a system unit; a user session has its own manager
    ok(
      h,
      `printf '[Unit]\\nDescription=probe\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' >/etc/systemd/system/nk-probe.service && systemctl daemon-reload && systemctl enable --now nk-probe.service`,
      'root',
    );
    expect(ok(h, 'systemctl is-active nk-probe.service', 'root')).toBe('active');
    // a user unit of nokube, kept running by linger (started at boot with no login)
    ok(h, 'loginctl enable-linger nokube', 'root');
    ok(
      h,
      `mkdir -p ~/.config/systemd/user && printf '[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=default.target\\n' >~/.config/systemd/user/nk-user.service && systemctl --user daemon-reload && systemctl --user enable --now nk-user.service`,
    );
    expect(ok(h, 'systemctl --user is-active nk-user.service')).toBe('active');
    ok(h, 'touch /tmp/gone ~/kept', 'nokube');
    const boot = 'cut -d" " -f22 /proc/1/stat; systemctl show -p ActiveEnterTimestampMonotonic --value nk-probe';
    const started = ok(h, boot, 'root');
    const before = Date.now();
    rebootHost('nksd');
    expect(Date.now() - before).toBeLessThan(60_000);
    await until(() => {
      const s = sshExec(h, 'timeout 60 systemctl is-system-running --wait', { user: 'root' }).stdout.trim();
      return ['running', 'degraded'].includes(s) ? s : undefined;
    }, 60_000);
    expect(ok(h, 'systemctl is-active nk-probe.service', 'root')).toBe('active');
    // no login of nokube since the boot: linger started its manager and unit
    await until(() => (sshExec(h, 'pgrep -u nokube -x sleep', { user: 'root' }).code === 0 ? true : undefined), 30_000);
    // a new boot (PID 1 and the unit started again), /tmp is empty, the disk is kept
    expect(ok(h, boot, 'root')).not.toBe(started);
    expect(ok(h, 'ls /tmp/gone ~/kept 2>/dev/null || true')).toBe('/home/nokube/kept');
    // its packet filter is the host's own too
    dropPort('nksd', testHost('nkh1').ip, 22);
    expect(connect('nkh1', h.ip, 22)).toBe(124);
    expect(connect('nkh2', h.ip, 22)).toBe(0);
    clearFirewall('nksd');
    expect(connect('nkh1', h.ip, 22)).toBe(0);
  });

  it('redis: redis-server on the host IP asks for the password, and is back after a reboot', async () => {
    const r = addHost('nkredis', '--redis', '--redis-password', 'rds-test-pw');
    expect(r.redis).toEqual({ port: 6379, password: 'rds-test-pw' });
    const cli = (args: string) => hostExec('nkh1', `redis-cli -h ${r.ip} -p 6379 ${args} 2>&1`, { timeoutMs: 10_000 });
    expect(cli('-a rds-test-pw --no-auth-warning ping').stdout.trim()).toBe('PONG');
    expect(cli('ping').stdout).toContain('NOAUTH');
    expect(cli('-a wrong --no-auth-warning ping').stdout).toMatch(/WRONGPASS|invalid password/);
    expect(cli('-a rds-test-pw --no-auth-warning set k v').stdout.trim()).toBe('OK');
    rebootHost('nkredis');
    const pong = await until(() => {
      const out = cli('-a rds-test-pw --no-auth-warning ping').stdout.trim();
      return out === 'PONG' ? out : undefined;
    }, 15_000);
    expect(pong).toBe('PONG');
    // no persistence: a reboot starts an empty Redis (as a cache-only Redis would)
    expect(cli('-a rds-test-pw --no-auth-warning exists k').stdout.trim()).toBe('0');
  });
});
