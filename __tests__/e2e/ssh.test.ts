// src/ssh against real OpenSSH servers (the project's test hosts, __tests__/e2e/hosts.ts): key and
// password logins, user order, key selection, host key verification, exec, SFTP.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec, UserSpec } from '../../src/config/types';
import type { PrivateKeySource, Reporter, SshOptions } from '../../src/engine/types';
import { connectNode, SshError, type NodeConnection } from '../../src/ssh';
import {
  e2eEnabled,
  hostExec,
  knownHostsLines,
  requireTestHosts,
  testHost,
  TESTHOSTS_DIR,
  type HostsInfo,
} from './hosts';

interface Log {
  warn: string[];
  debug: string[];
  secrets: string[];
}

function reporter(): Reporter & { log: Log } {
  const log: Log = { warn: [], debug: [], secrets: [] };
  return {
    log,
    node: () => undefined,
    info: () => undefined,
    warn: (m) => log.warn.push(m),
    debug: (m) => log.debug.push(m),
    secret: (v) => log.secrets.push(v),
  };
}

function nodeSpec(ip: string, extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: 'n1',
    role: 'head',
    sshUrl: `${ip}:22`,
    host: ip,
    sshPort: 22,
    ray: {},
    storage: { type: 'local' },
    users: [],
    index: 0,
    pos: { line: 1, col: 1 },
    ...extra,
  };
}

const user = (userid: string, cred: { password?: string; sshkey?: string }): UserSpec => ({
  userid,
  ...cred,
  pos: { line: 1, col: 1 },
});

async function rejection(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    return err as SshError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!e2eEnabled)('ssh against the test hosts', () => {
  let info: HostsInfo;
  let ip: string;
  let keys: { ed25519: PrivateKeySource; rsa: PrivateKeySource; ecdsa: PrivateKeySource };
  let pub: { ed25519: string; rsa: string; ecdsa: string };
  let knownHosts: string;
  let tmp: string;
  const open: NodeConnection[] = [];

  const base = (o: Partial<SshOptions> = {}): SshOptions => ({
    identities: [keys.ed25519],
    knownHosts,
    insecureSkipHostKeyCheck: false,
    defaultUser: info.client.user,
    connectTimeoutSec: 10,
    ...o,
  });
  const connect = async (
    node: NodeSpec,
    opts: SshOptions,
    env: Record<string, string | undefined> = {},
    rep = reporter(),
  ) => {
    const c = await connectNode(node, opts, { env, reporter: rep });
    open.push(c);
    return c;
  };

  beforeAll(() => {
    info = requireTestHosts();
    ip = testHost('nkh1', info).ip;
    const k = info.client.keys;
    keys = {
      ed25519: { label: 'id_ed25519 input #1', key: readFileSync(k.ed25519, 'utf8') },
      rsa: { label: 'id_rsa input #2', key: readFileSync(k.rsa, 'utf8') },
      ecdsa: { label: 'id_ecdsa input #3', key: readFileSync(k.ecdsa, 'utf8') },
    };
    pub = {
      ed25519: readFileSync(`${k.ed25519}.pub`, 'utf8').trim(),
      rsa: readFileSync(`${k.rsa}.pub`, 'utf8').trim(),
      ecdsa: readFileSync(`${k.ecdsa}.pub`, 'utf8').trim(),
    };
    knownHosts = knownHostsLines(info);
    tmp = mkdtempSync(join(tmpdir(), 'nokube-ssh-e2e-'));
  });

  afterAll(() => {
    for (const c of open) c.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('logs in with an ed25519 key and runs commands: stdout, stderr, exit code, stdin', async () => {
    const rep = reporter();
    const c = await connect(nodeSpec(ip), base(), {}, rep);
    expect(c.user).toBe('nokube');
    expect(c.host).toBe(ip);
    expect(c.authMethod).toBe('publickey ssh-ed25519 (id_ed25519 input #1)');
    expect(c.hostKey.via).toMatch(/^known_hosts line \d+$/);
    const r = await c.exec('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ code: 0 + 3, stdout: 'out\n', stderr: 'err\n' });
    const cat = await c.exec('cat; printf "|%s" "$(hostname)"', { stdin: 'from stdin ✓\n' });
    expect(cat.stdout).toBe('from stdin ✓\n|nkh1');
    expect(rep.log.secrets).toContain(keys.ed25519.key);
    expect(rep.log.debug.some((m) => m.includes('$ cat;'))).toBe(true);
    expect(rep.log.debug.join('\n')).not.toContain('from stdin');
  });

  it('logs in with a PEM RSA key', async () => {
    const c = await connect(nodeSpec(ip), base({ identities: [keys.rsa] }));
    expect(c.authMethod).toBe('publickey ssh-rsa (id_rsa input #2)');
    expect((await c.exec('id -un')).stdout).toBe('nokube\n');
  });

  it('logs in with a passphrase-protected ECDSA key; a missing or wrong passphrase names the key', async () => {
    const rep = reporter();
    const c = await connect(
      nodeSpec(ip),
      base({ identities: [keys.ecdsa], passphrase: info.client.ecdsa_passphrase }),
      {},
      rep,
    );
    expect(c.authMethod).toBe('publickey ecdsa-sha2-nistp256 (id_ecdsa input #3)');
    expect(rep.log.secrets).toContain(info.client.ecdsa_passphrase);

    const missing = await rejection(
      connectNode(nodeSpec(ip), base({ identities: [keys.ecdsa] }), { env: {}, reporter: reporter() }),
    );
    expect(missing.kind).toBe('config');
    expect(missing.message).toContain('id_ecdsa input #3 is encrypted and no passphrase was given');
    const wrong = await rejection(
      connectNode(nodeSpec(ip), base({ identities: [keys.ecdsa], passphrase: 'not-it' }), {
        env: {},
        reporter: reporter(),
      }),
    );
    expect(wrong.message).toContain('id_ecdsa input #3 could not be decrypted');
    expect(wrong.message).not.toContain('not-it');
    expect(wrong.message).not.toContain('PRIVATE KEY');
  });

  it('logs in with a ${NAME} password from the environment, registered as a secret', async () => {
    const rep = reporter();
    const node = nodeSpec(ip, { users: [user('nokube', { password: '${NK_TEST_PW}' })] });
    const c = await connect(node, base({ identities: [] }), { NK_TEST_PW: info.client.password }, rep);
    expect(c.authMethod).toBe('password');
    expect(rep.log.secrets).toContain(info.client.password);
    expect((await c.exec('id -un')).stdout).toBe('nokube\n');

    const unset = await rejection(connectNode(node, base(), { env: {}, reporter: reporter() }));
    expect(unset.kind).toBe('config');
    expect(unset.message).toContain('NK_TEST_PW');
    expect(unset.message).toContain('n1');
  });

  it('tries users in order and records every method tried', async () => {
    const node = nodeSpec(ip, {
      users: [
        user('nokube', { password: '${BAD_PW}' }),
        user(info.client.password_only_user, { password: '${GOOD_PW}' }),
      ],
    });
    const c = await connect(node, base({ identities: [] }), {
      BAD_PW: 'wrong-password',
      GOOD_PW: info.client.password_only_password,
    });
    expect(c.user).toBe('nokubepw');
    expect(c.methodsTried).toEqual(['password as nokube', 'password as nokubepw']);
    expect((await c.exec('id -un')).stdout).toBe('nokubepw\n');
  });

  it('fails auth with kind auth, the methods tried and a hint', async () => {
    const node = nodeSpec(ip, { users: [user('nokubepw', { sshkey: pub.ed25519 })] });
    const err = await rejection(connectNode(node, base(), { env: {}, reporter: reporter() }));
    expect(err.kind).toBe('auth');
    expect(err.user).toBe('nokubepw');
    expect(err.methodsTried).toEqual(['publickey ssh-ed25519 (id_ed25519 input #1) as nokubepw']);
    expect(err.hint).toContain(`ssh -v nokubepw@${ip} -p 22`);
  });

  it("picks the private key whose public half is the user's sshkey", async () => {
    const opts = base({ identities: [keys.ecdsa, keys.ed25519, keys.rsa], passphrase: info.client.ecdsa_passphrase });
    const rsa = await connect(nodeSpec(ip, { users: [user('nokube', { sshkey: pub.rsa })] }), opts);
    expect(rsa.methodsTried).toEqual(['publickey ssh-rsa (id_rsa input #2) as nokube']);
    const ecdsa = await connect(nodeSpec(ip, { users: [user('nokube', { sshkey: pub.ecdsa })] }), opts);
    expect(ecdsa.authMethod).toBe('publickey ecdsa-sha2-nistp256 (id_ecdsa input #3)');

    const fp = execFileSync('ssh-keygen', ['-lf', `${info.client.keys.rsa}.pub`], { encoding: 'utf8' }).split(' ')[1];
    const none = await rejection(
      connectNode(
        nodeSpec(ip, { users: [user('nokube', { sshkey: pub.rsa })] }),
        base({ identities: [keys.ed25519] }),
        {
          env: {},
          reporter: reporter(),
        },
      ),
    );
    expect(none.kind).toBe('config');
    expect(none.message).toContain('user nokube');
    expect(none.message).toContain(fp);
  });

  it('uses ssh-agent keys, and only the one sshkey names', async () => {
    const sock = join(tmp, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    expect(pid).toBeTruthy();
    try {
      const add = spawnSync('ssh-add', [info.client.keys.rsa], {
        env: { ...process.env, SSH_AUTH_SOCK: sock },
        encoding: 'utf8',
      });
      expect(add.status).toBe(0);
      const viaAgent = await connect(nodeSpec(ip), base({ identities: [], agentSocket: sock }));
      expect(viaAgent.authMethod).toBe('agent');
      const picked = await connect(
        nodeSpec(ip, { users: [user('nokube', { sshkey: pub.rsa })] }),
        base({ identities: [keys.ed25519], agentSocket: sock }),
      );
      expect(picked.authMethod).toMatch(/^agent key ssh-rsa SHA256:/);
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  it('reports an agent that cannot be reached, after trying it', async () => {
    const err = await rejection(
      connectNode(nodeSpec(ip), base({ identities: [], agentSocket: join(tmp, 'no-agent.sock') }), {
        env: {},
        reporter: reporter(),
      }),
    );
    expect(err.kind).toBe('auth');
    expect(err.methodsTried).toEqual(['agent as nokube']);
    expect(err.message).toContain('ssh-agent');
  });

  it('refuses an unknown host key with its fingerprint and a known_hosts line', async () => {
    const err = await rejection(connectNode(nodeSpec(ip), base({ knownHosts: '' }), { env: {}, reporter: reporter() }));
    expect(err.kind).toBe('host-key');
    const hostKey = testHost('nkh1', info).host_keys[0]; // ed25519, asked for first
    expect(err.knownHostsLine).toBe(`${ip} ${hostKey}`);
    const fp = execFileSync('ssh-keygen', ['-lf', '-'], { input: `${ip} ${hostKey}\n`, encoding: 'utf8' }).split(
      ' ',
    )[1];
    expect(err.fingerprint).toBe(fp);
    expect(err.message).toContain(fp);
    expect(err.message).toContain('ssh-ed25519');
    expect(err.hint).toContain(`${ip} ${hostKey}`);
  });

  it('refuses a changed host key loudly', async () => {
    const other = testHost('nkh2', info)
      .host_keys.map((k) => `${ip} ${k}`)
      .join('\n');
    const err = await rejection(
      connectNode(nodeSpec(ip), base({ knownHosts: other }), { env: {}, reporter: reporter() }),
    );
    expect(err.kind).toBe('host-key-changed');
    expect(err.message).toContain('REMOTE HOST KEY CHANGED');
    expect(err.knownHostsLine).toBe(`${ip} ${testHost('nkh1', info).host_keys[0]}`);
  });

  it('connects to an unverified host only with insecureSkipHostKeyCheck, warning with the fingerprint', async () => {
    const rep = reporter();
    const c = await connect(nodeSpec(ip), base({ knownHosts: '', insecureSkipHostKeyCheck: true }), {}, rep);
    expect(c.hostKey.via).toContain('NOT VERIFIED');
    expect(rep.log.warn.join('\n')).toContain(c.hostKey.fingerprint);
  });

  it('accepts hashed known_hosts entries and host_key pins', async () => {
    const file = join(tmp, 'known_hosts');
    writeFileSync(file, knownHostsLines(info, ['nkh1']) + '\n');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const hashed = readFileSync(file, 'utf8');
    expect(hashed).toMatch(/^\|1\|/);
    expect(hashed).not.toContain(ip);
    const c = await connect(nodeSpec(ip), base({ knownHosts: hashed }));
    expect(c.hostKey.via).toMatch(/^known_hosts line/);

    const rsaLine = testHost('nkh1', info).host_keys[2];
    const pinned = await connect(nodeSpec(ip, { hostKey: rsaLine }), base({ knownHosts: '' }));
    expect(pinned.hostKey).toMatchObject({ type: 'ssh-rsa', via: 'host_key in the config' });
    // A fingerprint pin of the host's RSA key: the ed25519 key comes first, then the RSA one is asked for.
    const byFp = await connect(nodeSpec(ip, { hostKey: pinned.hostKey.fingerprint }), base({ knownHosts: '' }));
    expect(byFp.hostKey).toMatchObject({ type: 'ssh-rsa', via: 'host_key in the config' });

    const noHost = { env: {}, reporter: reporter() };
    const wrongKey = await rejection(
      connectNode(nodeSpec(ip, { hostKey: testHost('nkh2', info).host_keys[0] }), base({ knownHosts: '' }), noHost),
    );
    expect(wrongKey.kind).toBe('host-key-changed');
    const otherFp = execFileSync('ssh-keygen', ['-lf', '-'], {
      input: `x ${testHost('nkh2', info).host_keys[1]}\n`,
      encoding: 'utf8',
    }).split(' ')[1];
    const wrongFp = await rejection(connectNode(nodeSpec(ip, { hostKey: otherFp }), base({ knownHosts: '' }), noHost));
    expect(wrongFp.kind).toBe('host-key-changed');
    expect(wrongFp.message).toContain(otherFp);
  });

  it('a host pinned (or in known_hosts) with its ed25519 key that offers only RSA is refused, even with insecureSkipHostKeyCheck', async () => {
    // A second sshd on nkh1 with the host's own keys that offers only its RSA key: what a
    // man-in-the-middle without the ed25519 key shows. The password must never be sent to it.
    const conf = `${TESTHOSTS_DIR}/nkh1/sshd_config`;
    const started = hostExec(
      'nkh1',
      `/usr/sbin/sshd -f ${conf} -p 2222 -o PidFile=/tmp/sshd-rsa-only.pid -E /tmp/sshd-rsa-only.log ` +
        '-o HostKeyAlgorithms=rsa-sha2-512,rsa-sha2-256',
    );
    expect(started.code, started.stderr).toBe(0);
    try {
      const [ed25519Line, , rsaLine] = testHost('nkh1', info).host_keys;
      expect(ed25519Line).toMatch(/^ssh-ed25519 /);
      expect(rsaLine).toMatch(/^ssh-rsa /);
      const env = { NK_PW: info.client.password_only_password };
      const at2222 = (extra: Partial<NodeSpec> = {}) =>
        nodeSpec(ip, {
          sshUrl: `${ip}:2222`,
          sshPort: 2222,
          users: [user(info.client.password_only_user, { password: '${NK_PW}' })],
          ...extra,
        });
      const skip = base({ identities: [], knownHosts: '', insecureSkipHostKeyCheck: true });

      const rep = reporter();
      const pinned = await rejection(connectNode(at2222({ hostKey: ed25519Line }), skip, { env, reporter: rep }));
      expect(pinned.kind).toBe('host-key-changed');
      expect(pinned.message).toContain('REMOTE HOST KEY CHANGED');
      expect(pinned.message).toMatch(/pinned in the config: ssh-ed25519 SHA256:/);
      expect(pinned.message).toContain('offered an ssh-rsa key');
      expect(pinned.message).toContain('insecure-skip-host-key-check does not let it through');
      expect(rep.log.warn.join('\n')).not.toContain('NOT VERIFIED');

      const known = await rejection(
        connectNode(at2222(), { ...skip, knownHosts: `[${ip}]:2222 ${ed25519Line}` }, { env, reporter: reporter() }),
      );
      expect(known.kind).toBe('host-key-changed');
      expect(known.message).toContain('known_hosts line 1 lists ssh-ed25519');
      expect(known.message).toContain('offered an ssh-rsa key');

      // Control: with nothing on record the flag lets this RSA-only host in, and its log shows the login.
      const open = await connect(at2222(), skip, env);
      expect(open.hostKey).toMatchObject({ type: 'ssh-rsa', via: 'NOT VERIFIED (insecure-skip-host-key-check)' });
      // the pinned host with both keys is verified with the pinned ed25519 key (asked for first)
      const real = await connect(nodeSpec(ip, { hostKey: ed25519Line }), base({ knownHosts: '' }));
      expect(real.hostKey).toMatchObject({ type: 'ssh-ed25519', via: 'host_key in the config' });

      await new Promise((r) => setTimeout(r, 300)); // sshd writes its log after the session
      const log = hostExec('nkh1', 'cat /tmp/sshd-rsa-only.log').stdout;
      // one password login (the control's), none sent to the refused connections
      expect(log.match(/Accepted password for nokubepw/g)).toHaveLength(1);
      expect(log).not.toMatch(/Failed password/);
    } finally {
      hostExec('nkh1', 'kill $(cat /tmp/sshd-rsa-only.pid) 2>/dev/null; rm -f /tmp/sshd-rsa-only.*');
    }
  });

  it('reports a closed port as unreachable and an absent host quickly', async () => {
    const t0 = Date.now();
    const refused = await rejection(
      connectNode(
        nodeSpec(info.bridge_ip, { sshPort: 1, sshUrl: `${info.bridge_ip}:1` }),
        base({ connectTimeoutSec: 3 }),
        {
          env: {},
          reporter: reporter(),
        },
      ),
    );
    expect(refused.kind).toBe('unreachable');
    expect(refused.hint).toContain('is sshd running on 10.88.0.1:1');
    const absent = await rejection(
      connectNode(nodeSpec('10.88.0.250'), base({ connectTimeoutSec: 3 }), { env: {}, reporter: reporter() }),
    );
    expect(['unreachable', 'timeout']).toContain(absent.kind);
    expect(absent.node).toBe('n1');
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('kills a command at its timeout and keeps the connection usable', async () => {
    const c = await connect(nodeSpec(ip), base());
    const t0 = Date.now();
    const err = await rejection(c.exec('sleep 31.7', { timeoutMs: 800 }));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.exec('pgrep -fx "sleep 31.7" || echo gone')).stdout).toBe('gone\n');
    expect((await c.exec('echo still here')).stdout).toBe('still here\n');
  });

  it('uploads over SFTP atomically, creates directories, resolves ~', async () => {
    const c = await connect(nodeSpec(ip), base());
    expect(await c.realpath('~')).toBe('/home/nokube');
    const dir = `~/e2e-ssh-${process.pid}/a/b`;
    await c.mkdirp(dir);
    await c.mkdirp(dir); // again: fine
    const path = `/home/nokube/e2e-ssh-${process.pid}/a/b/file.txt`;
    expect(await c.fileExists(path)).toBe(false);
    await c.uploadFile('first\n', path, 0o600);
    await c.uploadFile(Buffer.from('second ✓\n'), path, 0o640); // replaces the existing file
    expect(await c.fileExists(path)).toBe(true);
    const r = await c.exec(`stat -c %a ${path}; cat ${path}; ls -a $(dirname ${path}) | grep -c nokube || true`);
    expect(r.stdout).toBe('640\nsecond ✓\n0\n');
    const bad = await rejection(c.uploadFile('x', '/opt/nokube/not-writable.txt'));
    expect(bad.kind).toBe('sftp');
  });

  it('logs SSH negotiation only in debug mode (protocolDebug, set by NOKUBE_DEBUG / runner debug), and never a password', async () => {
    const node = nodeSpec(ip, { users: [user('nokube', { password: '${NK_TEST_PW}' })] });
    const quiet = reporter();
    await connect(node, base({ identities: [] }), { NK_TEST_PW: info.client.password }, quiet);
    expect(quiet.log.debug.some((m) => m.includes('ssh: '))).toBe(false);
    const loud = reporter();
    const c = await connect(
      node,
      base({ identities: [], protocolDebug: true }),
      { NK_TEST_PW: info.client.password },
      loud,
    );
    await c.exec('true');
    const all = loud.log.debug.join('\n');
    expect(all).toMatch(/ssh: .*Handshake/);
    expect(all).not.toContain(info.client.password);
  });

  it('does not ask the node to prove every host key it announces after login (a signature each, unused)', async () => {
    const log = reporter();
    const c = await connect(nodeSpec(ip), base({ protocolDebug: true }), {}, log);
    await c.exec('true'); // sshd announces its keys right after login: the exec's answer comes after it
    const all = log.log.debug.join('\n');
    expect(all).toContain('Inbound: GLOBAL_REQUEST (hostkeys-00@openssh.com)');
    expect(all).toContain('not asked to prove them');
    expect(all).not.toContain('hostkeys-prove-00@openssh.com');
  });

  it('rejects work on a closed connection, and an aborted connect', async () => {
    const c = await connect(nodeSpec(ip), base());
    c.close();
    c.close(); // twice: fine
    const err = await rejection(c.exec('true'));
    expect(err.kind).toBe('unreachable');
    const ac = new AbortController();
    ac.abort();
    const aborted = await rejection(
      connectNode(nodeSpec(ip), base(), { env: {}, reporter: reporter(), signal: ac.signal }),
    );
    expect(aborted.kind).toBe('timeout');
  });

  it('turns a connection dropped mid-command into kind unreachable', async () => {
    const c = await connect(nodeSpec(ip), base());
    // the shell's parent is this connection's sshd process: killing it drops only this connection
    const err = await rejection(c.exec('kill -9 $PPID; sleep 5'));
    expect(err.kind).toBe('unreachable');
    expect(err.node).toBe('n1');
    expect((await rejection(c.exec('true'))).kind).toBe('unreachable');
    expect((await rejection(c.fileExists('/etc/hostname'))).kind).toBe('unreachable');
  });

  it('runs many commands over one connection, more at once than sshd sessions allow', async () => {
    const c = await connect(nodeSpec(ip), base());
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.exec(`echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 40 }, (_, i) => `${i}\n`));
    for (let i = 0; i < 20; i++) expect((await c.exec('true')).code).toBe(0);
  });
});
