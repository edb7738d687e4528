import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputError, readInputs, splitPrivateKeys } from '../../src/action/inputs';
import { SecretRegistry } from '../../src/action/secrets';

const KEY_A =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAkeyAline1secret\nAAAAkeyAline2secret\n-----END OPENSSH PRIVATE KEY-----';
const KEY_B =
  '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nBBBBkeyBline1secret\n-----END RSA PRIVATE KEY-----';

let written: string[];
const saved = { ...process.env };

beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k];
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

function setInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
}

describe('readInputs', () => {
  it('has the action.yml defaults', () => {
    const inputs = readInputs(new SecretRegistry());
    expect(inputs).toEqual({
      command: 'plan',
      config: 'ray-config.yaml',
      sshPrivateKeys: [],
      sshPassphrase: undefined,
      sshUser: undefined,
      proxyJump: undefined,
      sshConfig: '',
      knownHosts: '',
      insecureSkipHostKeyCheck: false,
      allowMissingEnv: false,
      githubToken: undefined,
      commentOnPr: true,
      failOnUnhealthy: true,
      concurrency: 16,
      timeoutSec: 300,
      waitLockSec: 0,
      noDrain: false,
    });
  });

  it('reads every input', () => {
    setInputs({
      command: ' Start ',
      config: 'clusters/prod.yaml',
      'ssh-user': 'ray',
      'known-hosts': '[h]:2222 ssh-ed25519 AAAA\n',
      'insecure-skip-host-key-check': 'TRUE',
      'allow-missing-env': 'true',
      'comment-on-pr': 'false',
      'fail-on-unhealthy': 'False',
      concurrency: '4',
      timeout: '60',
      'no-drain': 'true',
    });
    const inputs = readInputs(new SecretRegistry());
    expect(inputs).toMatchObject({
      command: 'start',
      config: 'clusters/prod.yaml',
      sshUser: 'ray',
      knownHosts: '[h]:2222 ssh-ed25519 AAAA\n',
      insecureSkipHostKeyCheck: true,
      allowMissingEnv: true,
      commentOnPr: false,
      failOnUnhealthy: false,
      concurrency: 4,
      timeoutSec: 60,
      noDrain: true,
    });
  });

  it('command: job reads entrypoint, working-directory and runtime-env-json; entrypoint is required there only', () => {
    setInputs({
      command: 'job',
      entrypoint: 'python smoke.py',
      'working-directory': 'smoke',
      'runtime-env-json': '{}',
    });
    expect(readInputs(new SecretRegistry()).job).toEqual({
      entrypoint: 'python smoke.py',
      workingDirectory: 'smoke',
      runtimeEnvJson: '{}',
    });
    setInputs({ entrypoint: '' });
    expect(() => readInputs(new SecretRegistry())).toThrow(/input entrypoint: is required for command: job/);
    setInputs({ command: 'start', entrypoint: 'python smoke.py' });
    expect(() => readInputs(new SecretRegistry())).toThrow(/input entrypoint: is only used by command: job/);
  });

  it.each([
    ['command', 'deploy', /input command: "deploy" is not one of validate, plan, start, status, stop, job/],
    ['concurrency', '0', /input concurrency: "0" is not a whole number from 1/],
    ['concurrency', '2.5', /input concurrency/],
    ['timeout', '-1', /input timeout/],
    ['comment-on-pr', 'maybe', /input comment-on-pr: "maybe" is not a boolean/],
    ['fail-on-unhealthy', 'yes please', /input fail-on-unhealthy/],
    ['insecure-skip-host-key-check', '1', /input insecure-skip-host-key-check/],
    ['no-drain', 'skip', /input no-drain: "skip" is not a boolean/],
    ['proxy-jump', 'a,b,c,d', /input proxy-jump: .*4 hops; at most 3/],
  ])('names the bad input %s=%s', (name, value, message) => {
    setInputs({ [name]: value });
    expect(() => readInputs(new SecretRegistry())).toThrow(message);
  });

  it('masks every secret, each key and each key line, before any other input is read', () => {
    setInputs({
      'ssh-private-key': `${KEY_A}\n${KEY_B}\n`,
      'ssh-passphrase': 'pass-phrase-1',
      'github-token': 'ghs_token123',
      command: 'nonsense',
    });
    expect(() => readInputs(new SecretRegistry())).toThrow(InputError);
    const masks = written
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'));
    for (const s of [
      'AAAAkeyAline1secret',
      'AAAAkeyAline2secret',
      'BBBBkeyBline1secret',
      'pass-phrase-1',
      'ghs_token123',
    ]) {
      expect(masks).toContain(`::add-mask::${s}`);
    }
    // The keys themselves, whole (multi-line, escaped by the toolkit).
    expect(masks.some((m) => m.includes('AAAAkeyAline1secret%0AAAAAkeyAline2secret'))).toBe(true);
    // Framing lines are not secrets: masking them would garble every log.
    expect(masks).not.toContain('::add-mask::-----END OPENSSH PRIVATE KEY-----');
    expect(masks).not.toContain('::add-mask::Proc-Type: 4,ENCRYPTED');
  });
});

describe('splitPrivateKeys', () => {
  it('splits keys pasted one after another, normalising CRLF', () => {
    const keys = splitPrivateKeys(`\n${KEY_A}\r\n\r\n${KEY_B.replace(/\n/g, '\r\n')}\r\n`);
    expect(keys).toEqual([`${KEY_A}\n`, `${KEY_B}\n`]);
  });

  it('is empty for an empty input', () => {
    expect(splitPrivateKeys('  \n')).toEqual([]);
  });

  it('explains a public key given instead of a private one', () => {
    expect(() => splitPrivateKeys('ssh-ed25519 AAAAC3Nza deploy@ci')).toThrow(
      /input ssh-private-key: no private key found: this looks like a public key/,
    );
  });

  it('rejects a block that is not a private key', () => {
    expect(() => splitPrivateKeys('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toThrow(
      /CERTIFICATE block is not a private key/,
    );
  });
});

describe('SecretRegistry', () => {
  it('masks longest first', () => {
    const s = new SecretRegistry();
    s.add('abc');
    s.add('abcdef');
    expect(s.mask('x abcdef y abc')).toBe('x *** y ***');
  });
});
