// A pull request's plan from a runner with no route to the nodes (the usual case for hosted runners):
// a literal password makes the plan go live, every connection fails, and the plan still shows the
// change from the base branch's config, marked "live state unknown". Nodes are closed local ports.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/engine';
import type { RunOptions } from '../../src/engine/types';
import { renderPlanText } from '../../src/render';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function config(worker1Cpus: number, withWorker2: boolean): string {
  const node = (port: number, name: string, role: string, cpus: number) => `
  - ssh_url: "127.0.0.1:${port}"
    name: ${name}
    role: ${role}
    ray_config: {num_cpus: ${cpus}}
    users:
      - userid: deploy
        password: hunter2-literal`;
  return `nodes:${node(9, 'ray-head', 'head', 4)}${node(10, 'ray-worker-1', 'worker', worker1Cpus)}${withWorker2 ? node(11, 'ray-worker-2', 'worker', 8) : ''}\n`;
}

function options(configPath: string, previousConfigText: string): RunOptions {
  const quiet = () => undefined;
  return {
    command: 'plan',
    configPath,
    ssh: { identities: [], knownHosts: '', insecureSkipHostKeyCheck: false, connectTimeoutSec: 3 },
    concurrency: 4,
    timeoutSec: 10,
    env: {},
    remoteLibDir: join(__dirname, '..', '..', 'remote_lib'),
    reporter: { node: quiet, info: quiet, warn: quiet, debug: quiet, secret: quiet },
    previousConfigText,
  };
}

describe('plan when the nodes cannot be reached', () => {
  it('keeps the base-vs-head diff for each node, marked live state unknown, and the counts say so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-plan-'));
    const path = join(dir, 'ray-config.yaml');
    writeFileSync(path, config(16, true));
    const result = await run(options(path, config(8, false)));
    const byNode = Object.fromEntries((result.plan ?? []).map((p) => [p.node, p]));
    expect(byNode['ray-head']).toMatchObject({ action: 'keep', liveStateUnknown: true, disruption: 'keep' });
    expect(byNode['ray-worker-1']).toMatchObject({
      action: 'restart',
      liveStateUnknown: true,
      disruption: 'restart (rolling)',
      drift: [{ field: 'ray_config.num_cpus', from: '8', to: '16' }],
    });
    expect(byNode['ray-worker-2']).toMatchObject({ action: 'start', liveStateUnknown: true });
    expect(byNode['ray-worker-2']!.reason).toMatch(/^new node \(live state unknown: /);
    expect(result.changes).toBe(2);
    const text = renderPlanText(result);
    expect(text).toContain(
      'Plan: 1 to start, 1 to restart, 1 to keep, 0 to stop (live state unknown for 3 nodes: planned from the config diff).',
    );
    expect(text).toContain('ray_config.num_cpus: 8 -> 16');
    expect(text).not.toContain('hunter2');
  });
});
