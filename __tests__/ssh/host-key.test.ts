import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshOptions } from '../../src/ssh/types';
import { SshError } from '../../src/ssh/errors';
import { hostKeyCheck } from '../../src/ssh/host-key';
import { blobOf, makeTestKeys, type TestKeys } from './keygen';
import { recordingReporter, testNode } from './helpers';

let keys: TestKeys;
beforeAll(() => {
  keys = makeTestKeys();
});
afterAll(() => keys.cleanup());

const keyPart = (pub: string) => pub.split(' ').slice(0, 2).join(' ');
const options = (o: Partial<SshOptions> = {}): SshOptions => ({
  identities: [],
  knownHosts: '',
  insecureSkipHostKeyCheck: false,
  connectTimeoutSec: 5,
  ...o,
});

describe('hostKeyCheck', () => {
  it('accepts a key known_hosts has for the host, and asks the server for that type first', () => {
    const check = hostKeyCheck(
      testNode(),
      options({ knownHosts: `10.0.0.5 ${keyPart(keys.rsaPem.pub)}\n` }),
      recordingReporter(),
    );
    expect(check.serverHostKey?.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(check.serverHostKey).toContain('ssh-ed25519');
    expect(check.verify(blobOf(keys.rsaPem.pub))).toBe(true);
    expect(check.accepted).toEqual({
      type: 'ssh-rsa',
      fingerprint: keys.rsaPem.fingerprint,
      via: 'known_hosts line 1',
      knownHostsLine: `10.0.0.5 ${keyPart(keys.rsaPem.pub)}`,
    });
  });

  it('refuses an unknown key with fingerprint, known_hosts line ([host]:port off 22) and hint', () => {
    const node = testNode({ host: 'node.example', sshPort: 2222, sshUrl: 'node.example:2222' });
    const check = hostKeyCheck(node, options(), recordingReporter());
    expect(check.serverHostKey).toBeUndefined();
    expect(check.verify(blobOf(keys.ed25519.pub))).toBe(false);
    const err = check.failure!;
    expect(err).toBeInstanceOf(SshError);
    expect(err).toMatchObject({
      kind: 'host-key',
      node: 'ray-head',
      host: 'node.example',
      port: 2222,
      fingerprint: keys.ed25519.fingerprint,
      knownHostsLine: `[node.example]:2222 ${keyPart(keys.ed25519.pub)}`,
    });
    expect(err.message).toContain('ssh-ed25519');
    expect(err.message).toContain(keys.ed25519.fingerprint);
    expect(err.hint).toContain(`[node.example]:2222 ${keyPart(keys.ed25519.pub)}`);
    expect(err.hint).toContain(`host_key: "${keys.ed25519.fingerprint}"`);
  });

  it('refuses a changed key of a known type, loudly', () => {
    const check = hostKeyCheck(
      testNode(),
      options({ knownHosts: `10.0.0.*,!10.0.0.9 ${keyPart(keys.other.pub)}\n` }),
      recordingReporter(),
    );
    expect(check.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(check.failure).toMatchObject({ kind: 'host-key-changed', fingerprint: keys.ed25519.fingerprint });
    expect(check.failure!.message).toMatch(/^REMOTE HOST KEY CHANGED for node ray-head \(10\.0\.0\.5:22\)/);
    expect(check.failure!.hint).toContain('replace known_hosts line 1');
  });

  it('lets insecureSkipHostKeyCheck through an unknown key only, with a warning naming the fingerprint', () => {
    const r = recordingReporter();
    const check = hostKeyCheck(testNode(), options({ insecureSkipHostKeyCheck: true }), r);
    expect(check.verify(blobOf(keys.ed25519.pub))).toBe(true);
    expect(check.failure).toBeUndefined();
    expect(check.accepted?.via).toContain('NOT VERIFIED');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain(keys.ed25519.fingerprint);
  });

  it('refuses a key that contradicts known_hosts even with insecureSkipHostKeyCheck', () => {
    const r = recordingReporter();
    const check = hostKeyCheck(
      testNode(),
      options({ insecureSkipHostKeyCheck: true, knownHosts: `10.0.0.5 ${keyPart(keys.other.pub)}` }),
      r,
    );
    expect(check.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(check.failure).toMatchObject({ kind: 'host-key-changed', fingerprint: keys.ed25519.fingerprint });
    expect(check.failure!.message).toContain('REMOTE HOST KEY CHANGED');
    expect(check.accepted).toBeUndefined();
    expect(r.warnings).toHaveLength(0);
  });

  it('refuses a key that contradicts the host_key pin even with insecureSkipHostKeyCheck', () => {
    const byLine = hostKeyCheck(
      testNode({ hostKey: keys.other.pub }),
      options({ insecureSkipHostKeyCheck: true }),
      recordingReporter(),
    );
    expect(byLine.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(byLine.failure?.kind).toBe('host-key-changed');

    const byFp = hostKeyCheck(
      testNode({ hostKey: keys.rsaPem.fingerprint }),
      options({ insecureSkipHostKeyCheck: true }),
      recordingReporter(),
    );
    expect(byFp.verify(blobOf(keys.ed25519.pub))).toBe(false);
    // The pin may be of the host's RSA key: ask for it rather than give up or let the ed25519 key in.
    expect(byFp.retryOtherKeyType).toBe(true);
    expect(byFp.failure?.kind).toBe('host-key-changed');
  });

  it('refuses a key of another type than the host_key pin as changed, even with insecureSkipHostKeyCheck', () => {
    const r = recordingReporter();
    const check = hostKeyCheck(testNode({ hostKey: keys.ed25519.pub }), options({ insecureSkipHostKeyCheck: true }), r);
    // the pinned type is asked for first, so a host that has both keys is verified with the pinned one
    expect(check.serverHostKey?.[0]).toBe('ssh-ed25519');
    expect(check.verify(blobOf(keys.rsaPem.pub))).toBe(false);
    expect(check.accepted).toBeUndefined();
    expect(r.warnings).toHaveLength(0);
    expect(check.failure).toMatchObject({ kind: 'host-key-changed', fingerprint: keys.rsaPem.fingerprint });
    const message = check.failure!.message;
    expect(message).toContain('REMOTE HOST KEY CHANGED');
    // which type was pinned, which was offered
    expect(message).toContain(`pinned in the config: ssh-ed25519 ${keys.ed25519.fingerprint}`);
    expect(message).toContain(`offered an ssh-rsa key (${keys.rsaPem.fingerprint})`);
    expect(message).toContain('insecure-skip-host-key-check does not let it through');
    expect(check.failure!.hint).toContain('ssh_host_ed25519_key.pub');
  });

  it('refuses a key of a type known_hosts does not list for a known host as changed, even with insecureSkipHostKeyCheck', () => {
    const r = recordingReporter();
    const check = hostKeyCheck(
      testNode(),
      options({ insecureSkipHostKeyCheck: true, knownHosts: `# mine\n10.0.0.5 ${keyPart(keys.ed25519.pub)}\n` }),
      r,
    );
    expect(check.verify(blobOf(keys.rsaPem.pub))).toBe(false);
    expect(check.accepted).toBeUndefined();
    expect(r.warnings).toHaveLength(0);
    expect(check.failure).toMatchObject({ kind: 'host-key-changed', fingerprint: keys.rsaPem.fingerprint });
    expect(check.failure!.message).toContain('REMOTE HOST KEY CHANGED');
    expect(check.failure!.message).toContain('offered an ssh-rsa key');
    expect(check.failure!.message).toContain('known_hosts line 2 lists ssh-ed25519');
    // without the flag: the same refusal, not "unknown, add it"
    const strict = hostKeyCheck(
      testNode(),
      options({ knownHosts: `10.0.0.5 ${keyPart(keys.ed25519.pub)}\n` }),
      recordingReporter(),
    );
    expect(strict.verify(blobOf(keys.rsaPem.pub))).toBe(false);
    expect(strict.failure?.kind).toBe('host-key-changed');
  });

  it('still accepts a key of another type than the pin when known_hosts lists that very key', () => {
    const check = hostKeyCheck(
      testNode({ hostKey: keys.ed25519.pub }),
      options({ knownHosts: `10.0.0.5 ${keyPart(keys.rsaPem.pub)}\n` }),
      recordingReporter(),
    );
    expect(check.serverHostKey?.slice(0, 2)).toEqual(['ssh-ed25519', 'rsa-sha2-512']);
    expect(check.verify(blobOf(keys.rsaPem.pub))).toBe(true);
    expect(check.accepted?.via).toBe('known_hosts line 1');
  });

  it('never accepts a @revoked key, not even with insecureSkipHostKeyCheck', () => {
    const kh = `10.0.0.5 ${keyPart(keys.ed25519.pub)}\n@revoked * ${keyPart(keys.ed25519.pub)}\n`;
    const check = hostKeyCheck(
      testNode(),
      options({ knownHosts: kh, insecureSkipHostKeyCheck: true }),
      recordingReporter(),
    );
    expect(check.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(check.failure).toMatchObject({ kind: 'host-key' });
    expect(check.failure!.message).toContain('REVOKED');
  });

  it('accepts the key pinned in host_key (key line or SHA256 fingerprint) without known_hosts', () => {
    const byLine = hostKeyCheck(testNode({ hostKey: keys.ecdsa.pub }), options(), recordingReporter());
    expect(byLine.serverHostKey?.[0]).toBe('ecdsa-sha2-nistp256');
    expect(byLine.verify(blobOf(keys.ecdsa.pub))).toBe(true);
    expect(byLine.accepted?.via).toBe('host_key in the config');
    const byFp = hostKeyCheck(testNode({ hostKey: keys.ed25519.fingerprint }), options(), recordingReporter());
    expect(byFp.verify(blobOf(keys.ed25519.pub))).toBe(true);
  });

  it('refuses a key that contradicts the pin; a fingerprint pin asks for the other key types first', () => {
    const byLine = hostKeyCheck(testNode({ hostKey: keys.other.pub }), options(), recordingReporter());
    expect(byLine.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(byLine.failure?.kind).toBe('host-key-changed');
    expect(byLine.retryOtherKeyType).toBe(false);

    const byFp = hostKeyCheck(testNode({ hostKey: keys.rsaPem.fingerprint }), options(), recordingReporter());
    expect(byFp.verify(blobOf(keys.ed25519.pub))).toBe(false);
    expect(byFp.retryOtherKeyType).toBe(true);
    expect(byFp.serverHostKey).not.toContain('ssh-ed25519');
    expect(byFp.verify(blobOf(keys.rsaPem.pub))).toBe(true);
  });

  it('a malformed host_key is a config error', () => {
    expect(() => hostKeyCheck(testNode({ hostKey: 'not a key' }), options(), recordingReporter())).toThrow(
      /host_key is neither/,
    );
  });

  it('notes ignored known_hosts lines in the debug log', () => {
    const r = recordingReporter();
    hostKeyCheck(testNode(), options({ knownHosts: `@cert-authority * ${keyPart(keys.ed25519.pub)}\n` }), r);
    expect(r.debugs.join('\n')).toContain('@cert-authority ignored');
  });
});
