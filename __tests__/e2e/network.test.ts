// Reaching nodes where they are, on real sshd + Ray test hosts: a cluster behind a bastion on a
// bridge the test process cannot reach, jump hosts that are unreachable, unknown, changed or refuse
// forwarding, and a node whose sshd has no SFTP. The suite adds its own hosts once and removes them.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import {
  TESTHOSTS_DIR,
  e2eEnabled,
  hostExec,
  rayStopAll,
  requireTestHosts,
  testHost,
  testhosts,
  type HostsInfo,
  type TestHost,
} from './hosts';

/** The suite's own hosts, with testhosts.sh flags. */
const EXTRA: Record<string, string[]> = {
  nkjump: ['--bastion', '--no-ray'], // on both bridges
  nkin1: ['--inner'], // only behind nkjump
  nkin2: ['--inner'],
  nknofwd: ['--no-forwarding', '--no-ray'], // a jump host with AllowTcpForwarding no
  nknosftp: ['--no-sftp', '--ipv6'], // a Ray node whose sshd has no sftp subsystem
  nkv6: ['--ipv6'], // an IPv6 address beside its IPv4 one
};

/** The Ray release before IPv6 support, installed by scripts/setup-test-env.sh. */
const OLD_RAY = '2.48.0';

/** Ray's alive nodes as the head itself sees them (its own state API, not nokube). */
function aliveOnHead(host: TestHost, storage: string): string[] {
  const py = `
import json, os
tok = '${storage}/state/auth_token'
os.environ['RAY_AUTH_MODE'] = 'token' if os.path.exists(tok) else 'disabled'
if os.environ['RAY_AUTH_MODE'] == 'token':
    os.environ['RAY_AUTH_TOKEN'] = open(tok).read().strip()
import ray
ray.init(address='${host.ip}:6379', logging_level='ERROR')
print(json.dumps(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive'])))
`;
  const r = hostExec(host.name, ['python3', '-c', py], { user: 'nokube' });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** Logins sshd accepted on a host so far (its log). */
function acceptedLogins(name: string): number {
  const log = readFileSync(join(TESTHOSTS_DIR, name, 'sshd.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('Accepted publickey')).length;
}

describe.skipIf(!e2eEnabled)('jump hosts, servers without SFTP, IPv6 nodes, ~/.ssh/config', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let jump: TestHost;
  let in1: TestHost;
  let in2: TestHost;
  const cfg = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (cmd: string, file: string, more: string[] = [], env: Record<string, string> = {}): Promise<CliRun> =>
    nokube(['ray', cmd, '--config', file, ...flags, '--json', ...more], env);
  const behindBastion = (extra = '', nodeExtra = '') => `ray_spec:
  cluster_name: e2e-net
${extra}nodes:
  - ssh_url: "${in1.ip}:22"
    name: inner-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/head}
${nodeExtra}  - ssh_url: "${in2.ip}"
    name: inner-worker
    role: worker
    ray_config: {num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/w}
`;

  beforeAll(() => {
    for (const [name, f] of Object.entries(EXTRA)) {
      const r = testhosts('add', name, ...f);
      if (r.code !== 0) throw new Error(`testhosts add ${name} failed: ${r.stderr}`);
    }
    info = requireTestHosts();
    rayStopAll(info);
    jump = testHost('nkjump', info);
    in1 = testHost('nkin1', info);
    in2 = testHost('nkin2', info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-e2e-net-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
  }, 600_000); // six hosts, each with fresh host keys: minutes on a loaded machine

  afterAll(() => {
    if (info) rayStopAll(requireTestHosts());
    for (const name of Object.keys(EXTRA)) testhosts('rm', name);
  }, 300_000);

  it('the inner hosts cannot be reached without the bastion', async () => {
    const r = await cli('status', cfg('direct.yaml', behindBastion()));
    expect(r.code).toBe(1);
    expect(r.json!.nodes.map((n) => `${n.name}:${n.state}`)).toEqual([
      'inner-head:unreachable',
      'inner-worker:unreachable',
    ]);
  });

  it('start through ray_spec.proxy_jump: healthy, one bastion login for both nodes, Ray direct between nodes', async () => {
    const before = acceptedLogins('nkjump');
    const file = cfg('jump.yaml', behindBastion(`  proxy_jump: nokube@${jump.ip}:22\n`));
    const r = await cli('start', file);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    expect(r.json!['alive-nodes']).toBe(2);
    expect(r.json!['head-address']).toBe(`${in1.ip}:6379`);
    // One connection to the bastion carried both nodes' SSH.
    expect(acceptedLogins('nkjump') - before).toBe(1);
    // The worker registered with the head at its own inner address: Ray's traffic did not go via the bastion,
    // which has no Ray and no route for it.
    expect(aliveOnHead(in1, '/opt/nokube/data/ray/head')).toEqual([in1.ip, in2.ip].sort());
    expect(hostExec('nkjump', 'pgrep -x raylet || true').stdout.trim()).toBe('');
  });

  it('--proxy-jump covers a config without proxy_jump; a two-hop chain works too', async () => {
    const file = cfg('plain.yaml', behindBastion());
    const r = await cli('status', file, ['--proxy-jump', `nokube@${jump.ip}`]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    // Hop 2 is the bastion again, by its inner address, reached through hop 1: each hop verified and logged in.
    const chain = await cli('status', file, ['--proxy-jump', `${jump.ip},nokube@${jump.inner_ip}:22`]);
    expect(chain.code, chain.stderr + chain.stdout).toBe(0);
    expect(chain.json!.status).toBe('healthy');
  });

  it('ssh_url names a Host of ~/.ssh/config (through Include): HostName, User, IdentityFile, ProxyJump, UserKnownHostsFile as ssh would, and Ray gets the HostName', async () => {
    const home = mkdtempSync(join(tmpdir(), 'nokube-e2e-home-'));
    mkdirSync(join(home, '.ssh', 'config.d'), { recursive: true, mode: 0o700 });
    copyFileSync(info.client.keys.ed25519, join(home, '.ssh', 'id_test'));
    chmodSync(join(home, '.ssh', 'id_test'), 0o600);
    copyFileSync(info.client.known_hosts, join(home, '.ssh', 'test_known_hosts'));
    // The GPU hosts live in an included file, as site-wide host lists often do.
    writeFileSync(
      join(home, '.ssh', 'config.d', 'gpu.conf'),
      `Host gpu-head
  HostName ${in1.ip}
  ProxyJump bastion
Host gpu-worker
  HostName ${in2.ip}
  ProxyJump bastion
`,
    );
    writeFileSync(
      join(home, '.ssh', 'config'),
      `Include config.d/*.conf
Host bastion
  HostName ${jump.ip}
Match host gpu-*
  User not-this-one
Host *
  User nokube
  IdentityFile ~/.ssh/id_test
  UserKnownHostsFile ~/.ssh/test_known_hosts
`,
    );
    const file = cfg(
      'aliases.yaml',
      behindBastion().replace(`"${in1.ip}:22"`, 'gpu-head').replace(`"${in2.ip}"`, 'gpu-worker'),
    );
    // No --user, --identity or --known-hosts: everything comes from the ssh config, as for `ssh gpu-head`.
    const env = { HOME: home, SSH_AUTH_SOCK: '', NOKUBE_DEBUG: '1' };
    const r = await nokube(['ray', 'start', '--config', file, '--json'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    expect(r.stderr).toMatch(/skipping "Match host gpu-\*"/);
    // The aliases mean the addresses the cluster already runs with: nothing to restart.
    expect(r.json!.changes).toBe(0);
    // Ray and the user are given the HostName, never the alias only this machine's ssh config knows.
    expect(r.json!['head-address']).toBe(`${in1.ip}:6379`);
    expect(r.json!['dashboard-url']).toBe(`http://${in1.ip}:8265`);
    expect((r.json!.nodes as unknown as { host: string }[]).map((n) => n.host)).toEqual([in1.ip, in2.ip]);
    expect(aliveOnHead(in1, '/opt/nokube/data/ray/head')).toEqual([in1.ip, in2.ip].sort());
    const status = await nokube(['ray', 'status', '--config', file], env);
    expect(status.code, status.stderr + status.stdout).toBe(0);
    expect(status.stdout).toContain(`${in1.ip}:6379`);
    expect(status.stdout).not.toMatch(/gpu-head:6379|\/\/gpu-head/);
  });

  it('a node-level proxy_jump: none connects that node directly', async () => {
    const text = behindBastion(`  proxy_jump: nokube@${jump.ip}\n`, '');
    const file = cfg('none.yaml', text.replace('name: inner-worker', 'name: inner-worker\n    proxy_jump: none'));
    const r = await cli('status', file);
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(r.json!.nodes.map((n) => [n.name, n.state]));
    expect(byName).toEqual({ 'inner-head': 'running', 'inner-worker': 'unreachable' });
  });

  it('stop through the bastion leaves no Ray on the inner hosts', async () => {
    const r = await cli('stop', cfg('stop.yaml', behindBastion(`  proxy_jump: nokube@${jump.ip}\n`)));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('stopped');
    for (const h of ['nkin1', 'nkin2']) expect(hostExec(h, 'pgrep -x raylet || true').stdout.trim()).toBe('');
  });

  it('an unreachable jump host is named as the hop, for every node behind it', async () => {
    const file = cfg('unreach.yaml', behindBastion(`  proxy_jump: ${jump.ip}:2222\n`));
    const r = await cli('status', file);
    expect(r.code).toBe(1);
    const errors = r.json!.errors!;
    expect(errors.map((e) => e.node).sort()).toEqual(['inner-head', 'inner-worker']);
    for (const e of errors) {
      expect(e.message).toContain(`jump host ${jump.ip}:2222`);
      expect(e.message).toMatch(/ECONNREFUSED|refused/);
      expect(e.hint).toMatch(/sshd running/);
    }
  });

  it('a jump host whose key is unknown, or changed, is refused as the hop', async () => {
    const noBastion = readFileSync(info.client.known_hosts, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`${jump.ip} `))
      .join('\n');
    const unknownKh = cfg('kh-unknown', noBastion);
    const file = cfg('hop-key.yaml', behindBastion(`  proxy_jump: ${jump.ip}\n`));
    const flagsWith = (kh: string) => flags.map((f) => (f === info.client.known_hosts ? kh : f));
    const unknown = await nokube(['ray', 'status', '--config', file, ...flagsWith(unknownKh), '--json']);
    expect(unknown.code).toBe(1);
    const e1 = unknown.json!.errors![0];
    expect(e1.message).toContain(`host key of jump host ${jump.ip} (${jump.ip}:22) is not known`);
    expect(e1.hint).toContain(`${jump.ip} ssh-ed25519 `);

    // The bastion's address, recorded with another host's keys: a changed key, fatal even with the skip flag.
    const other = testHost('nkin1', info);
    const changedKh = cfg('kh-changed', `${noBastion}\n${other.host_keys.map((k) => `${jump.ip} ${k}`).join('\n')}\n`);
    const changed = await nokube([
      'ray',
      'status',
      '--config',
      file,
      ...flagsWith(changedKh),
      '--insecure-skip-host-key-check',
      '--json',
    ]);
    expect(changed.code).toBe(1);
    expect(changed.json!.errors![0].message).toContain(
      `REMOTE HOST KEY CHANGED for jump host ${jump.ip} (${jump.ip}:22)`,
    );
  });

  it('a jump host that refuses forwarding (AllowTcpForwarding no) is named, with what to change', async () => {
    const nofwd = testHost('nknofwd', info);
    const r = await cli('status', cfg('nofwd.yaml', behindBastion(`  proxy_jump: nokube@${nofwd.ip}\n`)));
    expect(r.code).toBe(1);
    for (const e of r.json!.errors!) {
      expect(e.message).toContain(`jump host nokube@${nofwd.ip} refuses to forward connections`);
      expect(e.hint).toContain('AllowTcpForwarding yes');
    }
  });

  it('a chain longer than 3 hops is a config error at the key (exit 2)', async () => {
    const file = cfg('long.yaml', behindBastion('  proxy_jump: a,b,c,d\n'));
    const r = await nokube(['ray', 'validate', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/long\.yaml:3:\d+.*proxy_jump has 4 hops; at most 3/s);
  });

  it('a node without SFTP: remote_lib goes over the exec channel (hash-checked), and the node starts', async () => {
    const host = testHost('nknosftp', info);
    // What a new user meets first: OpenSSH's own sftp is refused there.
    const sftp = spawnSync(
      'sftp',
      [
        '-b',
        '-',
        '-o',
        `UserKnownHostsFile=${info.client.known_hosts}`,
        '-i',
        info.client.keys.ed25519,
        `nokube@${host.ip}`,
      ],
      { input: 'pwd\n', encoding: 'utf8', timeout: 30_000 },
    );
    expect(sftp.status).not.toBe(0);
    expect(sftp.stderr).toMatch(/subsystem request failed/);
    const file = cfg(
      'nosftp.yaml',
      `ray_spec: {cluster_name: e2e-nosftp}
nodes:
  - ssh_url: "${host.ip}:22"
    name: plain-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/head}
`,
    );
    const r = await cli('start', file, [], { NOKUBE_DEBUG: '1' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    expect(r.stderr).toMatch(/moving files over the exec channel instead \(no SFTP\)/);
    const lib = hostExec(host.name, 'sha256sum /opt/nokube/data/ray/head/lib/nokube_remote.*.py');
    expect(lib.code, lib.stderr).toBe(0);
    const [sum, path] = lib.stdout.trim().split(/\s+/);
    // The file name carries the first 12 hex digits of its content's sha256.
    expect(path).toMatch(new RegExp(`nokube_remote\\.${sum.slice(0, 12)}\\.py$`));
    const stop = await cli('stop', file);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
  });

  it('IPv6 nodes ([fd00::n]:22): reached, started, joined over IPv6, checked, stopped', async () => {
    const head = testHost('nkv6', info);
    const worker = testHost('nknosftp', info);
    const file = cfg(
      'v6.yaml',
      `ray_spec: {cluster_name: e2e-v6}
nodes:
  - ssh_url: "[${head.ipv6}]:22"
    name: v6-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/v6head}
  - ssh_url: "[${worker.ipv6}]"
    name: v6-worker
    role: worker
    ray_config: {num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/v6w}
`,
    );
    const r = await cli('start', file);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json!.status).toBe('healthy');
    expect(r.json!['head-address']).toBe(`[${head.ipv6}]:6379`);
    expect(r.json!['client-address']).toBe(`ray://[${head.ipv6}]:10001`);
    // Ray's own view, from inside the head: both nodes registered at their IPv6 addresses.
    const py = `
import json, os
tok = '/opt/nokube/data/ray/v6head/state/auth_token'
os.environ['RAY_AUTH_MODE'] = 'token' if os.path.exists(tok) else 'disabled'
if os.environ['RAY_AUTH_MODE'] == 'token':
    os.environ['RAY_AUTH_TOKEN'] = open(tok).read().strip()
import ray
ray.init(address='[${head.ipv6}]:6379', logging_level='ERROR')
print(json.dumps(sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive'])))
`;
    const table = hostExec('nkv6', ['python3', '-c', py], { user: 'nokube' });
    expect(table.code, table.stderr).toBe(0);
    expect(JSON.parse(table.stdout.trim().split('\n').at(-1)!)).toEqual([head.ipv6, worker.ipv6].sort());
    const st = await cli('status', file);
    expect(st.code, st.stderr + st.stdout).toBe(0);
    const stop = await cli('stop', file);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    expect(hostExec('nkv6', 'pgrep -x raylet || true').stdout.trim()).toBe('');
  });

  it('a node whose Ray predates IPv6 (Ray 2.48): preflight names it and what to set, and starts nothing', async () => {
    // A real Ray 2.48.0 (scripts/setup-test-env.sh): it builds "fd00::n:6379" as its GCS address and fails.
    const old = `/opt/nokube-ray-${OLD_RAY}/bin/python`;
    expect(existsSync(old), `${old} is missing: run scripts/setup-test-env.sh`).toBe(true);
    const host = testHost('nkv6', info);
    const text = `ray_spec: {cluster_name: e2e-oldv6, python: ${old}}
nodes:
  - ssh_url: "[${host.ipv6}]:22"
    name: old-ray-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/oldv6}
`;
    const r = await cli('start', cfg('oldv6.yaml', text));
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const [e] = r.json!.errors!;
    expect(e.node).toBe('old-ray-head');
    expect(e.message).toBe(
      `Ray ${OLD_RAY} on old-ray-head cannot run on IPv6: its Ray address would be ${host.ipv6} (from its ssh_url), and Ray runs on IPv6 only from 2.49.0`,
    );
    expect(e.hint).toMatch(/^set ray_config\.node_ip_address of old-ray-head to its IPv4 address/);
    expect(hostExec('nkv6', 'pgrep -x raylet || true').stdout.trim()).toBe(''); // nothing was started
  });
});
