// sshd's MaxStartups drops: a connection closed before the SSH banner is retried after a short
// backoff. A local TCP front drops the first connections (as sshd past MaxStartups does) and
// passes the rest to a real SSH server (ssh2's).
import { createServer, connect as tcpConnect, type Server as NetServer, type AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshOptions } from '../../src/engine/types';
import { connectNode } from '../../src/ssh';
import { isThrottleRefusal, retryThrottled } from '../../src/ssh/throttle';
import { recordingReporter, testNode, testUser } from './helpers';

let sshd: ssh2.Server;
let front: NetServer;
let frontPort = 0;
let dropsLeft = 0;
let accepted = 0;

beforeAll(async () => {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  sshd = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) =>
      ctx.method === 'password' && ctx.password === 'pw' ? ctx.accept() : ctx.reject(['password']),
    );
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => sshd.listen(0, '127.0.0.1', () => r()));
  const sshdPort = (sshd.address() as AddressInfo).port;
  front = createServer((sock) => {
    accepted++;
    if (dropsLeft > 0) {
      dropsLeft--;
      sock.destroy(); // what sshd does past MaxStartups: close before sending its banner
      return;
    }
    const up = tcpConnect(sshdPort, '127.0.0.1');
    sock.pipe(up).pipe(sock);
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  frontPort = (front.address() as AddressInfo).port;
});

afterAll(() => {
  front?.close();
  sshd?.close();
});

const options = (connectTimeoutSec: number): SshOptions => ({
  identities: [],
  knownHosts: '',
  insecureSkipHostKeyCheck: true,
  connectTimeoutSec,
});

const node = () =>
  testNode({
    host: '127.0.0.1',
    sshPort: frontPort,
    sshUrl: `127.0.0.1:${frontPort}`,
    users: [testUser('ray', { password: 'pw' })],
  });

describe('MaxStartups refusals', () => {
  it('logs in after the server dropped the first connections before its banner', async () => {
    dropsLeft = 3;
    accepted = 0;
    const reporter = recordingReporter();
    const conn = await connectNode(node(), options(10), { env: {}, reporter });
    try {
      expect(conn.user).toBe('ray');
      expect(accepted).toBe(4);
      expect(reporter.debugs.filter((d) => d.includes('MaxStartups'))).toHaveLength(3);
    } finally {
      conn.close();
    }
  });

  it('gives up with the usual message when the server keeps dropping, within the connect timeout', async () => {
    dropsLeft = 1_000;
    accepted = 0;
    const t0 = Date.now();
    await expect(connectNode(node(), options(1), { env: {}, reporter: recordingReporter() })).rejects.toThrow(
      /closed the connection before the SSH handshake|before handshake/,
    );
    expect(accepted).toBeGreaterThan(1);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('all methods refused'), { kind: 'auth' });
    await expect(
      retryThrottled(
        async () => {
          calls++;
          throw denied;
        },
        { budgetMs: 5000, sleep: async () => undefined },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
    expect(
      isThrottleRefusal(Object.assign(new Error('x'), { kind: 'unreachable', cause: { code: 'ECONNREFUSED' } })),
    ).toBe(false);
  });
});
