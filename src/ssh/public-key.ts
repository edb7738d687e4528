// Public keys as OpenSSH shows them: "type base64 [comment]" lines, the wire blob, and the
// `SHA256:` fingerprint `ssh-keygen -lf` prints. No secrets here: public halves only.
import { createHash } from 'node:crypto';

export interface PublicKey {
  /** Key type from the blob: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ... */
  type: string;
  /** The SSH wire encoding of the public key. */
  blob: Buffer;
  comment?: string;
}

/** The key type encoded at the start of a wire blob (uint32 length + name). */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.toString('latin1', 4, 4 + len);
}

/** `SHA256:` + unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses "type base64 [comment]" (an authorized_keys / .pub / known_hosts key part). Returns
 * undefined when it is not one, or when the type named does not match the blob's own type.
 */
export function parsePublicKeyLine(line: string): PublicKey | undefined {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || !BASE64.test(parts[1])) return undefined;
  const blob = Buffer.from(parts[1], 'base64');
  const type = blobKeyType(blob);
  if (type !== parts[0]) return undefined;
  const comment = parts.slice(2).join(' ');
  return comment ? { type, blob, comment } : { type, blob };
}

/** The host name as known_hosts writes it: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** A ready-to-paste known_hosts line for this host and key. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${knownHostsName(host, port)} ${blobKeyType(blob)} ${blob.toString('base64')}`;
}

/** True when the string looks like a `SHA256:` fingerprint (base64, padding optional). */
export function isFingerprint(s: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(s.trim());
}

/** Normalises a `SHA256:` fingerprint (drops base64 padding and surrounding space). */
export function normalizeFingerprint(s: string): string {
  return s.trim().replace(/=+$/, '');
}
