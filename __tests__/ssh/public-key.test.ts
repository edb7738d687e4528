import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  blobKeyType,
  fingerprint,
  isFingerprint,
  knownHostsLine,
  knownHostsName,
  normalizeFingerprint,
  parsePublicKeyLine,
} from '../../src/ssh/public-key';
import { blobOf, makeTestKeys, type TestKeys } from './keygen';

let keys: TestKeys;
beforeAll(() => {
  keys = makeTestKeys();
});
afterAll(() => keys.cleanup());

describe('fingerprint', () => {
  it('matches ssh-keygen -lf for ed25519, RSA and ECDSA keys', () => {
    for (const k of [keys.ed25519, keys.rsaPem, keys.ecdsa, keys.other]) {
      expect(fingerprint(blobOf(k.pub))).toBe(k.fingerprint);
      expect(isFingerprint(k.fingerprint)).toBe(true);
    }
  });

  it('normalises padding and spaces', () => {
    const fp = keys.ed25519.fingerprint;
    expect(normalizeFingerprint(` ${fp}= `)).toBe(fp);
    expect(isFingerprint('SHA256:short')).toBe(false);
    expect(isFingerprint('MD5:aa:bb')).toBe(false);
  });
});

describe('public key lines', () => {
  it('parses type, blob and comment', () => {
    const k = parsePublicKeyLine(keys.ecdsa.pub)!;
    expect(k.type).toBe('ecdsa-sha2-nistp256');
    expect(k.comment).toBe('id_ecdsa@test');
    expect(blobKeyType(k.blob)).toBe('ecdsa-sha2-nistp256');
    expect(parsePublicKeyLine('ssh-ed25519')).toBeUndefined();
    expect(parsePublicKeyLine('ssh-ed25519 !!!')).toBeUndefined();
    expect(parsePublicKeyLine(keys.ed25519.key)).toBeUndefined();
  });
});

describe('known_hosts lines', () => {
  it('writes the bare host for port 22 and [host]:port otherwise', () => {
    const blob = blobOf(keys.ed25519.pub);
    const b64 = blob.toString('base64');
    expect(knownHostsLine('10.0.0.5', 22, blob)).toBe(`10.0.0.5 ssh-ed25519 ${b64}`);
    expect(knownHostsLine('node.example', 2222, blob)).toBe(`[node.example]:2222 ssh-ed25519 ${b64}`);
    expect(knownHostsName('fd00::5', 22)).toBe('fd00::5');
    expect(knownHostsName('fd00::5', 2200)).toBe('[fd00::5]:2200');
  });

  it('writes lines ssh-keygen accepts and fingerprints identically', () => {
    const line = knownHostsLine('node.example', 2222, blobOf(keys.rsaPem.pub));
    const out = execFileSync('ssh-keygen', ['-lf', '-'], { input: `${line}\n`, encoding: 'utf8' });
    expect(out).toContain(keys.rsaPem.fingerprint);
    expect(out).toContain('[node.example]:2222');
  });
});
