// Private keys the user supplied (Action input, --identity files), read once per run. A key is only
// ever named by its label and public fingerprint; the key text and passphrase are registered as
// secrets with the reporter before anything else happens to them.
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { PrivateKeySource, SshLog, SshOptions } from './types';
import { blobKeyType, fingerprint } from './public-key';

export interface LoadedKey {
  label: string;
  parsed: ParsedKey;
  type: string;
  /** Public half, SSH wire encoding. */
  blob: Buffer;
  fingerprint: string;
}

export interface UnusableKey {
  label: string;
  /** Why it cannot be used (never contains key material). */
  problem: string;
  /** Public half, when it could be read without the passphrase (OpenSSH format keeps it in clear). */
  blob?: Buffer;
  fingerprint?: string;
}

export interface KeyRing {
  usable: LoadedKey[];
  unusable: UnusableKey[];
}

const rings = new WeakMap<SshOptions, KeyRing>();

/** Every supplied key, parsed (with the passphrase when encrypted). Cached per SshOptions. */
export function loadKeyRing(opts: SshOptions, reporter: SshLog): KeyRing {
  const cached = rings.get(opts);
  if (cached) return cached;
  if (opts.passphrase) reporter.secret(opts.passphrase);
  const ring: KeyRing = { usable: [], unusable: [] };
  for (const source of opts.identities) {
    const r = loadKey(source, opts.passphrase, reporter);
    if ('parsed' in r) ring.usable.push(r);
    else ring.unusable.push(r);
  }
  rings.set(opts, ring);
  return ring;
}

/** Registers a private key as a secret: whole, and line by line (masking works per line in logs). */
export function registerKeySecret(key: string, reporter: SshLog): void {
  reporter.secret(key);
  for (const line of key.split(/\r?\n/)) {
    const s = line.trim();
    if (s.length >= 16 && !s.startsWith('-----')) reporter.secret(s);
  }
}

export function loadKey(
  source: PrivateKeySource,
  passphrase: string | undefined,
  reporter: SshLog,
): LoadedKey | UnusableKey {
  registerKeySecret(source.key, reporter);
  const { label } = source;
  const clearBlob = openSshPublicBlob(source.key);
  const pub = clearBlob ? { blob: clearBlob, fingerprint: fingerprint(clearBlob) } : {};
  let parsed = parse(source.key, undefined);
  if (parsed instanceof Error && passphrase && /passphrase|encrypted/i.test(parsed.message)) {
    parsed = parse(source.key, passphrase);
    if (parsed instanceof Error) {
      return {
        label,
        ...pub,
        problem: `private key ${label} could not be decrypted with the passphrase given (wrong passphrase?)`,
      };
    }
  }
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) {
      return { label, ...pub, problem: `private key ${label} is encrypted and no passphrase was given` };
    }
    return {
      label,
      ...pub,
      problem: `private key ${label} is not a key nokube can read (OpenSSH or PEM; ed25519, RSA, ECDSA): ${parsed.message}`,
    };
  }
  if (!parsed.isPrivateKey()) {
    return {
      label,
      ...pub,
      problem: `${label} is a public key: supply the private key (the public line belongs in users[].sshkey)`,
    };
  }
  const blob = parsed.getPublicSSH();
  return { label, parsed, type: blobKeyType(blob), blob, fingerprint: fingerprint(blob) };
}

function parse(text: string, passphrase: string | undefined): ParsedKey | Error {
  try {
    const r = ssh2.utils.parseKey(text, passphrase) as ParsedKey | ParsedKey[] | Error;
    if (Array.isArray(r)) return r[0] ?? new Error('no key found');
    return r;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The public blob of an OpenSSH-format private key, read without decrypting it ("openssh-key-v1"
 * keeps the public keys in clear), so an encrypted key can still be matched to a users[].sshkey.
 */
export function openSshPublicBlob(text: string): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return undefined;
  const data = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (data.length < magic.length || !data.subarray(0, magic.length).equals(magic)) return undefined;
  let at = magic.length;
  const readString = (): Buffer | undefined => {
    if (at + 4 > data.length) return undefined;
    const len = data.readUInt32BE(at);
    if (at + 4 + len > data.length) return undefined;
    const s = data.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return s;
  };
  readString(); // cipher name
  readString(); // kdf name
  readString(); // kdf options
  if (at + 4 > data.length || data.readUInt32BE(at) < 1) return undefined;
  at += 4;
  return readString();
}
