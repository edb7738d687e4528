// Credentials checked at validate: every ${NAME} resolved against the environment the front end passes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { formatDiagnostic, parseConfig } from '../../src/config';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci';
const PRIVATE = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

const CONFIG = [
  'nodes:', // 1
  '  - ssh_url: "10.0.0.1:22"',
  '    name: ray-head',
  '    role: head',
  '    users:', // 5
  '      - userid: admin',
  '        password: ${RAY_PROD_PASSWORD}',
  '  - ssh_url: "10.0.0.2:22"',
  '    name: ray-worker-1',
  '    role: worker', // 10
  '    users:',
  '      - userid: ${RAY_USER}',
  '        sshkey: "${RAY_PUBLIC_KEY}"',
].join('\n');

const parse = (text: string, env: Record<string, string | undefined>, allowMissingEnv = false) =>
  parseConfig(text, 'ray-config.yaml', { env, allowMissingEnv });

describe('${NAME} in credentials at validate', () => {
  it('an unset variable is an error naming the variable, the node and file:line:col', () => {
    const { diagnostics, config } = parse(CONFIG, { RAY_USER: 'deploy', RAY_PUBLIC_KEY: KEY });
    expect(config).toBeUndefined();
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'ray-config.yaml:7:19: error: nodes[0].users[0].password: environment variable RAY_PROD_PASSWORD is not set (users[0].password reads it) ' +
        '(hint: set it (export RAY_PROD_PASSWORD=...), or in a workflow map a secret into it: env: RAY_PROD_PASSWORD: ${{ secrets.RAY_PROD_PASSWORD }}; ' +
        '--allow-missing-env (the allow-missing-env input) makes this a warning for an offline plan)',
    ]);
    expect(diagnostics[0]!.node).toBe('ray-head');
  });

  it('an empty variable counts as unset (a missing GitHub secret is "")', () => {
    const { diagnostics } = parse(CONFIG, { RAY_PROD_PASSWORD: '', RAY_USER: 'deploy', RAY_PUBLIC_KEY: KEY });
    expect(diagnostics.map((d) => [d.line, d.severity, d.message])).toEqual([
      [7, 'error', 'environment variable RAY_PROD_PASSWORD is not set (users[0].password reads it)'],
    ]);
  });

  it('every unset variable is reported, at its own ${', () => {
    const { diagnostics } = parse(CONFIG, {});
    expect(diagnostics.map((d) => `${d.line}:${d.col} ${d.node} ${d.message}`)).toEqual([
      '7:19 ray-head environment variable RAY_PROD_PASSWORD is not set (users[0].password reads it)',
      '12:17 ray-worker-1 environment variable RAY_USER is not set (users[0].userid reads it)',
      '13:18 ray-worker-1 environment variable RAY_PUBLIC_KEY is not set (users[0].sshkey reads it)',
    ]);
  });

  it('allowMissingEnv (offline plan) turns them into warnings and keeps the config', () => {
    const { diagnostics, config } = parse(CONFIG, {}, true);
    expect(config).toBeDefined();
    expect(diagnostics.every((d) => d.severity === 'warning')).toBe(true);
    expect(diagnostics[0]!.hint).toContain('offline plan');
  });

  it('without an environment (pure parsing) references are only checked for syntax', () => {
    expect(parseConfig(CONFIG, 'ray-config.yaml').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('a private key arriving through ${VAR} is an error, and is never shown', () => {
    const { diagnostics } = parse(CONFIG, { RAY_PROD_PASSWORD: 'pw', RAY_USER: 'deploy', RAY_PUBLIC_KEY: PRIVATE });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      severity: 'error',
      line: 13,
      node: 'ray-worker-1',
      message: 'environment variable RAY_PUBLIC_KEY holds a private key (not shown)',
    });
    expect(diagnostics[0]!.hint).toContain('PUBLIC key line');
    expect(JSON.stringify(diagnostics)).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
  });

  it('$NAME without braces gets a hint that ${NAME} is what expands', () => {
    const text = CONFIG.replace('${RAY_PROD_PASSWORD}', '$RAY_PW');
    const { diagnostics } = parse(text, { RAY_USER: 'deploy', RAY_PUBLIC_KEY: KEY, RAY_PW: 'x' });
    expect(diagnostics.map((d) => [d.line, d.col, d.severity, d.message, d.hint])).toEqual([
      [
        7,
        19,
        'warning',
        '`$RAY_PW` is not read from the environment: the password is this text as written',
        'only ${NAME} with braces is read from the environment: write "${RAY_PW}"',
      ],
    ]);
  });

  it('userid: $USER is a login name "$USER", said so', () => {
    const text = CONFIG.replace('userid: ${RAY_USER}', 'userid: $USER');
    const { diagnostics } = parse(text, { RAY_PROD_PASSWORD: 'pw', RAY_PUBLIC_KEY: KEY });
    expect(diagnostics.map((d) => d.hint)).toEqual([expect.stringContaining('write "${USER}"')]);
  });
});

describe('the CLI', () => {
  async function validate(argv: string[], env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-env-'));
    const file = join(dir, 'ray-config.yaml');
    writeFileSync(file, CONFIG);
    let stderr = '';
    const code = await main(['ray', 'validate', '--config', file, ...argv], {
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      env: { HOME: dir, ...env },
      isTTY: false,
    });
    return { code, stderr, file };
  }

  it('validate with an unset variable exits 2 and names it', async () => {
    const r = await validate([], { RAY_USER: 'deploy', RAY_PUBLIC_KEY: KEY });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${r.file}:7:19: error: nodes[0].users[0].password: environment variable RAY_PROD_PASSWORD is not set`,
    );
  });

  it('--allow-missing-env makes it a warning (exit 0)', async () => {
    const r = await validate(['--allow-missing-env'], { RAY_USER: 'deploy', RAY_PUBLIC_KEY: KEY });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'warning: nodes[0].users[0].password: environment variable RAY_PROD_PASSWORD is not set',
    );
  });
});
