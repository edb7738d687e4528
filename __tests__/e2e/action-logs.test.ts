// The Action after a failed start, as the runner runs it (node <bundle>/index.js, INPUT_*, RUNNER_TEMP,
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) on the real test hosts: a worker whose Ray refuses to start
// (an object store larger than the machine) fails the step, and the step still leaves the nodes' logs
// as the `logs` output and Ray's error lines in the job summary.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionBundle, runAction, visibleLog } from '../action/runner';
import { clusterConfig } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const CONFIG = clusterConfig({
  name: 'e2e-failed',
  nodes: [
    {
      ip: '10.88.0.11',
      name: 'ray-head',
      role: 'head',
      ray: { dashboard_port: 8265 },
      storage: '/opt/nokube/data/fl/h',
    },
    // an object store larger than the machine: Ray refuses to start
    {
      ip: '10.88.0.12',
      name: 'ray-worker-1',
      role: 'worker',
      ray: { object_store_memory: 900000000000 },
      storage: '/opt/nokube/data/fl/w1',
    },
  ],
});

describe.skipIf(!e2eEnabled)('the Action collects the logs after a failed start', () => {
  let info: HostsInfo;
  let workspace: string;
  let runnerTemp: string;
  let bundle: string;

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    bundle = actionBundle();
    workspace = mkdtempSync(join(tmpdir(), 'nokube-action-ws-'));
    runnerTemp = mkdtempSync(join(tmpdir(), 'nokube-runner-temp-'));
    writeFileSync(join(workspace, 'ray-config.yaml'), CONFIG);
  }, 300_000);
  afterAll(() => {
    if (info) rayStopAll(info);
    for (const d of [workspace, runnerTemp]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('start fails; output logs is a .tar.gz under RUNNER_TEMP with each node; Ray’s error in the summary', async () => {
    const t0 = Date.now();
    const run = await runAction({
      entry: bundle,
      workspace,
      inputs: {
        command: 'start',
        'ssh-private-key': readFileSync(info.client.keys.ed25519, 'utf8'),
        'ssh-user': 'nokube',
        'known-hosts': readFileSync(info.client.known_hosts, 'utf8'),
        timeout: '300',
      },
      env: { RUNNER_TEMP: runnerTemp, GITHUB_RUN_ATTEMPT: '1' },
      timeoutMs: 600_000,
    });
    console.log(`failed start + log collection (Action): ${Date.now() - t0} ms`);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain('::error::start failed: ray-worker-1');
    const logs = run.outputs.logs;
    expect(logs).toBe(join(runnerTemp, 'nokube-logs-e2e-failed-4242-1.tar.gz'));
    expect(existsSync(logs)).toBe(true);
    const members = spawnSync('tar', ['-tzf', logs], { encoding: 'utf8' }).stdout.split('\n');
    expect(members).toContain('ray-head/ray/raylet.out');
    expect(members).toContain('ray-head/facts.json');
    expect(members).toContain('ray-worker-1/nokube/ray-start.log');
    expect(members).toContain('ray-worker-1/facts.json');
    // the summary: the start's own report, then the logs section with Ray's error lines by node
    expect(run.summary).toContain("### Ray's logs");
    expect(run.summary).toContain(`<code>${logs}</code>`);
    expect(run.summary).toMatch(/<pre>[^]*ray-worker-1: nokube\/ray-start\.log: [^\n]*(object store|memory)/i);
    // and in the workflow log
    expect(run.stdout).toMatch(/ray-worker-1: nokube\/ray-start\.log: /);
    // the head's token never reaches the log, the summary, the outputs or the bundle
    const token = hostExec('nkh1', 'cat /opt/nokube/data/fl/h/state/auth_token').stdout.trim();
    expect(token.length).toBeGreaterThan(10);
    const bundleText = spawnSync('tar', ['-xzOf', logs], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    const seen = {
      log: visibleLog(run.stdout) + run.stderr,
      summary: run.summary,
      outputs: JSON.stringify(run.outputs),
      bundle: bundleText,
    };
    for (const [where, text] of Object.entries(seen)) expect(text.includes(token), where).toBe(false);
  });
});
