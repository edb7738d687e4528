// `nokube ray init` against real test hosts whose host keys the client has never seen (no
// known_hosts given, an empty HOME): with --accept-new the config it writes starts a healthy cluster
// as written; in a pseudo-terminal it asks about each key and records the accepted ones; a refused key
// writes nothing; an existing config is kept without --force. The README's newcomer path is run too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, ensureDist, nokube } from '../helpers/cli';
import { fingerprint, parsePublicKeyLine } from '../../src/ssh';
import { newcomerCommands, shellWords } from '../readme/newcomer';
import { e2eEnabled, rayStopAll, requireTestHosts, testHost, type HostsInfo } from './hosts';

const HOSTS = ['nkh1', 'nkh2', 'nkh3'];

/** Drives the CLI in a pseudo-terminal, answering each "[y/N]" question in turn; the terminal's text. */
const PTY_DRIVER = `
import json, os, pty, select, sys
answers = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, asked = b"", 0
while True:
    ready, _, _ = select.select([fd], [], [], 120)
    if not ready:
        os.kill(pid, 9)
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    while out.count(b"[y/N] ") > asked and asked < len(answers):
        os.write(fd, (answers[asked] + "\\n").encode())
        asked += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function inPty(
  args: string[],
  answers: string[],
  env: Record<string, string>,
  cwd?: string,
): { code: number; text: string } {
  ensureDist();
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(answers), 'node', CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, text: `${r.stdout}${r.stderr}` };
}

/** The SHA256 fingerprint of a test host's ed25519 host key (what the CLI must show). */
function ed25519Fingerprint(name: string, info: HostsInfo): string {
  const line = testHost(name, info).host_keys.find((k) => k.startsWith('ssh-ed25519 '))!;
  return fingerprint(parsePublicKeyLine(line)!.blob);
}

describe.skipIf(!e2eEnabled)('nokube ray init on real test hosts with unknown host keys', () => {
  let info: HostsInfo;
  let home: string;
  let login: string[];
  let hostFlags: string[];

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    // an empty HOME: no ~/.ssh/known_hosts, no ~/.ssh/config, no default keys
    home = mkdtempSync(join(tmpdir(), 'nokube-init-home-'));
    login = ['--user', 'nokube', '--identity', info.client.keys.ed25519];
    const ips = HOSTS.map((h) => testHost(h, info).ip);
    hostFlags = ['--head', ips[0], '--workers', ips.slice(1).join(',')];
  });
  const env = () => ({ HOME: home, SSH_AUTH_SOCK: '' });

  it('--accept-new: writes a config and known_hosts that start a healthy cluster as written, then stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    const config = join(dir, 'ray-config.yaml');
    const r = await nokube(['ray', 'init', ...hostFlags, '--accept-new', '--config', config, ...login], env());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const h of HOSTS) {
      expect(r.stderr).toContain(`new ED25519 key ${ed25519Fingerprint(h, info)} accepted (--accept-new)`);
    }
    const text = readFileSync(config, 'utf8');
    expect(text).toContain("ssh_url: '10.88.0.11:22'\n    name: 'ray-head'\n    role: 'head'");
    expect(text).toContain("ray_version: '2.60.0'");
    expect(text).not.toContain('install:');
    expect(text).toMatch(/# 10\.88\.0\.12: \d+ CPUs?, [\d.]+ GiB, no GPU, Python 3\.\d+\.\d+, Ray 2\.60\.0/);
    // the recorded keys are the hosts' own ed25519 keys, one line each
    const known = readFileSync(join(dir, 'known_hosts'), 'utf8').trim().split('\n');
    expect(known).toEqual(
      HOSTS.map(
        (h) => `${testHost(h, info).ip} ${testHost(h, info).host_keys.find((k) => k.startsWith('ssh-ed25519'))}`,
      ),
    );
    // the command init prints, run as printed
    const next = /^Next: nokube (.*)$/m.exec(r.stdout)![1].split(' ');
    expect(next).toEqual(['ray', 'start', '--config', config, '--known-hosts', join(dir, 'known_hosts'), ...login]);
    const start = await nokube([...next, '--json'], env());
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.json?.status).toBe('healthy');
    expect(start.json?.nodes.map((n) => [n.name, n.state])).toEqual([
      ['ray-head', 'running'],
      ['ray-worker-1', 'running'],
      ['ray-worker-2', 'running'],
    ]);
    const stop = await nokube(['ray', 'stop', ...next.slice(2), '--json'], env());
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.json?.status).toBe('stopped');
  }, 600_000);

  it('in a terminal: asks about each new key (y/N), pins the accepted ones, and plan connects with the pins alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    const config = join(dir, 'ray-config.yaml');
    const r = inPty(
      ['ray', 'init', ...hostFlags, '--pin-host-keys', '--config', config, ...login],
      ['yes', 'y', 'yes'],
      env(),
    );
    expect(r.code, r.text).toBe(0);
    for (const h of HOSTS) {
      expect(r.text).toContain(`ED25519 key fingerprint is ${ed25519Fingerprint(h, info)}.`);
    }
    expect(r.text.match(/Trust this key and record it\? \[y\/N\]/g)).toHaveLength(3);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);
    const text = readFileSync(config, 'utf8');
    for (const h of HOSTS) {
      const key = testHost(h, info).host_keys.find((k) => k.startsWith('ssh-ed25519'))!;
      expect(text).toContain(`host_key: '${key}'`);
    }
    // no known_hosts at all: the pins alone let plan log in to every node
    const plan = await nokube(['ray', 'plan', '--config', config, ...login, '--json'], env());
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.json?.plan.map((p) => [p.node, p.action])).toEqual([
      ['ray-head', 'start'],
      ['ray-worker-1', 'start'],
      ['ray-worker-2', 'start'],
    ]);
  }, 300_000);

  it('a key answered "no" writes nothing and names the host; without a terminal it says to use --accept-new', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    const config = join(dir, 'ray-config.yaml');
    const r = inPty(['ray', 'init', ...hostFlags, '--config', config, ...login], ['yes', 'no', 'yes'], env());
    expect(r.code, r.text).toBe(1);
    expect(r.text).toMatch(/ray-config\.yaml not written: 1 of 3 hosts could not be used/);
    expect(r.text).toMatch(
      /ray-(head|worker-\d) \(10\.88\.0\.1\d\): host key ssh-ed25519 SHA256:\S+ of 10\.88\.0\.1\d was not trusted/,
    );
    expect(existsSync(config)).toBe(false);
    expect(existsSync(join(dir, 'known_hosts'))).toBe(false);

    const piped = await nokube(['ray', 'init', ...hostFlags, '--config', config, ...login], env());
    expect(piped.code, piped.stderr).toBe(1);
    expect(piped.stderr).toContain('There is no terminal to ask on about new host keys: pass --accept-new');
    expect(existsSync(config)).toBe(false);
  }, 300_000);

  it('--accept-new still refuses a changed key (one on record that the host no longer offers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    const config = join(dir, 'ray-config.yaml');
    // nkh2 on record with nkh1's key: what a man in the middle (or a reinstalled host) looks like
    const nkh1Key = testHost('nkh1', info).host_keys.find((k) => k.startsWith('ssh-ed25519'))!;
    const known = join(dir, 'old_known_hosts');
    writeFileSync(known, `${testHost('nkh2', info).ip} ${nkh1Key}\n`);
    const r = await nokube(
      ['ray', 'init', ...hostFlags, '--accept-new', '--known-hosts', known, '--config', config, ...login],
      env(),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ray-worker-1 \(10\.88\.0\.12\): REMOTE HOST KEY CHANGED/);
    expect(r.stderr).not.toMatch(/ray-worker-1 \(10\.88\.0\.12:22\): new ED25519 key/);
    expect(existsSync(config)).toBe(false);
  }, 300_000);

  it('keeps an existing config unless --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    const config = join(dir, 'ray-config.yaml');
    writeFileSync(config, '# mine\n');
    const kept = await nokube(['ray', 'init', ...hostFlags, '--accept-new', '--config', config, ...login], env());
    expect(kept.code).toBe(2);
    expect(kept.stderr).toContain(`${config} exists: init never replaces a config unless told to (--force)`);
    expect(readFileSync(config, 'utf8')).toBe('# mine\n');
    const forced = await nokube(
      ['ray', 'init', ...hostFlags, '--accept-new', '--force', '--config', config, ...login],
      env(),
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(config, 'utf8')).toContain("name: 'ray-head'");
  }, 300_000);

  it("the README's newcomer path, as written (hosts and login put in): init, start, job, dashboard", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-newcomer-'));
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const ips = HOSTS.map((h) => testHost(h, info).ip);
    // the README's example addresses are the test hosts here; the login is the test hosts' own
    const args = (line: string) => {
      const words = shellWords(line.replace(/10\.0\.0\.([567])\b/g, (_, n: string) => ips[Number(n) - 5])).slice(1);
      const at = words.includes('--') ? words.indexOf('--') : words.length;
      return [...words.slice(0, at), ...login, ...words.slice(at)];
    };
    const run = (line: string) => {
      const r = spawnSync('node', [CLI, ...args(line)], {
        cwd: dir,
        env: { ...process.env, ...env() },
        encoding: 'utf8',
        timeout: 300_000,
      });
      return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
    };
    const [, init, start, job, dashboard] = newcomerCommands(readme);
    const asked = inPty(args(init), ['yes', 'yes', 'yes'], env(), dir);
    expect(asked.code, asked.text).toBe(0);
    expect(asked.text.match(/\[y\/N\]/g)).toHaveLength(3);
    try {
      const started = run(start);
      expect(started.code, started.out).toBe(0);
      expect(started.out).toMatch(/healthy/);
      const submitted = run(job);
      expect(submitted.code, submitted.out).toBe(0);
      expect(submitted.out).toMatch(/'CPU': \d+\.0/);
      // dashboard: held open until Ctrl-C; the dashboard answers at the address it prints
      const child = spawn('node', [CLI, ...args(dashboard)], { cwd: dir, env: { ...process.env, ...env() } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      for (let i = 0; i < 600 && !out.includes('http://127.0.0.1:8265'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('http://127.0.0.1:8265');
      // as a browser does: the printed one-time URL sets the cookie that proves the user
      const link = out.match(/http:\/\/127\.0\.0\.1:8265\/\?nokube_token=[\w-]+/)?.[0];
      expect(link, out).toBeTruthy();
      const login = await fetch(link!, { redirect: 'manual' });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      expect(cookie).toMatch(/=/);
      const answer = await fetch('http://127.0.0.1:8265/api/version', { headers: { cookie } });
      const version = (await answer.json()) as { ray_version: string };
      expect(version.ray_version).toBe('2.60.0');
      child.kill('SIGINT');
      expect(await exit).toBe(0);
    } finally {
      run('nokube ray stop');
    }
  }, 600_000);
});
