import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshOptions } from '../../src/ssh/types';
import { planLogins, type AuthStep } from '../../src/ssh/auth';
import { SshError } from '../../src/ssh/errors';
import { loadKey } from '../../src/ssh/keys';
import { makeTestKeys, type TestKeys } from './keygen';
import { recordingReporter, testNode, testUser } from './helpers';

let keys: TestKeys;
beforeAll(() => {
  keys = makeTestKeys();
});
afterAll(() => keys.cleanup());

function options(o: Partial<SshOptions> = {}): SshOptions {
  return {
    identities: [
      { label: 'ssh-private-key input #1', key: keys.ecdsa.key },
      { label: 'ssh-private-key input #2', key: keys.rsaPem.key },
      { label: 'ssh-private-key input #3', key: keys.ed25519.key },
    ],
    passphrase: keys.passphrase,
    knownHosts: '',
    insecureSkipHostKeyCheck: false,
    connectTimeoutSec: 5,
    ...o,
  };
}

const describeSteps = (steps: AuthStep[]) => steps.map((s) => s.describe);

async function configError(p: Promise<unknown>): Promise<SshError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SshError);
  expect((err as SshError).kind).toBe('config');
  return err as SshError;
}

describe('key loading', () => {
  it('reads OpenSSH ed25519, PEM RSA and an encrypted ECDSA key with its passphrase', () => {
    const r = recordingReporter();
    for (const [k, type] of [
      [keys.ed25519, 'ssh-ed25519'],
      [keys.rsaPem, 'ssh-rsa'],
      [keys.ecdsa, 'ecdsa-sha2-nistp256'],
    ] as const) {
      const loaded = loadKey({ label: 'L', key: k.key }, keys.passphrase, r);
      expect(loaded).toMatchObject({ label: 'L', type, fingerprint: k.fingerprint });
    }
    expect(keys.rsaPem.key).toContain('BEGIN RSA PRIVATE KEY');
    expect(r.secrets).toContain(keys.ecdsa.key);
  });

  it('names the key (never its content) when the passphrase is missing or wrong', () => {
    const r = recordingReporter();
    const missing = loadKey({ label: 'id_ecdsa input #1', key: keys.ecdsa.key }, undefined, r);
    expect(missing).toMatchObject({
      problem: 'private key id_ecdsa input #1 is encrypted and no passphrase was given',
    });
    // the public half of an OpenSSH key is readable without the passphrase
    expect(missing).toMatchObject({ fingerprint: keys.ecdsa.fingerprint });
    const wrong = loadKey({ label: 'id_ecdsa input #1', key: keys.ecdsa.key }, 'nope', r);
    expect('problem' in wrong && wrong.problem).toMatch(/id_ecdsa input #1 could not be decrypted .*wrong passphrase/);
    const pub = loadKey({ label: 'pasted', key: keys.ed25519.pub }, undefined, r);
    expect('problem' in pub && pub.problem).toMatch(
      /^private key pasted is not a key nokube can read|pasted is a public key/,
    );
    const garbage = loadKey({ label: 'junk', key: 'hello' }, undefined, r);
    expect('problem' in garbage && garbage.problem).toMatch(/junk is not a key nokube can read/);
  });
});

describe('planLogins', () => {
  it('selects, for each user with an sshkey, the supplied key whose public half matches', async () => {
    const node = testNode({
      users: [
        testUser('a', { sshkey: keys.rsaPem.pub }),
        testUser('b', { sshkey: keys.ecdsa.pub }),
        testUser('c', { sshkey: keys.ed25519.pub }),
      ],
    });
    const { plans } = await planLogins(node, options(), { env: {}, reporter: recordingReporter() });
    expect(plans.map((p) => [p.user, describeSteps(p.steps)])).toEqual([
      ['a', ['publickey ssh-rsa (ssh-private-key input #2)']],
      ['b', ['publickey ecdsa-sha2-nistp256 (ssh-private-key input #1)']],
      ['c', ['publickey ssh-ed25519 (ssh-private-key input #3)']],
    ]);
  });

  it('expands ${NAME} in userid like the other credentials (never logs in as the literal text)', async () => {
    const r = recordingReporter();
    const node = testNode({ users: [testUser('${RAY_USER}', { password: 'pw' })] });
    const { plans } = await planLogins(node, options(), { env: { RAY_USER: 'deploy' }, reporter: r });
    expect(plans[0].user).toBe('deploy');
    const err = await configError(planLogins(node, options(), { env: {}, reporter: r }));
    expect(err.message).toContain('RAY_USER');
  });

  it('expands ${NAME} in passwords and registers the result as a secret', async () => {
    const r = recordingReporter();
    const node = testNode({ users: [testUser('admin', { password: 'pre-${RAY_PW}' })] });
    const { plans } = await planLogins(node, options(), { env: { RAY_PW: 's3cret' }, reporter: r });
    expect(plans[0].steps).toEqual([{ type: 'password', password: 'pre-s3cret', describe: 'password' }]);
    expect(r.secrets).toContain('pre-s3cret');
    const err = await configError(planLogins(node, options(), { env: {}, reporter: r }));
    expect(err.message).toContain('RAY_PW');
    expect(err.message).toContain('ray-head');
    expect(err.message).not.toContain('s3cret');
  });

  it('errors with the node, the user and the fingerprint when no supplied key matches', async () => {
    const node = testNode({ users: [testUser('deploy', { sshkey: keys.other.pub })] });
    const err = await configError(planLogins(node, options(), { env: {}, reporter: recordingReporter() }));
    expect(err.message).toContain('node ray-head: user deploy');
    expect(err.message).toContain(keys.other.fingerprint);
    expect(err.message).toContain(keys.rsaPem.fingerprint); // what was supplied instead
    expect(err.user).toBe('deploy');
  });

  it('says when the matching key is the encrypted one and the passphrase is missing', async () => {
    const node = testNode({ users: [testUser('deploy', { sshkey: keys.ecdsa.pub })] });
    const err = await configError(
      planLogins(node, options({ passphrase: undefined }), { env: {}, reporter: recordingReporter() }),
    );
    expect(err.message).toContain('ssh-private-key input #1 is encrypted and no passphrase was given');
    expect(err.message).not.toContain('PRIVATE KEY-----');
  });

  it('skips a user whose key was not supplied when another user can try', async () => {
    const r = recordingReporter();
    const node = testNode({ users: [testUser('x', { sshkey: keys.other.pub }), testUser('y', { password: 'pw' })] });
    const { plans, skipped } = await planLogins(node, options(), { env: {}, reporter: r });
    expect(plans.map((p) => p.user)).toEqual(['y']);
    expect(skipped.map((e) => e.user)).toEqual(['x']);
  });

  it('without users: the default user with every usable key, skipping (with a warning) keys it cannot read', async () => {
    const r = recordingReporter();
    const node = testNode();
    const { plans } = await planLogins(node, options({ passphrase: undefined, defaultUser: 'ubuntu' }), {
      env: {},
      reporter: r,
    });
    expect(plans).toHaveLength(1);
    expect(plans[0].user).toBe('ubuntu');
    expect(describeSteps(plans[0].steps)).toEqual([
      'publickey ssh-rsa (ssh-private-key input #2)',
      'publickey ssh-ed25519 (ssh-private-key input #3)',
    ]);
    expect(r.warnings.join('\n')).toContain('ssh-private-key input #1 is encrypted');

    const withAgent = await planLogins(node, options({ defaultUser: 'ubuntu', agentSocket: '/nonexistent.sock' }), {
      env: {},
      reporter: r,
    });
    expect(describeSteps(withAgent.plans[0].steps)).toHaveLength(4);
    expect(describeSteps(withAgent.plans[0].steps)[3]).toBe('agent');
  });

  it('without users and without a default user: says how to give one', async () => {
    const err = await configError(planLogins(testNode(), options(), { env: {}, reporter: recordingReporter() }));
    expect(err.message).toBe('no user for node ray-head: add users: to the config or pass --user / ssh-user');
  });

  it('without users, keys or agent: a config error', async () => {
    const err = await configError(
      planLogins(testNode(), options({ identities: [], defaultUser: 'u' }), { env: {}, reporter: recordingReporter() }),
    );
    expect(err.message).toMatch(/no way to log in to node ray-head as u/);
  });
});
