/**
 * Test hosts for end-to-end tests (SPEC section 8), made by `scripts/testhosts.sh` and brought up by
 * `__tests__/e2e/global-setup.ts`.
 *
 * Layout (bridge nkbr0, the test process is at 10.88.0.1):
 *
 * | host   | ip          | ssh | Ray on PATH                      |
 * | ------ | ----------- | --- | -------------------------------- |
 * | nkh1   | 10.88.0.11  | 22  | yes (/opt/nokube-venv, 2.60.0)   |
 * | nkh2   | 10.88.0.12  | 22  | yes                              |
 * | nkh3   | 10.88.0.13  | 22  | yes                              |
 * | nkh4   | 10.88.0.14  | 22  | yes                              |
 * | nkbare | 10.88.0.100 | 22  | no (/usr/bin/python3, no ray)    |
 *
 * (`NOKUBE_TEST_HOSTS=N` changes the number of Ray hosts.) Each host has its own network, PID, mount
 * and UTS namespace, its own sshd host keys (pinned in `client.known_hosts`), and private /tmp,
 * /dev/shm, /run, /home, /opt/nokube and crontab spool (/opt/nokube is root-owned, /opt/nokube/data is
 * owned by `nokube`; all fresh after every `up`). Users: `nokube` / `nokube-test-pw` with the three
 * client keys authorized (ed25519 OpenSSH, rsa PEM, ecdsa OpenSSH with passphrase `nokube-pass`), and
 * `nokubepw` / `nokube-pw-only` (password only). Never run `ray stop` outside a host: use
 * `hostExec(name, 'ray stop')`.
 *
 * Host kinds a test adds with `testhosts('add', NAME, ...flags)` (each in hosts.json, see TestHost):
 * - `--cron`: Debian's cron runs at boot; `crontab -` of `nokube` works, `@reboot` entries run at boot.
 * - `--decoy-python`: the login PATH (ssh exec and `bash -l`) starts with `~/.pyenv/shims`, whose
 *   `python`/`python3` are /usr/bin/python3 without Ray; Ray stays in /opt/nokube-venv (`ray` on PATH).
 * - `--firewall`: nftables table `inet nokube_test` (chain `input`, policy accept) at boot; see
 *   `dropPort`, `clearFirewall`, `nftApply` (they work on any host: nft runs in its network namespace).
 * - `--redis [--redis-password PW] [--redis-port P]`: Debian's redis-server on the host's IP and
 *   127.0.0.1, port 6379 by default, no persistence.
 * - `--systemd`: a Debian bookworm rootfs booted by systemd-nspawn (systemd is PID 1, sshd, root login
 *   by key), /opt/nokube-venv bound read-only, python3 3.11; same users, keys and host key pinning.
 *   Its first `add` builds the rootfs (about a minute), later ones copy it.
 * `rebootHost(name)`: every process of the host killed (a systemd host shut down cleanly first),
 * /tmp, /dev/shm and /run emptied, nft rules gone, then its boot (sshd, cron, redis) again; the name,
 * IP, host keys, /home, /opt/nokube and crontabs stay. `poweroffHost` and `bootHost` are its two halves,
 * for a machine that stays down a while.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TESTHOSTS_DIR =
  process.env.NOKUBE_TESTHOSTS_DIR ?? `${process.env.NOKUBE_TESTHOSTS_BASE ?? '/var/lib'}/nokube-testhosts`;
export const HOSTS_JSON = `${TESTHOSTS_DIR}/hosts.json`;
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TESTHOSTS_SH = resolve(REPO_ROOT, 'scripts', 'testhosts.sh');

export interface TestHost {
  name: string;
  ip: string;
  ssh_port: number;
  /** true when `python3` / `ray` on the host's PATH are Ray's venv */
  ray: boolean;
  /** "type base64" lines */
  host_keys: string[];
  /** false for hosts added with --no-sftp (sshd without the sftp subsystem) */
  sftp?: boolean;
  /** false for hosts added with --no-forwarding (AllowTcpForwarding no) */
  forwarding?: boolean;
  /** "inner": only on the second bridge (reached through a bastion); "bastion": on both */
  network?: 'main' | 'inner' | 'bastion';
  /** a bastion's address on the second bridge */
  inner_ip?: string;
  /** the host's IPv6 address (--ipv6) */
  ipv6?: string;
  /** cron runs at boot (--cron) */
  cron?: boolean;
  /** the nftables table `inet nokube_test` is made at boot (--firewall) */
  firewall?: boolean;
  /** the shim dir first on the login PATH, whose python has no Ray (--decoy-python) */
  decoy_python?: string;
  /** redis-server on the host's IP (--redis) */
  redis?: { port: number; password?: string };
  /** systemd is PID 1 (--systemd) */
  systemd?: boolean;
  /** root may log in with the client keys (--systemd hosts) */
  root_login?: boolean;
}

export interface HostsInfo {
  bridge_ip: string;
  hosts: TestHost[];
  client: {
    dir: string;
    known_hosts: string;
    keys: { ed25519: string; rsa: string; ecdsa: string };
    ecdsa_passphrase: string;
    user: string;
    password: string;
    password_only_user: string;
    password_only_password: string;
  };
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isCI = process.env.CI === 'true';

function reasonUnavailable(): string {
  if (process.platform !== 'linux') return `e2e tests need Linux namespaces (platform is ${process.platform})`;
  if (!isRoot) return 'e2e tests need root (network/PID namespaces for the test hosts); run as root to enable them';
  if (process.env.NOKUBE_SKIP_E2E === '1') return 'NOKUBE_SKIP_E2E=1';
  if (!existsSync(HOSTS_JSON)) return `${HOSTS_JSON} is missing: global setup did not bring up the test hosts`;
  return '';
}

/** Why e2e tests are skipped ('' when they run). */
export const e2eSkipReason: string = reasonUnavailable();
/** Use as `describe.skipIf(!e2eEnabled)(...)`. In CI (CI=true) a missing setup throws instead. */
export const e2eEnabled: boolean = e2eSkipReason === '';

if (!e2eEnabled) {
  if (isCI) {
    throw new Error(`E2E TESTS CANNOT RUN IN CI: ${e2eSkipReason}`);
  }
  console.warn(`\n*** SKIPPING E2E TESTS: ${e2eSkipReason} ***\n`);
}

/** Reads hosts.json. Throws (loudly) when the hosts are not available. */
export function requireTestHosts(): HostsInfo {
  if (!e2eEnabled) throw new Error(`test hosts unavailable: ${e2eSkipReason}`);
  const info = JSON.parse(readFileSync(HOSTS_JSON, 'utf8')) as HostsInfo;
  if (info.hosts.length === 0) {
    const msg = `no test hosts are up (${HOSTS_JSON} lists none); run: sudo ${TESTHOSTS_SH} up 4 --no-ray nkbare`;
    throw new Error(msg);
  }
  return info;
}

/** The host named `name` (throws when it is not up). */
export function testHost(name: string, info: HostsInfo = requireTestHosts()): TestHost {
  const h = info.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`test host ${name} is not up (have: ${info.hosts.map((x) => x.name).join(', ')})`);
  return h;
}

/** known_hosts lines (by IP) of the given hosts (all when omitted). */
export function knownHostsLines(info: HostsInfo = requireTestHosts(), names?: string[]): string {
  return info.hosts
    .filter((h) => !names || names.includes(h.name))
    .flatMap((h) => h.host_keys.map((k) => `${h.ip} ${k}`))
    .join('\n');
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs `cmd` inside host `name` (its network, PID, mount and UTS namespaces) via
 * `testhosts.sh exec`. A string is run by `bash -c`; an array is run as argv. Root by default.
 */
export function hostExec(
  name: string,
  cmd: string | string[],
  opts: { user?: string; input?: string; timeoutMs?: number } = {},
): ExecResult {
  const argv = typeof cmd === 'string' ? ['bash', '-c', cmd] : cmd;
  const args = ['exec', name, ...(opts.user ? ['--user', opts.user] : []), '--', ...argv];
  const r = spawnSync(TESTHOSTS_SH, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
}

/** Runs a `testhosts.sh` sub-command (up/down/add/rm/status) from the test process. */
export function testhosts(...args: string[]): ExecResult {
  const r = spawnSync(TESTHOSTS_SH, args, { encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
}

/** Stops Ray inside each host's PID namespace (safe: only that host's processes are visible). */
export function rayStopAll(info: HostsInfo = requireTestHosts()): void {
  for (const h of info.hosts.filter((x) => x.ray)) {
    // nokube's supervisors first: they would start Ray again behind this
    hostExec(
      h.name,
      'pkill -KILL -u nokube -f supervise-; ray stop --force >/dev/null 2>&1; pkill -KILL -u nokube -f "ray|raylet|gcs_server" || true',
    );
  }
}

/** Reboots host `name` (`testhosts.sh reboot`): returns when its sshd answers again; throws otherwise. */
export function rebootHost(name: string, opts: { hard?: boolean } = {}): void {
  const r = testhosts('reboot', name, ...(opts.hard ? ['--hard'] : []));
  if (r.code !== 0) throw new Error(`testhosts.sh reboot ${name} failed (${r.code}): ${r.stderr}`);
}

/** Powers host `name` off (`testhosts.sh poweroff`): down, unreachable, still in hosts.json, until `bootHost`. */
export function poweroffHost(name: string, opts: { hard?: boolean } = {}): void {
  const r = testhosts('poweroff', name, ...(opts.hard ? ['--hard'] : []));
  if (r.code !== 0) throw new Error(`testhosts.sh poweroff ${name} failed (${r.code}): ${r.stderr}`);
}

/** Boots a powered-off host (`testhosts.sh boot`): returns when its sshd answers; throws otherwise. */
export function bootHost(name: string): void {
  const r = testhosts('boot', name);
  if (r.code !== 0) throw new Error(`testhosts.sh boot ${name} failed (${r.code}): ${r.stderr}`);
}

/**
 * Runs `cmd` on `host` over real SSH from the test process, as a user would (the client's ed25519
 * key, host keys checked against `client.known_hosts`). `nokube` by default.
 */
export function sshExec(
  host: TestHost,
  cmd: string,
  opts: { user?: string; timeoutMs?: number; info?: HostsInfo } = {},
): ExecResult {
  const info = opts.info ?? requireTestHosts();
  const args = ['-i', info.client.keys.ed25519, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'];
  args.push('-o', `UserKnownHostsFile=${info.client.known_hosts}`, '-o', 'StrictHostKeyChecking=yes');
  args.push('-o', 'ConnectTimeout=5', '-p', String(host.ssh_port), `${opts.user ?? info.client.user}@${host.ip}`);
  const r = spawnSync('ssh', [...args, cmd], { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
}

const NFT_TABLE = 'inet nokube_test';
const NFT_INPUT = `add table ${NFT_TABLE}\nadd chain ${NFT_TABLE} input { type filter hook input priority 0; policy accept; }\n`;

/** The machine's nft in the host's network namespace: the same for every host kind (a --systemd
 * host's rootfs has no nft of its own). */
function nft(target: string, script: string): void {
  const r = spawnSync('ip', ['netns', 'exec', target, 'nft', '-f', '-'], {
    encoding: 'utf8',
    input: script,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`nft on ${target} failed (${r.status}): ${r.stderr}\n${script}`);
}

/**
 * Host `target` drops (or with `reject`, refuses with a TCP reset) TCP from `fromIp` to its `port`, in
 * its own packet filter (its network namespace), as a firewall on that machine would.
 */
export function dropPort(target: string, fromIp: string, port: number, opts: { reject?: boolean } = {}): void {
  const verdict = opts.reject ? 'reject with tcp reset' : 'drop';
  nft(target, `${NFT_INPUT}add rule ${NFT_TABLE} input ip saddr ${fromIp} tcp dport ${port} ${verdict}\n`);
}

/** Removes every rule `dropPort` / `nftApply` added on `target` (its whole nftables ruleset). */
export function clearFirewall(target: string): void {
  nft(target, 'flush ruleset\n');
}

/** Loads an nftables ruleset (`nft -f` syntax, e.g. `nokube ray firewall --format nftables`) on `target`. */
export function nftApply(target: string, ruleset: string): void {
  nft(target, ruleset);
}
