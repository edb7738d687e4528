// Host key verification (SPEC section 7): on by default, fail closed. A key is accepted when it
// matches the node's pinned `host_key` (a key line or a SHA256 fingerprint) or a known_hosts entry
// for the host. An unknown key is refused with its fingerprint and a ready-to-paste known_hosts
// line; a key that differs from the one on record is refused louder, and so is a key of another type
// than every key on record for the host (pinned or in known_hosts). insecureSkipHostKeyCheck gets
// past an unknown key only, with a warning; a changed or @revoked key is refused always.
import { describeTarget, type SshLog, type SshOptions, type SshTarget } from './types';
import { SshError, hostPort } from './errors';
import { checkHostKey, knownKeyTypes, parseKnownHosts, type KnownHosts } from './known-hosts';
import {
  blobKeyType,
  fingerprint,
  isFingerprint,
  knownHostsLine,
  normalizeFingerprint,
  parsePublicKeyLine,
  type PublicKey,
} from './public-key';

/** ssh2's default host key algorithms (Node has Ed25519), in its order. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const ALGORITHMS_OF_KEY_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** How a host's key came to be accepted. */
export interface AcceptedHostKey {
  type: string;
  fingerprint: string;
  /** "known_hosts line 3", "host_key in the config", "NOT VERIFIED (insecure-skip-host-key-check)". */
  via: string;
  /** The key as a known_hosts line for the host as connected to ("10.0.0.5 ssh-ed25519 AAAA..."). */
  knownHostsLine?: string;
}

export interface HostKeyCheck {
  /** For ssh2's `algorithms.serverHostKey`: the types we can verify, first (undefined = default). */
  serverHostKey?: string[];
  /**
   * After a refusal: true when the pin is a fingerprint of possibly another key type and the host
   * may still present one we have not seen (`serverHostKey` now asks for those). Connect again.
   */
  retryOtherKeyType?: boolean;
  /** ssh2 `hostVerifier` (raw key blob, no hostHash). */
  verify(key: Buffer): boolean;
  /** Why the key was refused, once `verify` returned false. */
  failure?: SshError;
  accepted?: AcceptedHostKey;
}

const parsedKnownHosts = new WeakMap<SshOptions, KnownHosts>();

function knownHostsOf(opts: SshOptions, reporter: SshLog): KnownHosts {
  let kh = parsedKnownHosts.get(opts);
  if (!kh) {
    kh = parseKnownHosts(opts.knownHosts ?? '');
    for (const note of kh.notes) reporter.debug(note);
    parsedKnownHosts.set(opts, kh);
  }
  return kh;
}

type Pin = { fingerprint: string } | { key: PublicKey };

function parsePin(node: SshTarget): Pin | undefined {
  const raw = node.hostKey?.trim();
  if (!raw) return undefined;
  if (isFingerprint(raw)) return { fingerprint: normalizeFingerprint(raw) };
  const key = parsePublicKeyLine(raw);
  if (key) return { key };
  throw new SshError(`${describeTarget(node)}: host_key is neither a public key line nor a SHA256: fingerprint`, {
    kind: 'config',
    node: node.name,
    host: node.host,
    port: node.sshPort,
    hint: 'use "ssh-ed25519 AAAA..." (from ssh-keyscan or /etc/ssh/ssh_host_ed25519_key.pub on the host) or "SHA256:..." (ssh-keygen -lf)',
  });
}

function keyTypeOfAlgorithm(algorithm: string): string {
  return algorithm.startsWith('rsa-sha2-') ? 'ssh-rsa' : algorithm;
}

function hostFileName(type: string): string {
  if (type === 'ssh-ed25519') return 'ssh_host_ed25519_key.pub';
  if (type.startsWith('ecdsa-')) return 'ssh_host_ecdsa_key.pub';
  if (type === 'ssh-rsa') return 'ssh_host_rsa_key.pub';
  return 'ssh_host_*_key.pub';
}

/** Prepares the check for one node; call `verify` from ssh2's hostVerifier. */
export function hostKeyCheck(node: SshTarget, opts: SshOptions, reporter: SshLog): HostKeyCheck {
  const pin = parsePin(node);
  const kh = knownHostsOf(opts, reporter);
  const { host, sshPort: port } = node;
  const hp = hostPort(host, port);

  const preferred: string[] = [];
  if (pin && 'key' in pin) preferred.push(pin.key.type);
  for (const t of knownKeyTypes(kh, host, port)) if (!preferred.includes(t)) preferred.push(t);
  const first = preferred
    .flatMap((t) => ALGORITHMS_OF_KEY_TYPE[t] ?? [t])
    .filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  const check: HostKeyCheck = { verify: () => false };
  if (first.length) check.serverHostKey = [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];

  let warned = false;
  const seen = new Set<string>();
  check.verify = (blob: Buffer): boolean => {
    const type = blobKeyType(blob);
    seen.add(type);
    check.retryOtherKeyType = false;
    const fp = fingerprint(blob);
    const line = knownHostsLine(host, port, blob);
    const fields = { node: node.name, host, port, fingerprint: fp, knownHostsLine: line };
    const accept = (via: string): boolean => {
      check.accepted = { type, fingerprint: fp, via, knownHostsLine: line };
      check.failure = undefined;
      reporter.debug(`[${node.name}] host key ${type} ${fp} accepted (${via})`);
      return true;
    };
    // Fail closed. insecureSkipHostKeyCheck lets through only a key nothing is on record for: a key
    // that contradicts a pin or a known_hosts entry (or is @revoked) is refused with it on too.
    const refuse = (err: SshError): boolean => {
      check.failure = err;
      return false;
    };
    const unknown = (err: SshError): boolean => {
      if (!opts.insecureSkipHostKeyCheck) return refuse(err);
      if (!warned) {
        warned = true;
        reporter.warn(
          `${describeTarget(node)}: host key of ${hp} NOT VERIFIED (insecure-skip-host-key-check): ${type} ${fp}` +
            `; to verify it, add to known_hosts: ${line}`,
        );
      }
      check.accepted = { type, fingerprint: fp, via: 'NOT VERIFIED (insecure-skip-host-key-check)' };
      return true;
    };

    const verdict = checkHostKey(kh, host, port, { type, blob });
    // Said in every refusal while the flag is on: it lets through only a host nothing is on record for.
    const notSkipped = opts.insecureSkipHostKeyCheck ? ' (insecure-skip-host-key-check does not let it through)' : '';
    if (pin && verdict.status !== 'revoked') {
      if ('fingerprint' in pin) {
        if (pin.fingerprint === fp) return accept('host_key in the config');
      } else if (pin.key.blob.equals(blob)) {
        return accept('host_key in the config');
      }
      const sameType = 'key' in pin && pin.key.type === type;
      // A pin of another key type cannot vouch for this key; a known_hosts line with this very key can.
      if (verdict.status === 'known' && !sameType) return accept(`known_hosts line ${verdict.line}`);
      if ('fingerprint' in pin) {
        // The fingerprint may be of another of the host's keys: ask for the types not seen yet.
        const rest = DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !seen.has(keyTypeOfAlgorithm(a)));
        if (rest.length) {
          check.serverHostKey = rest;
          check.retryOtherKeyType = true;
          reporter.debug(
            `[${node.name}] host key ${type} ${fp} is not the pinned ${pin.fingerprint}; asking for another key type`,
          );
        }
      }
      // A key of another type than the pinned one is a changed key, not an unknown one: a host that
      // still has its pinned key offers that type first (serverHostKey asks for it first), so only a
      // man-in-the-middle without the pinned key, or a host whose key was replaced, offers another.
      const otherType = 'key' in pin && !sameType ? pin.key.type : undefined;
      const pinned = 'fingerprint' in pin ? pin.fingerprint : `${pin.key.type} ${fingerprint(pin.key.blob)}`;
      return refuse(
        new SshError(
          `REMOTE HOST KEY CHANGED for ${describeTarget(node)} (${hp}): it offered an ${type} key (${fp}), which is not ` +
            `the host key pinned in the config: ${pinned}` +
            (otherType
              ? ` (the pin is of another type, and nothing on record vouches for an ${type} key of this host)`
              : '') +
            `. Refusing to connect${notSkipped}: someone may be intercepting the connection (man-in-the-middle), ` +
            'or the host was reinstalled.',
          {
            kind: 'host-key-changed',
            ...fields,
            hint: otherType
              ? `check the keys on the host itself (ssh-keygen -lf /etc/ssh/${hostFileName(otherType)}): a host that still ` +
                `has its ${otherType} key offers that one; only if it is gone on purpose, pin the ${type} key instead: ` +
                `host_key: "${fp}"`
              : `check the key on the host itself (ssh-keygen -lf /etc/ssh/${hostFileName(type)}); if the change is legitimate, ` +
                `set host_key for ${describeTarget(node)} to "${fp}"` +
                ('fingerprint' in pin ? ` (a fingerprint pin must be of the host's ${type} key)` : ''),
          },
        ),
      );
    }

    switch (verdict.status) {
      case 'known':
        return accept(`known_hosts line ${verdict.line}`);
      case 'revoked':
        return refuse(
          new SshError(
            `host key of ${describeTarget(node)} (${hp}) is REVOKED (known_hosts line ${verdict.line}): ${type} ${fp}. Refusing to connect.`,
            {
              kind: 'host-key',
              ...fields,
              hint: 'the key was marked @revoked on purpose: give the host a new key and add that one to known_hosts',
            },
          ),
        );
      case 'changed':
        return refuse(
          new SshError(
            `REMOTE HOST KEY CHANGED for ${describeTarget(node)} (${hp}): it presented ${type} ${fp}, but known_hosts ` +
              `line ${verdict.lines.join(', ')} has another ${type} key for it. Refusing to connect: someone may be ` +
              'intercepting the connection (man-in-the-middle), or the host was reinstalled.',
            {
              kind: 'host-key-changed',
              ...fields,
              hint:
                `check the key on the host itself (ssh-keygen -lf /etc/ssh/${hostFileName(type)}); only if the change is ` +
                `legitimate, replace known_hosts line ${verdict.lines.join(', ')} with: ${line}`,
            },
          ),
        );
      case 'other-type':
        return refuse(
          new SshError(
            `REMOTE HOST KEY CHANGED for ${describeTarget(node)} (${hp}): it offered an ${type} key (${fp}), but known_hosts ` +
              `line ${verdict.lines.join(', ')} lists ${verdict.types.join(', ')} for it, and no ${type} key. Refusing to ` +
              `connect${notSkipped}: someone may be intercepting the connection with a key of another type ` +
              '(man-in-the-middle), or the host was reinstalled.',
            {
              kind: 'host-key-changed',
              ...fields,
              hint:
                `check the keys on the host itself (ssh-keygen -lf /etc/ssh/${hostFileName(verdict.types[0])}): a host that ` +
                `still has its ${verdict.types.join(', ')} key offers that one; only if it is gone on purpose, add to ` +
                `known_hosts: ${line}`,
            },
          ),
        );
      case 'unknown':
        return unknown(
          new SshError(
            `host key of ${describeTarget(node)} (${hp}) is not known: ${type} ${fp}. Refusing to connect (host keys are verified by default).`,
            {
              kind: 'host-key',
              ...fields,
              unknownKey: true,
              hint:
                `if this is the host's key (check on the host: ssh-keygen -lf /etc/ssh/${hostFileName(type)}), add this line to ` +
                `known-hosts / --known-hosts: ${line}` +
                // A jump host has no host_key of its own in the config: known_hosts is its only record.
                (node.label ? '' : ` — or pin it in the config: host_key: "${fp}"`),
            },
          ),
        );
    }
  };
  return check;
}
