// The Action end to end as the runner runs it (`node index.js`), against a local fake of the GitHub
// REST API. Only validate and offline plan: no SSH, no test hosts needed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGitHub } from './fake-github';
import { linkedMentions } from '../render/linked-mentions';
import { actionBundle, runAction, visibleLog } from './runner';

const TOKEN = 'test-token-123';
const BASE_SHA = '1111111111111111111111111111111111111111';
const HEAD_SHA = '2222222222222222222222222222222222222222';
const MARKER = '<!-- nokube-ray-deploy:plan:ray-config.yaml -->';
const PASSWORD = 'Pl41ntext-S3cret-Passw0rd';
const FAKE_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBmYWtla2V5ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZQAAAJhTOPSECRET',
  'AAAAC3NzaC1lZDI1NTE5AAAAIGZha2VrZXlmYWtla2V5ZmFrZWtleWZha2VrZXlmYWtlAA',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');

function config(workerCpus: number, extraWorker = false, password?: string, sshPort = 22): string {
  const users = password ? `\n    users:\n      - userid: admin\n        password: "${password}"` : '';
  return `ray_spec:
  cluster_name: demo
  max_workers: 4
nodes:
  - ssh_url: "127.0.0.1:${sshPort}"
    name: ray-head
    role: head
    ray_config:
      port: 10001
      num_cpus: 2${users}
  - ssh_url: "127.0.0.2:${sshPort}"
    name: ray-w1
    role: worker
    ray_config:
      num_cpus: ${workerCpus}
${
  extraWorker
    ? `  - ssh_url: "127.0.0.3:${sshPort}"
    name: ray-w2
    role: worker
    ray_config:
      num_cpus: 1
`
    : ''
}`;
}

const BAD_CONFIG = `ray_spec:
  max_workers: 2
nodes:
  - ssh_url: "h1:22"
    name: ray-head
    role: haed
`;

/** A head and `workers` workers without `users` (the design note's style), one mistake near the end. */
function bigConfigWithOneMistake(workers: number): string {
  const lines = ['nodes:', '  - {ssh_url: "10.0.0.1:22", name: ray-head, role: head}'];
  for (let i = 1; i <= workers; i++) {
    lines.push(`  - ssh_url: "10.1.${i >> 8}.${i & 255}:22"`, `    name: ray-worker-${i}`, '    role: worker');
    if (i === workers - 1) lines.push('    ray_config: {num_cpus: four}');
  }
  return lines.join('\n') + '\n';
}
// as the summary and the comment escape it (`[` `]` as entities: no markdown link)
const BIG_ERROR = 'nodes&#91;298&#93;.ray_config.num_cpus';
const BIG_WARNING = 'no users and no default login user was given (300 nodes: ray-head, ray-worker-1,';

function prEvent(number: number, fork = false) {
  return {
    number,
    pull_request: {
      number,
      base: { sha: BASE_SHA, repo: { full_name: 'acme/cluster' } },
      head: { sha: HEAD_SHA, repo: { full_name: fork ? 'mallory/cluster' : 'acme/cluster', fork } },
    },
  };
}

let github: FakeGitHub;
let workspace: string;

beforeAll(() => {
  actionBundle(); // build once, outside any single test's timeout
}, 240_000);

beforeEach(async () => {
  github = await new FakeGitHub().start();
  workspace = mkdtempSync(join(tmpdir(), 'nokube-ws-'));
});

afterEach(async () => {
  await github.stop();
  rmSync(workspace, { recursive: true, force: true });
});

function plan(extra: { inputs?: Record<string, string>; event?: unknown; eventName?: string } = {}) {
  return runAction({
    inputs: {
      command: 'plan',
      config: 'ray-config.yaml',
      'github-token': TOKEN,
      'ssh-user': 'ray',
      'comment-on-pr': 'true',
      ...extra.inputs,
    },
    workspace,
    eventName: extra.eventName ?? 'pull_request',
    event: extra.event ?? prEvent(7),
    apiUrl: github.url,
  });
}

describe('validate', () => {
  it('annotates a bad config on its line and column, fails, and still writes the summary', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), BAD_CONFIG);
    const r = await runAction({ inputs: { command: 'validate', 'ssh-user': 'ray' }, workspace });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error [^\n]*file=ray-config\.yaml,line=6,col=11::nodes\[0\]\.role: [^\n]*haed/m);
    expect(r.stdout).toMatch(/^::error::ray-config\.yaml is invalid: 1 error/m);
    expect(r.summary).toContain('Config ray-config.yaml is invalid: 1 error');
    expect(r.summary).toContain('<code>ray-config.yaml:6:11</code>');
    expect(r.outputs.status).toBe('unknown');
  });

  it('passes on a valid config and sets every output', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    const r = await runAction({ inputs: { command: 'validate', 'ssh-user': 'ray' }, workspace });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Object.keys(r.outputs).sort()).toEqual(
      [
        'alive-nodes',
        'changes',
        'client-address',
        'dashboard-url',
        'expected-nodes',
        'head-address',
        'job-id',
        'job-status',
        'nodes',
        'plan',
        'restarts',
        'status',
      ].sort(),
    );
    expect(r.outputs['expected-nodes']).toBe('2');
    expect(r.outputs['client-address']).toBe('ray://127.0.0.1:10001');
    const nodes = JSON.parse(r.outputs.nodes) as { name: string; role: string; host: string; state: string }[];
    expect(nodes.map((n) => [n.name, n.role, n.host])).toEqual([
      ['ray-head', 'head', '127.0.0.1'],
      ['ray-w1', 'worker', '127.0.0.2'],
    ]);
    expect(r.summary).toContain('Config ray-config.yaml is valid: 2 nodes');
    expect(r.summary).toContain('https://github.example/acme/cluster/actions/runs/4242');
  });

  it('a 300-node config with one mistake: the summary shows the error first, then one warning naming the nodes', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), bigConfigWithOneMistake(299));
    const r = await runAction({ inputs: { command: 'validate' }, workspace });
    expect(r.code).toBe(1);
    const diagnostics = r.summary.slice(r.summary.indexOf('### Config diagnostics'));
    const items = diagnostics.split('\n').filter((l) => l.startsWith('- '));
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(
      /^- error <code>ray-config\.yaml:897:28<\/code> <code>nodes&#91;298&#93;\.ray_config\.num_cpus<\/code>: expected a non-negative integer/,
    );
    expect(items[1]).toMatch(/^- warning <code>ray-config\.yaml:2:5<\/code> <code>nodes&#91;&#93;<\/code>: no users/);
    expect(items[1]).toContain(BIG_WARNING);
    expect(items[1]).toContain('and 290 more');
    // the annotation of the grouped warning is one, at the first node's line
    expect(r.stdout.match(/^::warning [^\n]*no users and no default login user/gm)).toHaveLength(1);
  });

  it('names a bad input', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    const r = await runAction({ inputs: { command: 'validate', concurrency: 'lots' }, workspace });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::input concurrency: "lots" is not a whole number');
    expect(r.summary).toContain('input concurrency');
  });
});

describe('plan on a pull request', () => {
  it('posts one sticky comment, then updates it in place even when it sits on page 3', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(4, true));
    github.contents.set(`ray-config.yaml@${BASE_SHA}`, config(2));
    github.prFiles.set(7, [
      { filename: 'README.md', status: 'modified' },
      { filename: 'src/x.py', status: 'modified' },
      { filename: 'ray-config.yaml', status: 'modified' },
    ]);
    for (let i = 0; i < 4; i += 1) github.addComment(7, `chatter ${i}`);

    const first = await plan();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const posts = github.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    const body = (posts[0].body as { body: string }).body;
    expect(body.split('\n')[0]).toBe(MARKER);
    expect(body).toContain('**Config is valid**');
    expect(body).toContain('Plan: 1 to start, 1 to restart, 1 to keep, 0 to stop.');
    expect(body).toMatch(/\| ray-w1 \| worker \| 127\.0\.0\.2 \| restart \| restart \(rolling\) \| [^|]*2 → 4/);
    expect(body).toContain('commit <code>2222222</code>');
    expect(first.outputs.changes).toBe('2');
    // The files were listed page by page (3 files, 2 per page) and the base config read at the base SHA.
    expect(github.requests.filter((r) => r.path.endsWith('/pulls/7/files'))).toHaveLength(2);
    expect(
      github.requests.some(
        (r) => r.path === '/repos/acme/cluster/contents/ray-config.yaml' && r.query.get('ref') === BASE_SHA,
      ),
    ).toBe(true);
    // Octokit's scheme is `token` (GitHub takes it and `Bearer` alike)
    expect(github.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);

    // The comment is now the 5th: page 3 at 2 per page. A new push changes the plan.
    writeFileSync(join(workspace, 'ray-config.yaml'), config(8, true));
    github.requests.length = 0;
    const second = await plan();
    expect(second.code).toBe(0);
    expect(
      github.requests
        .filter((r) => r.method === 'GET' && r.path.endsWith('/issues/7/comments'))
        .map((r) => r.query.get('page') ?? '1'),
    ).toEqual(['1', '2', '3']);
    expect(github.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    const patches = github.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0].path).toBe(`/repos/acme/cluster/issues/comments/${github.comments.get(7)![4].id}`);
    expect(github.comments.get(7)!.filter((c) => c.body.startsWith(MARKER))).toHaveLength(1);
    expect(github.comments.get(7)![4].body).toMatch(/2 → 8/);
  }, 20_000); // two runs of the Action, each its own node process

  it('a resource named "x @octocat" mentions nobody in the comment or the summary', async () => {
    const withResource = config(2).replace(
      '      num_cpus: 2\n',
      '      num_cpus: 2\n      resources: {"x @octocat": 1}\n',
    );
    expect(withResource).toContain('x @octocat');
    writeFileSync(join(workspace, 'ray-config.yaml'), withResource);
    github.contents.set(`ray-config.yaml@${BASE_SHA}`, config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const r = await plan();
    expect(r.code, r.stdout).toBe(0);
    const body = github.comments.get(7)![0].body;
    for (const md of [body, r.summary]) {
      expect(linkedMentions(md)).toEqual([]);
      expect(md).toMatch(/x @\u200boctocat/); // the name is shown, as written
    }
  });

  it('plans every node as new when the base branch has no config (404)', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'added' }]);
    const r = await plan();
    expect(r.code).toBe(0);
    const plan_ = JSON.parse(r.outputs.plan) as { node: string; action: string }[];
    expect(plan_.map((p) => p.action)).toEqual(['start', 'start']);
    expect(github.writes()).toHaveLength(1);
  });

  it('finds a renamed config by its previous name and plans against the old file', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.contents.set(`cluster.yaml@${BASE_SHA}`, config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'renamed', previous_filename: 'cluster.yaml' }]);
    const r = await plan();
    expect(r.code).toBe(0);
    expect(r.outputs.changes).toBe('0');
    expect(github.requests.some((q) => q.path.endsWith('/contents/cluster.yaml'))).toBe(true);
    expect(github.writes()).toHaveLength(1);
  });

  it('posts no comment when the pull request does not change the config', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.prFiles.set(7, [{ filename: 'README.md', status: 'modified' }]);
    const r = await plan();
    expect(r.code).toBe(0);
    expect(github.writes()).toHaveLength(0);
    expect(r.stdout).toContain('does not change ray-config.yaml');
    expect(r.summary).toContain('Plan for ray-config.yaml');
  });

  it('posts no comment with comment-on-pr: false', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const r = await plan({ inputs: { 'comment-on-pr': 'false' } });
    expect(r.code).toBe(0);
    expect(github.writes()).toHaveLength(0);
  });

  it('turns a refused comment (403) into a warning and passes', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    github.refuseCommentWrites = 403;
    const r = await plan({ event: prEvent(7, true) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^::warning::the plan comment could not be posted: GitHub API POST [^\n]*HTTP 403/m);
    expect(r.summary).toContain('Plan for ray-config.yaml');
  });

  it('comments on an invalid config with its errors and fails the step', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), BAD_CONFIG);
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const r = await plan();
    expect(r.code).toBe(1);
    const body = (github.writes()[0].body as { body: string }).body;
    expect(body).toContain('**Config is invalid**');
    expect(body).toContain('<code>ray-config.yaml:6:11</code>');
  });

  it('on a 300-node config with one mistake the comment shows the error before the one warning', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), bigConfigWithOneMistake(299));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const r = await plan({ inputs: { 'ssh-user': '' } });
    expect(r.code).toBe(1);
    const body = (github.writes()[0].body as { body: string }).body;
    const errorAt = body.indexOf(BIG_ERROR);
    const warningAt = body.indexOf(BIG_WARNING);
    expect(errorAt).toBeGreaterThan(0);
    expect(warningAt).toBeGreaterThan(errorAt);
    // said once in the comment's summary and once in its details, never per node
    expect(body.split('no users and no default login user').length - 1).toBe(2);
    const details = body.slice(body.indexOf('<details>'));
    expect(details.indexOf(BIG_ERROR)).toBeLessThan(details.indexOf(BIG_WARNING));
  });

  it('retries a 502 from the API', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    github.failFirst = 1;
    const r = await plan();
    expect(r.code).toBe(0);
    expect(github.writes()).toHaveLength(1);
  }, 30_000);
});

describe('a pull request from a fork', () => {
  let sshd: Server;
  let connections = 0;
  let port = 0;
  beforeAll(async () => {
    sshd = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => sshd.listen(0, '127.0.0.1', resolve));
    port = (sshd.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => sshd.close(() => resolve())));

  it('plans offline: never connects to a node, even with a key and a password at hand', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2, false, PASSWORD, port));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const r = await plan({
      event: prEvent(7, true),
      inputs: { 'ssh-private-key': FAKE_KEY, 'insecure-skip-host-key-check': 'true' },
    });
    expect(r.code).toBe(0);
    expect(connections).toBe(0);
    expect(r.stdout).toContain('from a fork: offline plan');
  });
});

describe('secrets', () => {
  it('never shows a key, a passphrase, a token or a plaintext password in logs, summary, outputs or the comment', async () => {
    writeFileSync(join(workspace, 'ray-config.yaml'), config(2, false, PASSWORD));
    github.prFiles.set(7, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    const keys = `${FAKE_KEY}\n\n${FAKE_KEY.replace('TOPSECRET', 'SECONDKEY1')}\n`;
    const r = await plan({
      event: prEvent(7, true),
      inputs: { 'ssh-private-key': keys, 'ssh-passphrase': 'my-passphrase-xyz' },
    });
    expect(r.code).toBe(0);
    // Masks are registered before anything else is printed.
    const lines = r.stdout.split('\n').filter(Boolean);
    const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
    // The config's plaintext password is masked before the engine runs, too.
    expect(lines.slice(0, firstOther)).toContain(`::add-mask::${PASSWORD}`);
    expect(lines.slice(0, firstOther).join('\n')).toContain('::add-mask::my-passphrase-xyz');
    expect(lines.slice(0, firstOther).join('\n')).toContain(`::add-mask::${TOKEN}`);
    expect(lines.slice(0, firstOther).join('\n')).toContain(
      '::add-mask::QyNTUxOQAAACBmYWtla2V5ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZQAAAJhTOPSECRET',
    );

    const comment =
      github.comments
        .get(7)
        ?.map((c) => c.body)
        .join('\n') ?? '';
    expect(comment).toContain(MARKER);
    const everything = [visibleLog(r.stdout), r.stderr, r.summary, JSON.stringify(r.outputs), comment].join('\n');
    for (const secret of [PASSWORD, 'my-passphrase-xyz', TOKEN, ...FAKE_KEY.split('\n').slice(1, -1), 'SECONDKEY1']) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).toContain('a plaintext password is written in the config');
  });
});
