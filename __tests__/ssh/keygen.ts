// Real keys for unit tests, made by ssh-keygen into a temp dir (so formats are what users have).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  path: string;
  /** Private key text. */
  key: string;
  /** The .pub line. */
  pub: string;
  /** `ssh-keygen -lf` of the .pub: [bits, fingerprint, comment..., (TYPE)]. */
  fingerprint: string;
}

export interface TestKeys {
  dir: string;
  ed25519: TestKey;
  /** RSA in PEM ("BEGIN RSA PRIVATE KEY"). */
  rsaPem: TestKey;
  /** ECDSA P-256, OpenSSH format, encrypted with `passphrase`. */
  ecdsa: TestKey;
  /** Second ed25519 key, not otherwise used. */
  other: TestKey;
  passphrase: string;
  cleanup(): void;
}

function keygen(dir: string, name: string, args: string[]): TestKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-C', `${name}@test`, '-f', path], { stdio: 'ignore' });
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1];
  return { path, key: readFileSync(path, 'utf8'), pub: readFileSync(`${path}.pub`, 'utf8').trim(), fingerprint };
}

export function makeTestKeys(): TestKeys {
  const dir = mkdtempSync(join(tmpdir(), 'nokube-ssh-unit-'));
  const passphrase = 'unit-pass phrase';
  return {
    dir,
    passphrase,
    ed25519: keygen(dir, 'id_ed25519', ['-t', 'ed25519', '-N', '']),
    rsaPem: keygen(dir, 'id_rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '']),
    ecdsa: keygen(dir, 'id_ecdsa', ['-t', 'ecdsa', '-b', '256', '-N', passphrase]),
    other: keygen(dir, 'id_other', ['-t', 'ed25519', '-N', '']),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function blobOf(pubLine: string): Buffer {
  return Buffer.from(pubLine.split(/\s+/)[1], 'base64');
}
