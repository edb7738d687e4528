// run() in process with the engine mocked: how results become annotations, outputs, the summary,
// the sticky comment and the step's verdict, independent of what the engine can do yet.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunOptions, RunResult } from '../../src/engine/types';
import { FakeGitHub } from './fake-github';
import { parseOutputFile } from './runner';

const engine = vi.hoisted(() => ({ run: vi.fn<(options: RunOptions) => Promise<RunResult>>() }));
vi.mock('../../src/engine', () => engine);

import { run } from '../../src/action/main';

const saved = { ...process.env };
// core.summary caches the summary file's path on first use: one file for the whole test file.
const summaryFile = join(mkdtempSync(join(tmpdir(), 'nokube-summary-')), 'summary');
const cwd = process.cwd();
let dir: string;
let stdout: string[];
let github: FakeGitHub;

function result(extra: Partial<RunResult> = {}): RunResult {
  return {
    command: 'status',
    configPath: 'ray-config.yaml',
    ok: true,
    status: 'healthy',
    clusterName: 'demo',
    headAddress: '10.0.0.1:6379',
    nodes: [
      {
        name: 'ray-head',
        role: 'head',
        host: '10.0.0.1',
        state: 'running',
        rayVersion: '2.40.0',
        resources: { CPU: 2 },
      },
    ],
    aliveNodes: 1,
    expectedNodes: 1,
    changes: 0,
    diagnostics: [],
    errors: [],
    warnings: [],
    timings: [{ phase: 'total', ms: 10 }],
    ...extra,
  };
}

beforeEach(async () => {
  github = await new FakeGitHub().start();
  dir = mkdtempSync(join(tmpdir(), 'nokube-main-'));
  writeFileSync(join(dir, 'ray-config.yaml'), 'nodes: []\n');
  writeFileSync(join(dir, 'output'), '');
  writeFileSync(summaryFile, '');
  for (const k of Object.keys(process.env))
    if (k.startsWith('INPUT_') || k.startsWith('GITHUB_') || k === 'RUNNER_DEBUG') delete process.env[k];
  Object.assign(process.env, {
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'acme/cluster',
    GITHUB_RUN_ID: '99',
    GITHUB_SHA: 'abcdef1234567890',
    GITHUB_API_URL: github.url,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_TOKEN: 'ambient-token',
    INPUT_CONFIG: 'ray-config.yaml',
  });
  process.chdir(dir);
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  engine.run.mockReset();
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.chdir(cwd);
  process.env = { ...saved };
  process.exitCode = undefined;
  await github.stop();
});

const log = () => stdout.join('');
const outputs = () => parseOutputFile(readFileSync(join(dir, 'output'), 'utf8'));
const summary = () => readFileSync(summaryFile, 'utf8');

function inputs(values: Record<string, string>): void {
  for (const [k, v] of Object.entries(values)) process.env[`INPUT_${k.toUpperCase()}`] = v;
}

describe('the step verdict', () => {
  it('passes a healthy status and sets the outputs', async () => {
    inputs({ command: 'status' });
    engine.run.mockResolvedValue(result());
    await run();
    expect(process.exitCode).toBeUndefined();
    expect(outputs()).toMatchObject({
      status: 'healthy',
      'head-address': '10.0.0.1:6379',
      'alive-nodes': '1',
      'expected-nodes': '1',
      changes: '0',
      plan: '[]',
    });
    expect(JSON.parse(outputs().nodes)).toEqual([
      {
        name: 'ray-head',
        role: 'head',
        host: '10.0.0.1',
        state: 'running',
        ray_version: '2.40.0',
        resources: { CPU: 2 },
        restarts: null,
        last_restart: null,
        supervision: null,
      },
    ]);
    expect(summary()).toContain('Cluster demo is healthy: 1 of 1 nodes alive.');
  });

  it('fails a degraded status unless fail-on-unhealthy is false', async () => {
    inputs({ command: 'status' });
    engine.run.mockResolvedValue(result({ status: 'degraded', aliveNodes: 1, expectedNodes: 2 }));
    await run();
    expect(process.exitCode).toBe(1);
    expect(log()).toContain('::error::the cluster is degraded: 1 of 2 nodes alive (fail-on-unhealthy is true)');

    process.exitCode = undefined;
    inputs({ 'fail-on-unhealthy': 'false' });
    await run();
    expect(process.exitCode).toBeUndefined();
  });

  it('names the nodes an unhealthy cluster lacks in the failure', async () => {
    inputs({ command: 'status' });
    const head = result().nodes[0];
    engine.run.mockResolvedValue(
      result({
        status: 'degraded',
        aliveNodes: 1,
        expectedNodes: 3,
        nodes: [
          head,
          { name: 'ray-w1', role: 'worker', host: '10.0.0.2', state: 'missing' },
          { name: 'ray-w2', role: 'worker', host: '10.0.0.3', state: 'unreachable' },
        ],
      }),
    );
    await run();
    expect(process.exitCode).toBe(1);
    expect(log()).toContain(
      '::error::the cluster is degraded: 1 of 3 nodes alive, ray-w1 is missing, ray-w2 is unreachable (fail-on-unhealthy is true)',
    );

    engine.run.mockResolvedValue(
      result({
        status: 'stopped',
        aliveNodes: 0,
        expectedNodes: 1,
        nodes: [{ ...head, state: 'stopped' }],
      }),
    );
    await run();
    expect(log()).toContain('::error::the cluster is stopped: 0 of 1 nodes alive (fail-on-unhealthy is true)');
  });

  it('fails a start that ends unhealthy, and a failed command with its first error', async () => {
    inputs({ command: 'start' });
    engine.run.mockResolvedValue(result({ command: 'start', status: 'degraded' }));
    await run();
    expect(process.exitCode).toBe(1);

    process.exitCode = undefined;
    engine.run.mockResolvedValue(
      result({
        command: 'start',
        ok: false,
        status: 'down',
        errors: [{ node: 'ray-head', message: 'port 6379 in use', hint: 'free it' }],
      }),
    );
    await run();
    expect(process.exitCode).toBe(1);
    expect(log()).toContain('::error::start failed: ray-head: port 6379 in use');
    expect(log()).toContain('::error title=ray-head::port 6379 in use (hint: free it)');
    expect(summary()).toContain('hint: free it');
  });

  it('still writes a summary and outputs when the engine throws', async () => {
    inputs({ command: 'status' });
    engine.run.mockRejectedValue(new Error('engine exploded'));
    await run();
    expect(process.exitCode).toBe(1);
    expect(log()).toContain('::error::engine exploded');
    expect(summary()).toContain('engine exploded');
    expect(outputs().status).toBe('unknown');
  });

  it('fails on a bad input with a summary, before the engine runs', async () => {
    inputs({ command: 'status', timeout: 'forever' });
    await run();
    expect(engine.run).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(1);
    expect(summary()).toContain('input timeout: &quot;forever&quot; is not a whole number');
  });
});

describe('RunOptions', () => {
  it('maps inputs, the workspace and the debug mode, and keeps the runner’s tokens from the config', async () => {
    inputs({
      command: 'status',
      'ssh-private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretline\n-----END OPENSSH PRIVATE KEY-----',
      'ssh-user': 'ray',
      concurrency: '3',
      timeout: '20',
    });
    process.env.RUNNER_DEBUG = '1';
    process.env.RAY_PASSWORD = 'from-a-secret';
    engine.run.mockResolvedValue(result());
    await run();
    const options = engine.run.mock.calls[0][0];
    expect(options.command).toBe('status');
    expect(options.configPath).toBe('ray-config.yaml');
    expect(options.ssh.identities).toEqual([
      {
        label: 'ssh-private-key input #1',
        key: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretline\n-----END OPENSSH PRIVATE KEY-----\n',
      },
    ]);
    expect(options.ssh.defaultUser).toBe('ray');
    expect(options.ssh.connectTimeoutSec).toBe(20);
    expect(options.concurrency).toBe(3);
    expect(options.timeoutSec).toBe(20);
    expect(options.offline).toBeUndefined();
    expect(options.previousConfigText).toBeUndefined();
    expect(options.env.RAY_PASSWORD).toBe('from-a-secret');
    expect(options.env.NOKUBE_DEBUG).toBe('1');
    expect(Object.keys(options.env).filter((k) => k.startsWith('INPUT_') || k === 'GITHUB_TOKEN')).toEqual([]);
    expect(options.remoteLibDir).toBe(resolve(__dirname, '..', '..', 'remote_lib'));

    // The reporter: progress to the log, secrets masked from then on, debug as ::debug::.
    options.reporter.secret('hunter2-hunter2');
    options.reporter.node('ray-head', 'started with hunter2-hunter2', 1500);
    options.reporter.debug('remote stderr');
    expect(log()).toContain('::add-mask::hunter2-hunter2');
    expect(log()).toContain('ray-head: started with *** (1.50s)');
    expect(log()).toContain('::debug::remote stderr');
    // The deploy lock names the workflow run (the engine no longer reads GITHUB_RUN_ID itself).
    expect(options.deployer).toBe('run 99');
  });

  it('shows each phase of the run as its own collapsible group of the log', async () => {
    inputs({ command: 'start' });
    engine.run.mockImplementation(async (options) => {
      for (const phase of ['connect', 'preflight', 'head', 'workers', 'wait']) {
        const end = options.reporter.phase!(phase);
        options.reporter.node('ray-head', `in ${phase}`);
        end();
      }
      return result({ command: 'start' });
    });
    await run();
    const lines = log()
      .split('\n')
      .filter((l) => /^::(group|endgroup)::|^ray-head: in /.test(l));
    expect(lines).toEqual(
      ['connect', 'preflight', 'head', 'workers', 'wait'].flatMap((p) => [
        `::group::nokube ray start: ${p}`,
        `ray-head: in ${p}`,
        '::endgroup::',
      ]),
    );
  });

  it('annotates diagnostics on the file relative to the workspace', async () => {
    inputs({ command: 'validate', config: 'deploy/../ray-config.yaml' });
    engine.run.mockResolvedValue(
      result({
        command: 'validate',
        ok: false,
        status: 'unknown',
        diagnostics: [
          {
            severity: 'error',
            file: join(dir, 'ray-config.yaml'),
            line: 4,
            col: 9,
            path: 'nodes[0].role',
            message: 'found "haed"',
            hint: 'did you mean "head"?',
          },
          {
            severity: 'warning',
            file: 'ray-config.yaml',
            line: 7,
            col: 3,
            path: 'nodes[0].users[0].password',
            message: 'a plaintext password is written in the config',
          },
        ],
      }),
    );
    await run();
    expect(log()).toContain(
      '::error title=invalid Ray config,file=ray-config.yaml,line=4,col=9::nodes[0].role: found "haed" (did you mean "head"?)',
    );
    expect(log()).toContain(
      '::warning title=Ray config warning,file=ray-config.yaml,line=7,col=3::nodes[0].users[0].password: a plaintext password',
    );
    expect(process.exitCode).toBe(1);
  });
});

describe('the plan comment (engine mocked)', () => {
  function pullRequest(fork: boolean): void {
    const event = join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        pull_request: {
          number: 5,
          base: { sha: 'base-sha', repo: { full_name: 'acme/cluster' } },
          head: { sha: 'head-sha-1234567', repo: { full_name: fork ? 'fork/cluster' : 'acme/cluster' } },
        },
      }),
    );
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event });
    inputs({ command: 'plan', 'github-token': 'test-token-123' });
    github.prFiles.set(5, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    github.contents.set('ray-config.yaml@base-sha', 'base: config\n');
  }

  const planned = () =>
    result({
      command: 'plan',
      status: 'unknown',
      changes: 1,
      plan: [
        {
          node: '<script>alert(1)</script>',
          role: 'worker',
          host: 'h|x',
          action: 'start',
          drift: [],
          reason: 'new node',
        },
      ],
      errors: [],
    });

  it('passes the base config, plans a fork offline, and escapes the comment', async () => {
    pullRequest(true);
    engine.run.mockResolvedValue(planned());
    await run();
    const options = engine.run.mock.calls[0][0];
    expect(options.previousConfigText).toBe('base: config\n');
    expect(options.offline).toBe(true);
    const body = (github.writes()[0].body as { body: string }).body;
    expect(body.startsWith('<!-- nokube-ray-deploy:plan:ray-config.yaml -->\n')).toBe(true);
    expect(body).not.toContain('<script>');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('h\\|x');
    expect(body).toContain('commit <code>head-sh</code>');
    expect(body).toContain('https://github.com/acme/cluster/actions/runs/99');
    expect(process.exitCode).toBeUndefined();
  });

  it("a live plan on a pull request distrusts the pull request's own host_key pins; ${NAME} never sees the runner's tokens", async () => {
    pullRequest(false);
    process.env.GH_TOKEN = 'gho_secret';
    process.env.ACTIONS_SOMETHING_TOKEN = 'act';
    process.env.MY_PASSWORD = 'mine';
    try {
      engine.run.mockResolvedValue(planned());
      await run();
      const options = engine.run.mock.calls[0][0];
      expect(options.distrustChangedPins).toBe(true);
      expect(options.env.GH_TOKEN).toBeUndefined();
      expect(options.env.ACTIONS_SOMETHING_TOKEN).toBeUndefined();
      expect(options.env.GITHUB_TOKEN).toBeUndefined();
      expect(Object.keys(options.env).filter((k) => /^INPUT_/.test(k))).toEqual([]);
      expect(options.env.MY_PASSWORD).toBe('mine');
    } finally {
      delete process.env.GH_TOKEN;
      delete process.env.ACTIONS_SOMETHING_TOKEN;
      delete process.env.MY_PASSWORD;
    }
  });

  it('masks a secret the engine learnt in the comment and the summary', async () => {
    pullRequest(false);
    engine.run.mockImplementation(async (options) => {
      options.reporter.secret('resolved-password-42');
      return { ...planned(), warnings: ['login with resolved-password-42 failed'] };
    });
    await run();
    expect(engine.run.mock.calls[0][0].offline).toBeUndefined();
    const body = (github.writes()[0].body as { body: string }).body;
    expect(body).toContain('login with *** failed');
    expect(summary()).toContain('login with *** failed');
    expect(summary()).not.toContain('resolved-password-42');
  });

  it('masks a secret before it is escaped or JSON-encoded: summary, comment and outputs', async () => {
    pullRequest(false);
    const secret = 'pa<ss"wo&rd\n42';
    engine.run.mockImplementation(async (options) => {
      options.reporter.secret(secret);
      const r = planned();
      return { ...r, warnings: [`login with ${secret} failed`], errors: [{ node: 'head', message: `bad ${secret}` }] };
    });
    await run();
    const body = (github.writes()[0].body as { body: string }).body;
    // (the runner learns each secret from its own ::add-mask:: line)
    const logged = log()
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n');
    for (const text of [body, summary(), logged]) {
      expect(text).not.toContain('pa&lt;ss');
      expect(text).not.toContain('pa<ss');
      expect(text).not.toContain('wo&amp;rd');
      expect(text).not.toContain('pa\\u003css');
      expect(text).not.toContain('pa<ss\\"wo');
    }
    expect(summary()).toContain('login with *** failed');
  });

  it('remote output cannot issue workflow commands: every echoed line is prefixed', async () => {
    pullRequest(false);
    engine.run.mockImplementation(async (options) => {
      options.reporter.node('w1', "Ray's output:\n::stop-commands::pwn\n  ::add-mask::x\n::error::forged");
      options.reporter.info('hint from a node:\n::warning::forged');
      return planned();
    });
    await run();
    const lines = log().split('\n');
    expect(lines.filter((l) => /^\s*::(stop-commands|add-mask::x|error::forged|warning::forged)/.test(l))).toEqual([]);
    expect(log()).toContain('w1: ::stop-commands::pwn');
  });

  it('turns a 404 on the comment into a warning', async () => {
    pullRequest(false);
    github.refuseCommentWrites = 404;
    engine.run.mockResolvedValue(planned());
    await run();
    expect(log()).toMatch(/::warning::the plan comment could not be posted: GitHub API POST .*HTTP 404/);
    expect(process.exitCode).toBeUndefined();
  });

  it('refuses start, status and stop on a pull request from a fork (pull_request_target has secrets)', async () => {
    pullRequest(true);
    inputs({ command: 'start' });
    await run();
    expect(engine.run).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(1);
    expect(log()).toContain('::error::refusing to start from a pull request from a fork');
    expect(summary()).toContain('refusing to start');
  });

  it('warns and plans without a base config when there is no token', async () => {
    pullRequest(false);
    process.env['INPUT_GITHUB-TOKEN'] = '';
    engine.run.mockResolvedValue(planned());
    await run();
    expect(engine.run.mock.calls[0][0].previousConfigText).toBeUndefined();
    expect(log()).toContain('::warning::no github-token');
    expect(github.requests).toHaveLength(0);
  });
});
