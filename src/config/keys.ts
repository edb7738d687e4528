// Recognising SSH keys in the config: public key lines (sshkey, host_key), host key fingerprints,
// and private keys pasted where they must never be (reported without repeating them).

const PUBLIC_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
];

export interface KeyProblem {
  message: string;
  hint: string;
}

const PUBLIC_KEY_HINT =
  'paste the whole line of the .pub file: "ssh-ed25519 AAAA... comment" (ssh-keygen -y -f KEYFILE prints it)';

/** Problems with a public key line ("ssh-ed25519 AAAAC3... comment"), or undefined when it is fine. */
export function checkPublicKeyLine(line: string): KeyProblem | undefined {
  const text = line.trim();
  const [type = '', data = ''] = text.split(/\s+/);
  if (!PUBLIC_KEY_TYPES.includes(type)) {
    if (/^(~|\.{0,2}\/)/.test(text)) return { message: 'this is a file path, not a public key', hint: PUBLIC_KEY_HINT };
    if (type === 'ssh-dss')
      return {
        message: 'DSA keys are no longer accepted by OpenSSH',
        hint: 'use an ed25519 key: ssh-keygen -t ed25519',
      };
    const embedded = PUBLIC_KEY_TYPES.find((t) => text.includes(` ${t} `));
    if (embedded)
      return {
        message: 'the key line starts with something other than the key type',
        hint: `start at "${embedded}": no authorized_keys options or host names in front`,
      };
    return {
      message: `not a public key line (it must start with ${PUBLIC_KEY_TYPES.slice(0, 3).join(', ')}, ...)`,
      hint: PUBLIC_KEY_HINT,
    };
  }
  if (!/^AAAA[A-Za-z0-9+/]+={0,3}$/.test(data))
    return { message: `the key data after "${type}" is missing or not base64`, hint: PUBLIC_KEY_HINT };
  // The base64 blob starts with its own type name: a truncated or mixed-up paste shows here.
  const blob = Buffer.from(data, 'base64');
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  const inner = length > 0 && length <= blob.length - 4 ? blob.subarray(4, 4 + length).toString('latin1') : '';
  if (inner === type && !wellFormedBlob(blob))
    return { message: 'the key data is truncated or damaged', hint: PUBLIC_KEY_HINT };
  if (inner !== type) {
    return {
      message:
        inner && PUBLIC_KEY_TYPES.includes(inner)
          ? `the key says "${type}" but its data is a "${inner}" key`
          : 'the key data is truncated or damaged',
      hint: PUBLIC_KEY_HINT,
    };
  }
  return undefined;
}

/** An SSH key blob is a sequence of length-prefixed fields that uses up every byte: a cut paste does not. */
function wellFormedBlob(blob: Buffer): boolean {
  let at = 0;
  let fields = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return false;
    const length = blob.readUInt32BE(at);
    at += 4 + length;
    fields += 1;
  }
  return at === blob.length && fields >= 2;
}

/** A pinned host key: a public key line, or the `SHA256:...` fingerprint `ssh-keygen -lf` prints. */
export function checkHostKey(value: string): KeyProblem | undefined {
  const text = value.trim();
  if (/^SHA256:/.test(text)) {
    return /^SHA256:[A-Za-z0-9+/]{43}=?$/.test(text)
      ? undefined
      : {
          message: 'the SHA256 fingerprint should be 43 base64 characters after "SHA256:"',
          hint: 'copy it from ssh-keyscan HOST | ssh-keygen -lf -',
        };
  }
  if (/^(MD5:)?([0-9a-f]{2}:){15}[0-9a-f]{2}$/i.test(text)) {
    return {
      message: 'MD5 fingerprints are not accepted',
      hint: 'use the SHA256 fingerprint: ssh-keyscan HOST | ssh-keygen -lf -',
    };
  }
  const problem = checkPublicKeyLine(text);
  if (!problem) return undefined;
  return {
    message: `expected a host public key line or a SHA256: fingerprint; ${problem.message}`,
    hint: 'take it from ssh-keyscan HOST (the part after the host name), or its SHA256 fingerprint',
  };
}

/** Offsets in the text where a private key begins. */
export function findPrivateKeys(text: string): number[] {
  const offsets: number[] = [];
  for (const match of text.matchAll(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:/g))
    offsets.push(match.index);
  return offsets;
}

export const PRIVATE_KEY_HINT =
  'remove it, store it as a secret, and pass it with the ssh-private-key input (or --identity FILE); to choose a key for a user, put its PUBLIC key line in sshkey';
