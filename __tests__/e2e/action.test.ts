// The Action end to end, as the runner runs it: `node <bundle>/index.js` (built from the current
// sources by the harness in __tests__/action/runner.ts) with INPUT_<NAME> variables, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY, the event payload, and GITHUB_API_URL at a local fake of GitHub's REST API,
// against the real test hosts (real sshd, real Ray). The process's working directory is a temporary
// workspace outside the repository, as on a runner, so remote_lib must be found beside the bundle.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../action/fake-github';
import { REPO, actionBundle, runAction, visibleLog, type ActionRun } from '../action/runner';
import { workflowCommands } from '../action/workflow-commands';
import { clusterConfig } from './cluster-config';
import { nokube } from '../helpers/cli';
import {
  clearFirewall,
  dropPort,
  e2eEnabled,
  hostExec,
  knownHostsLines,
  rayStopAll,
  requireTestHosts,
  type HostsInfo,
} from './hosts';

const TOKEN = 'test-token-123'; // the one FakeGitHub accepts
const PASSWORD_ENV = 'NOKUBE_E2E_PASSWORD';
const BASE_SHA = '3333333333333333333333333333333333333333';
const HEAD_SHA = '4444444444444444444444444444444444444444';
const MARKER = '<!-- nokube-ray-deploy:plan:ray-config.yaml -->';
const HOSTS = ['nkh1', 'nkh2', 'nkh3'];
/** Every ordered pair of the three nodes, as `check` tests them (object on > fetched by). */
const ORDERED_PAIRS = ['ray-head', 'ray-worker-1', 'ray-worker-2']
  .flatMap((a, _, all) => all.filter((b) => b !== a).map((b) => `${a}>${b}`))
  .sort();
const RAY_PROCS = "pgrep -a -f 'raylet|gcs_server|default_worker' | grep -v pgrep || true";

interface NodeOut {
  name: string;
  role: string;
  host: string;
  state: string;
  ray_version: string | null;
  resources: Record<string, number> | null;
}

interface CheckOut {
  nodes: string[];
  missing: string[];
  pairs: { from: string; to: string; ok: boolean; ms: number; error?: string }[];
  ports: { from: string; to: string; address: string; port: number; what: string; result: string }[];
}

/** head nkh1 picks its key by `sshkey`; worker-1 has no users (ssh-user input); worker-2 logs in by password. */
function config(headPublicKey: string): string {
  return clusterConfig({
    name: 'e2e-action',
    spec: { dashboard_port: 8265, max_workers: 4 },
    nodes: [
      {
        ip: '10.88.0.11',
        name: 'ray-head',
        role: 'head',
        ray: { dashboard_port: 8265 },
        storage: '/opt/nokube/data/ray/action-head',
        extra: ['users:', '  - userid: nokube', `    sshkey: "${headPublicKey}"`],
      },
      { ip: '10.88.0.12', name: 'ray-worker-1', role: 'worker', storage: '/opt/nokube/data/ray/action-w1' },
      {
        ip: '10.88.0.13',
        name: 'ray-worker-2',
        role: 'worker',
        storage: '/opt/nokube/data/ray/action-w2',
        extra: ['users:', '  - userid: nokube', `    password: \${${PASSWORD_ENV}}`],
      },
    ],
  });
}

function prEvent(number: number) {
  return {
    number,
    pull_request: {
      number,
      base: { sha: BASE_SHA, repo: { full_name: 'acme/cluster' } },
      head: { sha: HEAD_SHA, repo: { full_name: 'acme/cluster', fork: false } },
    },
  };
}

describe.skipIf(!e2eEnabled)('the Action (node index.js) on real test hosts', () => {
  let info: HostsInfo;
  let github: FakeGitHub;
  let workspace: string;
  let ed25519: string;
  let ecdsa: string;
  let knownHosts: string;
  let password: string;
  let passphrase: string;
  /** One bundle for the whole file: a source edit elsewhere in the checkout mid-run must not swap it. */
  let bundle: string;
  /** Every run of this file, for the secret checks. */
  const runs: { name: string; run: ActionRun; ms: number }[] = [];

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    bundle = actionBundle(); // built from the current sources, once, outside any single test's timeout
    ed25519 = readFileSync(info.client.keys.ed25519, 'utf8');
    ecdsa = readFileSync(info.client.keys.ecdsa, 'utf8');
    knownHosts = readFileSync(info.client.known_hosts, 'utf8');
    password = info.client.password;
    passphrase = info.client.ecdsa_passphrase;
    workspace = mkdtempSync(join(tmpdir(), 'nokube-action-ws-'));
    const pub = readFileSync(`${info.client.keys.ed25519}.pub`, 'utf8').trim();
    writeFileSync(join(workspace, 'ray-config.yaml'), config(pub));
    const ecdsaPub = readFileSync(`${info.client.keys.ecdsa}.pub`, 'utf8').trim();
    writeFileSync(join(workspace, 'ray-config-ecdsa.yaml'), config(ecdsaPub));
  }, 300_000);

  beforeAll(async () => {
    github = await new FakeGitHub().start();
    github.pageSize = 100;
  });

  afterAll(async () => {
    if (info) rayStopAll(info);
    await github?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    if (runs.length) {
      console.log(
        'Action runs (wall time):\n' +
          runs.map((r) => `  ${r.name.padEnd(40)} ${(r.ms / 1000).toFixed(1)} s`).join('\n'),
      );
    }
  });

  /** One Action run as the runner does it; the job maps the password secret into env. */
  async function action(
    name: string,
    inputs: Record<string, string>,
    more: { eventName?: string; event?: unknown; entry?: string } = {},
  ): Promise<ActionRun> {
    const t0 = Date.now();
    const run = await runAction({
      inputs: {
        config: 'ray-config.yaml',
        'ssh-private-key': ed25519,
        'known-hosts': knownHosts,
        'ssh-user': 'nokube',
        'github-token': TOKEN,
        timeout: '120',
        ...inputs,
      },
      workspace,
      env: { [PASSWORD_ENV]: password },
      eventName: more.eventName ?? 'push',
      event: more.event ?? {},
      apiUrl: github.url,
      entry: more.entry ?? bundle,
      timeoutMs: 280_000,
    });
    runs.push({ name, run, ms: Date.now() - t0 });
    if (process.env.NOKUBE_ACTION_E2E_DUMP) {
      // For a look at what a run printed: NOKUBE_ACTION_E2E_DUMP=/some/dir
      const base = join(
        process.env.NOKUBE_ACTION_E2E_DUMP,
        `${String(runs.length).padStart(2, '0')}-${name.replace(/\W+/g, '_')}`,
      );
      mkdirSync(dirname(base), { recursive: true });
      writeFileSync(`${base}.stdout`, run.stdout);
      writeFileSync(`${base}.summary.md`, run.summary);
      writeFileSync(`${base}.outputs.json`, JSON.stringify(run.outputs, null, 2));
    }
    expectNoSecrets(run, name);
    return run;
  }

  function secrets(): string[] {
    const keyLines = (key: string) =>
      key
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('-----'));
    return [ed25519.trim(), ecdsa.trim(), ...keyLines(ed25519), ...keyLines(ecdsa), passphrase, password, TOKEN];
  }

  function expectNoSecrets(run: ActionRun, name: string): void {
    // The runner consumes `::add-mask::` lines (they never show); everything else is visible.
    const visible: [string, string][] = [
      ['stdout', visibleLog(run.stdout)],
      ['stderr', run.stderr],
      ['summary', run.summary],
      ['outputs', JSON.stringify(run.outputs)],
    ];
    for (const [where, text] of visible)
      for (const s of secrets())
        expect(text.includes(s), `${name}: a secret (${s.slice(0, 6)}…) in ${where}`).toBe(false);
  }

  const nodesOf = (run: ActionRun) => JSON.parse(run.outputs.nodes) as NodeOut[];
  const why = (run: ActionRun) => `exit ${run.code}\n${visibleLog(run.stdout)}\n${run.stderr}`;

  /** A node's object manager port, from the head's own node table (Ray picked it at random). */
  function objectManagerPort(name: string): number {
    const py = `
import json, os
os.environ['RAY_AUTH_MODE'] = 'token'
os.environ['RAY_AUTH_TOKEN'] = open('/opt/nokube/data/ray/action-head/state/auth_token').read().strip()
import ray
ray.init(address='10.88.0.11:6379', logging_level='ERROR')
print(json.dumps({(n.get('Labels') or {}).get('nokube.io/node'): n['ObjectManagerPort'] for n in ray.nodes() if n['Alive']}))
`;
    const r = hostExec('nkh1', ['python3', '-c', py], { user: 'nokube' });
    expect(r.code, r.stderr).toBe(0);
    const port = JSON.parse(r.stdout.trim().split('\n').at(-1)!)[name] as number;
    expect(port).toBeGreaterThan(0);
    return port;
  }

  it("runs from a workspace outside the repository with the bundle's own remote_lib", async () => {
    // The runner's contract: cwd = GITHUB_WORKSPACE (the user's checkout), the bundle elsewhere.
    const bundleDir = dirname(bundle);
    for (const dir of [workspace, bundleDir]) expect(relative(REPO, dir).startsWith('..')).toBe(true);
    expect(readFileSync(join(bundleDir, 'remote_lib', 'nokube_remote.py'), 'utf8')).toBe(
      readFileSync(join(REPO, 'remote_lib', 'nokube_remote.py'), 'utf8'),
    );
    // A copy of the bundle with no remote_lib beside it must not find one elsewhere (the repository,
    // the workspace): the action looks relative to itself only.
    const bare = mkdtempSync(join(tmpdir(), 'nokube-bare-bundle-'));
    try {
      copyFileSync(join(bundleDir, 'index.js'), join(bare, 'index.js'));
      const r = await action(
        'status, bundle without remote_lib',
        { command: 'status' },
        { entry: join(bare, 'index.js') },
      );
      expect(r.code, why(r)).toBe(1);
      expect(visibleLog(r.stdout)).toMatch(
        /^::error::remote_lib\/nokube_remote\.py not found near [^\n]*installation is incomplete/m,
      );
      expect(r.summary).toContain('remote_lib/nokube_remote.py not found near');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('start: head + 2 workers healthy, every output set, the node table in the summary', async () => {
    const r = await action('start', { command: 'start' });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs.status).toBe('healthy');
    expect(r.outputs['head-address']).toBe('10.88.0.11:6379');
    expect(r.outputs['client-address']).toBe('ray://10.88.0.11:10001');
    expect(r.outputs['dashboard-url']).toBe('http://10.88.0.11:8265');
    expect(r.outputs['alive-nodes']).toBe('3');
    expect(r.outputs['expected-nodes']).toBe('3');
    expect(r.outputs.changes).toBe('3'); // Ray was stopped everywhere: every node starts
    // each phase of the run is its own collapsible group of the workflow log
    const groups = r.stdout.split('\n').filter((l) => l.startsWith('::group::'));
    expect(groups).toEqual(
      ['connect', 'preflight', 'network', 'head', 'workers', 'wait'].map((p) => `::group::nokube ray start: ${p}`),
    );
    const plan = JSON.parse(r.outputs.plan) as { node: string; action: string }[];
    expect(plan.map((p) => p.action)).toEqual(['start', 'start', 'start']);
    const nodes = nodesOf(r);
    expect(nodes.map((n) => [n.name, n.role, n.host, n.state])).toEqual([
      ['ray-head', 'head', '10.88.0.11', 'running'],
      ['ray-worker-1', 'worker', '10.88.0.12', 'running'],
      ['ray-worker-2', 'worker', '10.88.0.13', 'running'],
    ]);
    for (const n of nodes) {
      expect(n.ray_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(n.resources?.CPU).toBe(1);
    }
    expect(r.summary).toContain('## nokube ray start: ray-config.yaml');
    expect(r.summary).toContain('Cluster e2e-action is healthy: 3 of 3 nodes alive.');
    expect(r.summary).toContain('### Nodes');
    for (const [name, host] of [
      ['ray-head', '10.88.0.11'],
      ['ray-worker-1', '10.88.0.12'],
      ['ray-worker-2', '10.88.0.13'],
    ])
      expect(r.summary).toMatch(
        new RegExp(`^\\| ${name} \\| (head|worker) \\| ${host.replace(/\./g, '\\.')} \\| running \\|`, 'm'),
      );
    expect(r.summary).toContain('### Timings');
    // where the run's time went, per node: a table of text bars (renders everywhere) and the same as a
    // Mermaid gantt chart (GitHub renders ```mermaid blocks in job summaries), one section per node
    const timeline = r.summary.slice(r.summary.indexOf('### Timeline'));
    for (const name of ['ray-head', 'ray-worker-1', 'ray-worker-2']) {
      expect(timeline).toMatch(
        new RegExp(`^\\| (\\*\\*)?${name}(\\*\\*)?( \\(slowest\\))? \\| <code>[a-z·\\u00a0]+</code> \\| `, 'm'),
      );
      expect(timeline).toContain(`  section ${name}\n  connect : `);
    }
    expect(timeline).toMatch(/<details><summary>Gantt chart<\/summary>\n\n```mermaid\ngantt\n/);
    expect(timeline).toMatch(/^ {2}start : \d+, \d+$/m);
    // remote_lib reached the nodes from the bundle (uploaded into the node's storage path).
    expect(hostExec('nkh1', 'ls -R /opt/nokube/data/ray/action-head').stdout).toMatch(/nokube_remote/);
  });

  it("status with the passphrase-protected ecdsa key (picked by the head's sshkey) is healthy", async () => {
    const r = await action('status, ecdsa key + passphrase', {
      command: 'status',
      config: 'ray-config-ecdsa.yaml',
      'ssh-private-key': ecdsa,
      'ssh-passphrase': passphrase,
    });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs.status).toBe('healthy');
    expect(r.outputs['alive-nodes']).toBe('3');
    expect(r.outputs.changes).toBe('0');
  });

  it("a worker's raylet killed: status fails the step with status=degraded and names what is missing", async () => {
    // its supervisor first (as when an operator stopped it): supervised, the raylet would come back by
    // itself (the supervision e2e), and this file's next tests want the node down until `start`
    expect(hostExec('nkh2', 'pkill -KILL -u nokube -f supervise-').code).toBe(0);
    expect(hostExec('nkh2', 'pkill -KILL -x raylet').code).toBe(0);
    let r: ActionRun | undefined;
    for (let i = 0; i < 60; i += 1) {
      r = await action(`status #${i + 1} (waiting for degraded)`, { command: 'status' });
      if (r.outputs.status === 'degraded') break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    expect(r!.outputs.status, why(r!)).toBe('degraded');
    expect(r!.code).toBe(1);
    expect(r!.outputs['alive-nodes']).toBe('2');
    expect(r!.outputs['expected-nodes']).toBe('3');
    const w1 = nodesOf(r!).find((n) => n.name === 'ray-worker-1')!;
    expect(w1.state).not.toBe('running');
    expect(
      nodesOf(r!)
        .filter((n) => n.state === 'running')
        .map((n) => n.name),
    ).toEqual(['ray-head', 'ray-worker-2']);
    // The step's error names the node, so the failed scheduled check says what to look at.
    expect(visibleLog(r!.stdout)).toContain(
      `::error::the cluster is degraded: 2 of 3 nodes alive, ray-worker-1 is ${w1.state} (fail-on-unhealthy is true)`,
    );
    expect(r!.summary).toContain('Cluster e2e-action is degraded: 2 of 3 nodes alive.');
    // The missing node is named in the node table with its state, not running.
    expect(r!.summary).toMatch(
      new RegExp(`^\\| ray-worker-1 \\| worker \\| 10\\.88\\.0\\.12 \\| ${w1.state} \\|`, 'm'),
    );
  });

  it('plan on a pull_request with credentials: the sticky comment carries the live plan', async () => {
    // The base branch has the very same file: an offline plan would be all keep. The live look
    // sees worker-1 down and plans it.
    const text = readFileSync(join(workspace, 'ray-config.yaml'), 'utf8');
    github.contents.set(`ray-config.yaml@${BASE_SHA}`, text);
    github.prFiles.set(12, [
      { filename: 'docs/x.md', status: 'modified' },
      { filename: 'ray-config.yaml', status: 'modified' },
    ]);
    const r = await action(
      'plan on pull_request (degraded)',
      { command: 'plan' },
      {
        eventName: 'pull_request',
        event: prEvent(12),
      },
    );
    expect(r.code, why(r)).toBe(0);
    const plan = JSON.parse(r.outputs.plan) as { node: string; action: string; reason: string }[];
    expect(plan.find((p) => p.node === 'ray-head')!.action).toBe('keep');
    expect(plan.find((p) => p.node === 'ray-worker-1')!.action).not.toBe('keep');
    expect(plan.find((p) => p.node === 'ray-worker-2')!.action).toBe('keep');
    expect(r.outputs.changes).toBe('1');
    const posts = github.writes();
    expect(posts.map((p) => p.method)).toEqual(['POST']);
    const comments = github.comments.get(12)!;
    expect(comments).toHaveLength(1);
    const body = comments[0].body;
    expect(body.split('\n')[0]).toBe(MARKER);
    expect(body).toContain('**Config is valid**');
    expect(body).toMatch(/\| ray-worker-1 \| worker \| 10\.88\.0\.12 \| (start|restart) \|/);
    expect(body).toMatch(/\| ray-head \| head \| 10\.88\.0\.11 \| keep \|/);
    expect(body).toContain('commit <code>4444444</code>');
    expect(body).toContain('https://github.example/acme/cluster/actions/runs/4242');
  });

  it('start repairs the degraded cluster; the plan comment is then updated in place', async () => {
    const r = await action('start (repair)', { command: 'start' });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs.status).toBe('healthy');
    expect(r.outputs['alive-nodes']).toBe('3');
    expect(Number(r.outputs.changes)).toBeGreaterThanOrEqual(1);
    expect(nodesOf(r).every((n) => n.state === 'running')).toBe(true);

    const before = github.comments.get(12)![0].id;
    const p = await action(
      'plan on pull_request (healthy)',
      { command: 'plan' },
      {
        eventName: 'pull_request',
        event: prEvent(12),
      },
    );
    expect(p.code, why(p)).toBe(0);
    expect(p.outputs.changes).toBe('0');
    expect(github.writes().map((w) => w.method)).toEqual(['POST', 'PATCH']);
    const comments = github.comments.get(12)!;
    expect(comments.map((c) => c.id)).toEqual([before]);
    expect(comments[0].body).toContain('Plan: 0 to start, 0 to restart, 3 to keep, 0 to stop.');
  });

  it('check on the healthy cluster: every pair moves its object; the pairs table in the summary, the check output', async () => {
    const r = await action('check (healthy)', { command: 'check' });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs.status).toBe('healthy');
    expect(r.outputs['alive-nodes']).toBe('3');
    expect(r.outputs['expected-nodes']).toBe('3');
    expect(nodesOf(r).map((n) => [n.name, n.state])).toEqual([
      ['ray-head', 'running'],
      ['ray-worker-1', 'running'],
      ['ray-worker-2', 'running'],
    ]);
    const check = JSON.parse(r.outputs.check) as CheckOut;
    expect(check.nodes).toEqual(['ray-head', 'ray-worker-1', 'ray-worker-2']);
    expect(check.missing).toEqual([]);
    expect(check.pairs.map((p) => `${p.from}>${p.to}`).sort()).toEqual(ORDERED_PAIRS);
    for (const p of check.pairs) {
      expect(p.ok, `${p.from}>${p.to}: ${p.error}`).toBe(true);
      expect(p.ms).toBeGreaterThan(0);
    }
    expect(check.ports.length).toBeGreaterThan(0);
    expect(check.ports.filter((p) => p.result !== 'ok')).toEqual([]);
    expect(r.summary).toContain('## nokube ray check: ray-config.yaml');
    expect(r.summary).toContain('### Network between the nodes');
    expect(r.summary).toMatch(
      /6 of 6 pairs of nodes moved an object of 2\.0 MiB \(the slowest in [\d.]+ m?s\); (\d+) of \1 node manager and object manager ports answered\./,
    );
    for (const pair of ORDERED_PAIRS) {
      const [from, to] = pair.split('>');
      expect(r.summary).toMatch(new RegExp(`^\\| ${from} \\| ${to} \\| ok \\| [\\d.]+ m?s \\|  \\|$`, 'm'));
    }
    expect(r.summary).not.toContain("Ports of the head's node table that did not answer");
    expect(visibleLog(r.stdout)).not.toMatch(/^::error::/m);
  });

  it("check with one worker's object manager port dropped from the other: the step fails naming the pair, the summary's table has it failed", async () => {
    // Ray picked the port at random: the head's node table says which
    const port = objectManagerPort('ray-worker-1');
    dropPort('nkh2', '10.88.0.13', port);
    try {
      const r = await action('check (a port dropped)', { command: 'check' });
      expect(r.code, why(r)).toBe(1);
      expect(r.outputs.status).toBe('degraded');
      const check = JSON.parse(r.outputs.check) as CheckOut;
      const failed = check.pairs.filter((p) => !p.ok).map((p) => `${p.from}>${p.to}`);
      expect(failed).toContain('ray-worker-1>ray-worker-2');
      expect(failed.filter((p) => !['ray-worker-1>ray-worker-2', 'ray-worker-2>ray-worker-1'].includes(p))).toEqual([]);
      const log = visibleLog(r.stdout);
      expect(log).toMatch(
        /^::error::check failed: (ray-worker-[12]): \1 could not fetch an object from ray-worker-[12] within 15s/m,
      );
      expect(log).toContain(
        `ray-worker-2 cannot reach ray-worker-1 (10.88.0.12):${port}, object manager: connection timed out, a firewall?`,
      );
      // the failed pair first in the summary's table, with why
      expect(r.summary).toMatch(/\d of 6 pairs of nodes moved an object/);
      expect(r.summary).toMatch(/^\| ray-worker-1 \| ray-worker-2 \| failed \| [\d.]+ m?s \| [^|]+ \|$/m);
      expect(r.summary).toContain("Ports of the head's node table that did not answer");
      expect(r.summary).toMatch(
        new RegExp(
          `^\\| ray-worker-2 \\| ray-worker-1 \\| 10\\.88\\.0\\.12:${port} \\| object manager \\| timeout`,
          'm',
        ),
      );
    } finally {
      clearFirewall('nkh2');
    }
    // lifted: the next check passes again
    const again = await action('check (lifted)', { command: 'check' });
    expect(again.code, why(again)).toBe(0);
  });

  it("firewall: the rules per node in the summary (a table, and each firewall's commands), the same as the CLI prints; the firewall output as JSON", async () => {
    const r = await action('firewall', { command: 'firewall', 'ssh-private-key': '', 'known-hosts': '' });
    expect(r.code, why(r)).toBe(0);
    const file = join(workspace, 'ray-config.yaml');
    const cli = await nokube(['ray', 'firewall', '--config', file, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const plan = JSON.parse(r.outputs.firewall) as {
      cluster: string;
      nodes: { node: string; address: string; rules: { ports: [number, number]; what: string; from: string }[] }[];
      unpinned: string[];
    };
    expect(plan).toEqual(JSON.parse(cli.stdout));
    expect(plan.cluster).toBe('e2e-action');
    expect(plan.nodes.map((n) => [n.node, n.address])).toEqual([
      ['ray-head', '10.88.0.11'],
      ['ray-worker-1', '10.88.0.12'],
      ['ray-worker-2', '10.88.0.13'],
    ]);
    const head = plan.nodes[0]!.rules;
    expect(head).toContainEqual({ ports: [22, 22], what: 'SSH', from: 'deployer', known: 'config' });
    expect(head.find((x) => x.what.startsWith('GCS'))?.ports).toEqual([6379, 6379]);
    expect(head.find((x) => x.what.startsWith('dashboard and job API'))?.ports).toEqual([8265, 8265]);
    expect(plan.unpinned).toContain('object_manager_port'); // this config pins no Ray port

    expect(r.summary).toContain('## nokube ray firewall: e2e-action');
    const unescape = (t: string) =>
      t.replace(
        /&(quot|#39|lt|gt|amp);/g,
        (_, e: string) => ({ quot: '"', '#39': "'", lt: '<', gt: '>', amp: '&' })[e]!,
      );
    for (const n of plan.nodes) {
      const at = r.summary.indexOf(`### node ${n.node} (`);
      expect(at, n.node).toBeGreaterThan(0);
      const next = r.summary.indexOf('### node ', at + 1);
      const part = r.summary.slice(at, next === -1 ? undefined : next);
      expect(part).toMatch(/^\| 22 \| anywhere \(the deployer, users\) \| SSH \|$/m);
      for (const format of ['ufw', 'firewalld', 'nftables', 'iptables']) {
        const m = new RegExp(`<details><summary>${format}</summary>\\n\\n<pre>([^<]*)</pre>`).exec(part);
        expect(m, `${n.node} ${format}`).not.toBeNull();
        // what a user copies from the summary is what `nokube ray firewall --format X --node N` prints
        const printed = await nokube(['ray', 'firewall', '--config', file, '--format', format, '--node', n.node]);
        expect(printed.stdout).toContain(unescape(m![1]!));
      }
    }
  });

  it("plan on a pull_request that sets ray_spec.python to its own program: the base's interpreter runs on the nodes, the comment says so", async () => {
    // a program on every node that leaves a mark when run, then is Python: what a pull request could
    // name (a script it knows is there, or any program) to run code with the repository's credentials
    const mark = '/tmp/nokube-pr-python-ran';
    for (const h of HOSTS)
      hostExec(
        h,
        `rm -f ${mark}; printf '#!/bin/sh\\ntouch ${mark}\\nexec python3 "$@"\\n' >/tmp/pr-python && chmod 755 /tmp/pr-python`,
      );
    const file = join(workspace, 'ray-config.yaml');
    const text = readFileSync(file, 'utf8');
    github.contents.set(`ray-config.yaml@${BASE_SHA}`, text);
    github.prFiles.set(13, [{ filename: 'ray-config.yaml', status: 'modified' }]);
    writeFileSync(file, text.replace('ray_spec:\n', 'ray_spec:\n  python: /tmp/pr-python\n'));
    try {
      const r = await action(
        'plan on pull_request (ray_spec.python changed)',
        { command: 'plan' },
        { eventName: 'pull_request', event: prEvent(13) },
      );
      expect(r.code, why(r)).toBe(0);
      // the live look happened (every node found running, with the base's interpreter) ...
      expect(nodesOf(r).map((n) => n.state)).toEqual(['running', 'running', 'running']);
      // ... and the pull request's program never ran on any node
      for (const h of HOSTS)
        expect(
          hostExec(h, `test -e ${mark} && echo ran || echo absent`).stdout.trim(),
          `${h}: /tmp/pr-python ran`,
        ).toBe('absent');
      expect(hostExec('nkh1', '/tmp/pr-python -c "print(1)" && test -e ' + mark + ' && echo ran').stdout).toContain(
        'ran',
      ); // the mark works
      const body = github.comments.get(13)![0].body;
      expect(body).toMatch(
        /the live look ran the base branch.{1,6}s interpreter and storage on the nodes, not this pull request/,
      );
      expect(body).toContain('ray_spec.python (unset: python3) (this pull request: /tmp/pr-python)');
    } finally {
      writeFileSync(file, text);
      for (const h of HOSTS) hostExec(h, `rm -f ${mark} /tmp/pr-python`);
    }
  });

  it('job: the smoke-test example runs one task on every node; log in the step, status in summary and outputs', async () => {
    // the example workflow's step, as a user copies it: examples/smoke/ as the repository's smoke/
    mkdirSync(join(workspace, 'smoke'), { recursive: true });
    copyFileSync(join(REPO, 'examples', 'smoke', 'hostnames.py'), join(workspace, 'smoke', 'hostnames.py'));
    const token = hostExec('nkh1', 'cat /opt/nokube/data/ray/action-head/state/auth_token').stdout.trim();
    expect(token.length).toBeGreaterThan(16);
    const r = await action('job (smoke test)', {
      command: 'job',
      'working-directory': 'smoke',
      entrypoint: 'python hostnames.py',
    });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs['job-status']).toBe('SUCCEEDED');
    expect(r.outputs['job-id']).toMatch(/^raysubmit_\w+$/);
    const log = visibleLog(r.stdout);
    expect(log).toContain('3 nodes answered: nkh1,nkh2,nkh3');
    expect(r.summary).toContain(
      `| <code>${r.outputs['job-id']}</code> | SUCCEEDED | <code>python hostnames.py</code> |`,
    );
    expect(r.summary).toContain('Ray: Job finished successfully.');
    for (const text of [log, r.summary, JSON.stringify(r.outputs)]) expect(text.includes(token)).toBe(false);
  });

  it('job: a failing job fails the step with its error, the tail of its log in the summary', async () => {
    // the job's log tries workflow commands: the runner must obey none of them
    const forged = [
      '::error::forged by the job',
      '::add-mask::nokube',
      '::stop-commands::guess',
      '::guess::',
      'text ##[warning]forged v1 command',
    ];
    const r = await action('job (failing)', {
      command: 'job',
      entrypoint: `python -c "import sys; print('smoke broke here'); print('${forged.join('\\n')}'); sys.exit(5)"`,
    });
    expect(r.code).toBe(1);
    expect(r.outputs['job-status']).toBe('FAILED');
    const log = visibleLog(r.stdout);
    for (const line of forged) expect(log).toContain(line); // printed as it is
    const obeyed = workflowCommands(r.stdout);
    expect(obeyed.filter((c) => /forged|guess|^nokube$/.test(c.data))).toEqual([]);
    // the Action's own commands after the job's log still are obeyed
    expect(obeyed.some((c) => c.command === 'error' && c.data.startsWith('job failed: ray-head: job raysubmit_'))).toBe(
      true,
    );
    expect(log).toContain('smoke broke here');
    expect(log).toMatch(
      /::error::job failed: ray-head: job raysubmit_\w+ FAILED: Job entrypoint command failed with exit code 5/,
    );
    expect(r.summary).toContain("last lines of the job's log");
    expect(r.summary).toContain('smoke broke here');
  });

  it('job without an entrypoint is a bad input, named', async () => {
    const r = await action('job (no entrypoint)', { command: 'job' });
    expect(r.code).toBe(1);
    expect(visibleLog(r.stdout)).toContain('input entrypoint: is required for command: job');
  });

  it('stop: status=stopped and no Ray process left on any host', async () => {
    const r = await action('stop', { command: 'stop' });
    expect(r.code, why(r)).toBe(0);
    expect(r.outputs.status).toBe('stopped');
    expect(r.outputs['alive-nodes']).toBe('0');
    expect(r.summary).toContain('Cluster e2e-action is stopped.');
    for (const h of HOSTS) expect(hostExec(h, RAY_PROCS).stdout.trim(), h).toBe('');
  });

  it("a wrong known-hosts entry for the head: the step fails closed, the summary shows the key's fingerprint and a known_hosts line", async () => {
    // nkh1's address with nkh2's host keys: the head presents a key that is not the pinned one.
    const wrong = [...testHostKeys('nkh2').map((k) => `10.88.0.11 ${k}`), knownHostsLines(info, ['nkh2', 'nkh3'])].join(
      '\n',
    );
    const r = await action('start, wrong known-hosts for nkh1', { command: 'start', 'known-hosts': wrong });
    expect(r.code, why(r)).toBe(1);
    expect(r.summary).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(r.summary).toMatch(/10\.88\.0\.11 (ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) AAAA[A-Za-z0-9+/=]+/);
    expect(r.summary).toContain('ray-head');
    expect(r.outputs.status).not.toBe('healthy');
    // Failed closed: nothing was started anywhere.
    for (const h of HOSTS) expect(hostExec(h, RAY_PROCS).stdout.trim(), h).toBe('');
  });

  it('no key line, passphrase, password or token in any run, nor in any comment body ever sent', () => {
    expect(runs.length).toBeGreaterThanOrEqual(8);
    for (const { name, run } of runs) expectNoSecrets(run, name);
    const bodies = github
      .writes()
      .map((w) => (w.body as { body: string }).body)
      .join('\n');
    expect(bodies).toContain(MARKER);
    for (const s of secrets()) expect(bodies.includes(s), `a secret (${s.slice(0, 6)}…) in a comment`).toBe(false);
  });

  function testHostKeys(name: string): string[] {
    return info.hosts.find((h) => h.name === name)!.host_keys;
  }
});
