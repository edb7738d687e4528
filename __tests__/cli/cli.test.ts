import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArgs } from '../../src/cli/args';
import { main } from '../../src/cli/main';
import { SecretMask } from '../../src/render/secret-mask';

async function runCli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: tmpdir(), ...env },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nokube-cli-'));
  const file = join(dir, 'ray-config.yaml');
  writeFileSync(file, text);
  return file;
}

const VALID = `nodes:
  - ssh_url: "10.0.0.1:22"
    name: head
    role: head
    ray_config: {port: 10001, num_cpus: 2}
    users:
      - userid: admin
        password: "hunter2-secret"
  - ssh_url: "10.0.0.2"
    name: w1
    role: worker
`;

describe('nokube ray arguments', () => {
  it('reads every flag of SPEC section 5', () => {
    const parsed = parseCliArgs([
      'ray',
      'start',
      '--config',
      'c.yaml',
      '--identity',
      'a',
      '--identity',
      'b',
      '--known-hosts',
      'kh',
      '--user',
      'ray',
      '--insecure-skip-host-key-check',
      '--allow-missing-env',
      '--concurrency',
      '4',
      '--timeout',
      '60',
      '--wait-lock',
      '90',
      '--json',
      '--timeline',
    ]);
    expect(parsed).toEqual({
      settings: {
        command: 'start',
        config: 'c.yaml',
        identities: ['a', 'b'],
        knownHosts: 'kh',
        user: 'ray',
        insecureSkipHostKeyCheck: true,
        concurrency: 4,
        timeoutSec: 60,
        waitLockSec: 90,
        previous: undefined,
        offline: false,
        noDrain: false,
        allowMissingEnv: true,
        json: true,
        timeline: true,
        noWait: false,
        deep: false,
        rest: [],
        nodes: [],
        all: false,
        workers: false,
        format: 'sh',
        firewallFormat: 'table',
        showToken: false,
        workingDir: undefined,
        runtimeEnvJson: undefined,
        sinceSec: undefined,
        output: undefined,
        port: 8265,
        clientPort: 10001,
        head: undefined,
        workerHosts: [],
        hostsFile: undefined,
        acceptNew: false,
        knownHostsOut: undefined,
        pinHostKeys: false,
        force: false,
      },
    });
  });

  it('job and exec: the words after -- stay as they are; flags of other commands are refused', () => {
    const submit = parseCliArgs([
      'ray',
      'job',
      'submit',
      '--working-dir',
      'wd',
      '--',
      'python',
      '-c',
      'print("a b")',
      '--x',
    ]);
    expect(submit).toMatchObject({
      settings: {
        command: 'job',
        jobAction: 'submit',
        workingDir: 'wd',
        rest: ['python', '-c', 'print("a b")', '--x'],
      },
    });
    expect(parseCliArgs(['ray', 'job', 'status', 'raysubmit_1'])).toMatchObject({
      settings: { jobAction: 'status', jobId: 'raysubmit_1' },
    });
    expect(parseCliArgs(['ray', 'exec', '--node', 'a', '--node', 'b', '--', 'ls', '-l'])).toMatchObject({
      settings: { command: 'exec', nodes: ['a', 'b'], rest: ['ls', '-l'] },
    });
    expect(parseCliArgs(['ray', 'env', '--format', 'fish'])).toMatchObject({ settings: { format: 'fish' } });
    for (const [argv, message] of [
      [['ray', 'job', 'submit'], /needs an entrypoint after --/],
      [['ray', 'job', 'status'], /needs a JOB_ID/],
      [['ray', 'job', 'run'], /unknown job action "run"/],
      [['ray', 'exec'], /exec needs a command after --/],
      [['ray', 'exec', '--all', '--workers', '--', 'x'], /--all already names every node/],
      [['ray', 'start', '--working-dir', 'x'], /--working-dir is only for job submit/],
      [['ray', 'env', '--format', 'csh'], /--format must be one of sh, fish, json/],
    ] as [string[], RegExp][]) {
      expect(() => parseCliArgs(argv), argv.join(' ')).toThrow(message);
    }
  });

  it('defaults --config to ray-config.yaml', () => {
    expect(parseCliArgs(['ray', 'status'])).toMatchObject({
      settings: { config: 'ray-config.yaml', concurrency: 16, timeoutSec: 300 },
    });
  });

  it.each([
    [['ray', 'deploy'], /unknown command "ray deploy"/],
    [['kube', 'start'], /expected "nokube ray <command>"/],
    [['ray', 'start', '--concurrency', '0'], /--concurrency must be a positive whole number/],
    [['ray', 'start', '--timeout', 'soon'], /--timeout must be a positive whole number/],
    [['ray', 'start', '--bogus'], /bogus/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('nokube exit codes and output', () => {
  it('bad usage exits 2 with the usage text', async () => {
    const r = await runCli(['ray', 'launch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: nokube ray');
  });

  it('validate: a valid config exits 0 with warnings, never printing the password', async () => {
    const r = await runCli(['ray', 'validate', '--config', configFile(VALID), '--user', 'ray']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: nodes\[0\]\.users\[0\]\.password: a plaintext password/);
    expect(r.stdout + r.stderr).not.toContain('hunter2-secret');
  });

  it('validate: an invalid config exits 2 with file:line:col', async () => {
    const file = configFile(VALID.replace('num_cpus: 2', 'num_cpu: 2'));
    const r = await runCli(['ray', 'validate', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:5:31: error: nodes[0].ray_config.num_cpu: unknown key "num_cpu"`);
    expect(r.stderr).toContain('did you mean "num_cpus"?');
  });

  it('--json prints one document keyed by the Action outputs, with errors when it failed', async () => {
    const file = configFile(VALID.replace('role: worker', 'role: head'));
    const r = await runCli(['ray', 'validate', '--config', file, '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(
      expect.arrayContaining([
        'status',
        'head-address',
        'client-address',
        'dashboard-url',
        'nodes',
        'alive-nodes',
        'expected-nodes',
        'changes',
        'plan',
        'errors',
      ]),
    );
    expect(doc.errors[0].message).toMatch(/head/);
  });

  it('offline plan against a previous file shows the drift', async () => {
    const prev = configFile(VALID);
    const next = configFile(VALID.replace('num_cpus: 2', 'num_cpus: 4'));
    const r = await runCli(['ray', 'plan', '--config', next, '--previous', prev, '--json', '--user', 'ray']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.changes).toBe(2);
    expect(doc.plan[0]).toMatchObject({
      node: 'head',
      action: 'restart',
      drift: [{ field: 'ray_config.num_cpus', from: '2', to: '4' }],
    });
    expect(doc.plan[1]).toMatchObject({ node: 'w1', action: 'restart', reason: 'the head restarts' });
  });

  it('an unreadable --identity is a usage error (exit 2), not a stack trace', async () => {
    const r = await runCli(['ray', 'status', '--config', configFile(VALID), '--identity', '/nonexistent/key']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nokube: cannot read --identity /nonexistent/key: ENOENT\n');
  });
});

describe('--proxy-jump and --ssh-config', () => {
  it('a bad --proxy-jump is a usage error (exit 2) naming the hop', async () => {
    const r = await runCli(['ray', 'status', '--config', configFile(VALID), '--proxy-jump', 'bastion:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^nokube: --proxy-jump: .*the port 0 is outside 1–65535/);
  });

  it('an unreadable --ssh-config is a usage error (exit 2)', async () => {
    const r = await runCli(['ray', 'status', '--config', configFile(VALID), '--ssh-config', '/nonexistent/config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('nokube: cannot read --ssh-config /nonexistent/config: ENOENT\n');
  });
});

describe('secret masking', () => {
  it('masks whole secrets and each line of a multi-line key', () => {
    const mask = new SecretMask();
    mask.add('-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----');
    mask.add('pw-1234');
    expect(mask.apply('x AAAABBBBCCCC y pw-1234')).toBe('x *** y ***');
  });
});
