import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  globMatch,
  hashHostName,
  hostFieldMatches,
  knownKeyTypes,
  parseKnownHosts,
} from '../../src/ssh/known-hosts';
import { parsePublicKeyLine, type PublicKey } from '../../src/ssh/public-key';
import { makeTestKeys, type TestKeys } from './keygen';

let keys: TestKeys;
let ed: PublicKey;
let rsa: PublicKey;
let other: PublicKey;
const keyPart = (pub: string) => pub.split(' ').slice(0, 2).join(' ');

beforeAll(() => {
  keys = makeTestKeys();
  ed = parsePublicKeyLine(keys.ed25519.pub)!;
  rsa = parsePublicKeyLine(keys.rsaPem.pub)!;
  other = parsePublicKeyLine(keys.other.pub)!;
});
afterAll(() => keys.cleanup());

describe('host patterns', () => {
  it('matches plain names and comma lists, case-insensitively', () => {
    expect(hostFieldMatches('prod-1', 'prod-1')).toBe(true);
    expect(hostFieldMatches('prod-1', 'prod-10')).toBe(false);
    expect(hostFieldMatches('a.example,10.0.0.5,prod-1', '10.0.0.5')).toBe(true);
    expect(hostFieldMatches('Prod-1.Example.COM', 'prod-1.example.com')).toBe(true);
  });

  it('uses [host]:port names for ports other than 22, and nothing else', () => {
    expect(hostFieldMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222')).toBe(true);
    expect(hostFieldMatches('10.0.0.5', '[10.0.0.5]:2222')).toBe(false);
    expect(hostFieldMatches('[10.0.0.5]:2222', '10.0.0.5')).toBe(false);
    expect(hostFieldMatches('[10.0.0.*]:2222', '[10.0.0.9]:2222')).toBe(true);
  });

  it('supports * and ? wildcards over the whole name', () => {
    expect(globMatch('*.example.com', 'a.b.example.com')).toBe(true);
    expect(globMatch('*.example.com', 'example.com')).toBe(false);
    expect(globMatch('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(globMatch('10.0.0.?', '10.0.0.77')).toBe(false);
    expect(globMatch('a.c', 'abc')).toBe(false); // a dot is a dot
    expect(globMatch('*', 'anything')).toBe(true);
  });

  it('lets a matching !negation veto the line', () => {
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'good.example.com')).toBe(true);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('!bad.example.com,*.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('!bad.example.com', 'good.example.com')).toBe(false); // negation alone matches nothing
  });

  it('matches hashed names the way ssh-keygen -H writes them', () => {
    const file = join(keys.dir, 'known_hosts');
    writeFileSync(file, `10.1.2.3 ${keyPart(keys.ed25519.pub)}\n[node-a.example]:2200 ${keyPart(keys.rsaPem.pub)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const [h1, h2] = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(h1).toMatch(/^\|1\|[^|]+\|[^|]+$/);
    expect(hostFieldMatches(h1, '10.1.2.3')).toBe(true);
    expect(hostFieldMatches(h1, '10.1.2.4')).toBe(false);
    expect(hostFieldMatches(h2, '[node-a.example]:2200')).toBe(true);
    expect(hostFieldMatches(h2, 'node-a.example')).toBe(false);
  });

  it('computes the same HMAC-SHA1 as OpenSSH', () => {
    const salt = Buffer.from('0123456789abcdef0123', 'latin1');
    const expected = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('host.example').digest('base64')}`;
    expect(hashHostName('host.example', salt)).toBe(expected);
    expect(hostFieldMatches(expected, 'host.example')).toBe(true);
    expect(hostFieldMatches('|1|garbage', 'host.example')).toBe(false);
  });
});

describe('checkHostKey', () => {
  it('knows a host by any of several key types, and lists those types', () => {
    const kh = parseKnownHosts(
      `# comment\n\nnode1,10.0.0.1 ${keyPart(keys.ed25519.pub)}\n10.0.0.1 ${keyPart(keys.rsaPem.pub)} c\n`,
    );
    expect(checkHostKey(kh, '10.0.0.1', 22, ed)).toEqual({ status: 'known', line: 3 });
    expect(checkHostKey(kh, '10.0.0.1', 22, rsa)).toEqual({ status: 'known', line: 4 });
    expect(checkHostKey(kh, 'node1', 22, ed)).toEqual({ status: 'known', line: 3 });
    expect(knownKeyTypes(kh, '10.0.0.1', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(kh, '10.0.0.1', 2222)).toEqual([]);
  });

  it('calls a different key of a known type "changed", a key of another type than the host\'s "other-type"', () => {
    const kh = parseKnownHosts(`10.0.0.1 ${keyPart(keys.ed25519.pub)}\n`);
    expect(checkHostKey(kh, '10.0.0.1', 22, other)).toEqual({ status: 'changed', lines: [1] });
    // the host is known: a key of a type it was never recorded with is not "unknown"
    expect(checkHostKey(kh, '10.0.0.1', 22, rsa)).toEqual({ status: 'other-type', lines: [1], types: ['ssh-ed25519'] });
    expect(checkHostKey(kh, '10.0.0.2', 22, ed)).toEqual({ status: 'unknown' });
    // the same key on another port is another host
    expect(checkHostKey(kh, '10.0.0.1', 2222, ed)).toEqual({ status: 'unknown' });
  });

  it('refuses @revoked keys whatever else matches', () => {
    const kh = parseKnownHosts(`10.0.0.1 ${keyPart(keys.ed25519.pub)}\n@revoked * ${keyPart(keys.ed25519.pub)}\n`);
    expect(checkHostKey(kh, '10.0.0.1', 22, ed)).toEqual({ status: 'revoked', line: 2 });
  });

  it('ignores @cert-authority lines with a note, and notes lines it cannot read', () => {
    const kh = parseKnownHosts(
      `@cert-authority *.example ${keyPart(keys.ed25519.pub)}\nnot a key line\n@weird x ${keyPart(keys.rsaPem.pub)}\n`,
    );
    expect(checkHostKey(kh, 'a.example', 22, ed)).toEqual({ status: 'unknown' });
    expect(kh.notes).toHaveLength(3);
    expect(kh.notes[0]).toMatch(/line 1: @cert-authority ignored/);
    expect(kh.notes[1]).toMatch(/line 2: not "hosts keytype base64-key"/);
    expect(kh.notes[2]).toMatch(/line 3: unknown marker @weird/);
  });

  it('rejects a line whose named type does not match its key', () => {
    const blob = keyPart(keys.ed25519.pub).split(' ')[1];
    const kh = parseKnownHosts(`10.0.0.1 ssh-rsa ${blob}\n`);
    expect(kh.entries).toHaveLength(0);
  });
});

describe('a known_hosts of many lines', () => {
  it('finds for every host exactly the lines a check of each line finds, in file order', () => {
    const ek = keyPart(keys.ed25519.pub);
    const rk = keyPart(keys.rsaPem.pub);
    const ok = keyPart(keys.other.pub);
    const ecdsa = parsePublicKeyLine(keys.ecdsa.pub)!;
    const salt = Buffer.from('fedcba9876543210fedc', 'latin1');
    const lines: string[] = [];
    for (let i = 1; i <= 300; i++) lines.push(`10.1.${i >> 8}.${i & 255},Node-${i}.Example ${i % 3 ? ek : rk}`);
    lines.push(
      `*.example ${ok}`,
      `[10.1.0.7]:2222 ${rk}`,
      `10.1.0.*,!10.1.0.9 ${ok}`,
      `${hashHostName('10.2.0.1', salt)} ${rk}`,
      `@revoked 10.1.0.5 ${keyPart(keys.ecdsa.pub)}`,
      `node-3.example ${rk}`,
      `!node-4.example ${ek}`,
    );
    const kh = parseKnownHosts(lines.join('\n'));
    const name = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);
    // the definition: every unmarked line whose host field matches, in file order
    const byDefinition = (host: string, port: number) =>
      kh.entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name(host, port)));
    const hosts: [string, number][] = [
      ['10.1.0.1', 22],
      ['10.1.0.7', 22],
      ['10.1.0.7', 2222],
      ['10.1.0.9', 22],
      ['10.1.0.42', 22],
      ['10.2.0.1', 22],
      ['10.1.1.44', 22],
      ['NODE-3.example', 22],
      ['node-4.EXAMPLE', 22],
      ['node-300.example', 22],
      ['10.9.9.9', 22],
      ['other.example', 22],
    ];
    for (const [host, port] of hosts) {
      const want = byDefinition(host, port);
      const types = [...new Set(want.map((e) => e.key.type))];
      expect(knownKeyTypes(kh, host, port), `${host}:${port}`).toEqual(types);
      for (const key of [ed, rsa, other, ecdsa]) {
        const same = want.find((e) => e.key.blob.equals(key.blob));
        const changed = want.filter((e) => e.key.type === key.type).map((e) => e.line);
        const expected =
          key === ecdsa
            ? { status: 'revoked', line: 305 } // whichever host presents it
            : same
              ? { status: 'known', line: same.line }
              : changed.length
                ? { status: 'changed', lines: changed }
                : want.length
                  ? { status: 'other-type', lines: want.map((e) => e.line), types }
                  : { status: 'unknown' };
        expect(checkHostKey(kh, host, port, key), `${host}:${port} ${key.type}`).toEqual(expected);
      }
    }
    // the plain, wildcard, negated and hashed lines all took part
    expect(checkHostKey(kh, '10.2.0.1', 22, rsa)).toEqual({ status: 'known', line: 304 });
    expect(knownKeyTypes(kh, '10.1.0.42', 22)).toEqual(['ssh-rsa', 'ssh-ed25519']);
    expect(checkHostKey(kh, 'node-3.example', 22, rsa)).toEqual({ status: 'known', line: 3 }); // Node-3.Example
    expect(checkHostKey(kh, '10.1.0.9', 22, other)).toEqual({ status: 'other-type', lines: [9], types: ['ssh-rsa'] });
    expect(checkHostKey(kh, '10.1.0.8', 22, other)).toEqual({ status: 'known', line: 303 });
  });
});
