import { describe, expect, it } from 'vitest';
import { planCommentMarker, renderPlanComment } from '../../src/render';
import { DEFAULT_ROLLOUT, type ClusterConfig, type NodeSpec } from '../../src/config/types';
import { bigResult, diagnostic, planItem, result } from './fixtures';

const ctx = { configPath: 'ray-config.yaml', sha: 'abcdef0123456789', runUrl: 'https://github.com/o/r/actions/runs/7' };

function spec(name: string, role: 'head' | 'worker', hostKey?: string): NodeSpec {
  return {
    name,
    role,
    sshUrl: `${name}:22`,
    host: name,
    sshPort: 22,
    ray: {},
    storage: { type: 'local' },
    users: [],
    index: 0,
    pos: { line: 1, col: 1 },
    hostKey,
  };
}

function config(nodes: NodeSpec[]): ClusterConfig {
  return {
    file: 'ray-config.yaml',
    clusterName: 'prod',
    dashboardPort: 8265,
    rollout: DEFAULT_ROLLOUT,
    restart: 'always',
    keepSessions: 5,
    logRotation: { maxBytes: 512 * 1024 * 1024, backupCount: 5 },
    keepDeadWorkerLogs: 1000,
    nodes,
    head: nodes[0],
    workers: nodes.slice(1),
  };
}

const planResult = () =>
  result({
    command: 'plan',
    status: 'unknown',
    changes: 3,
    plan: [
      planItem('ray-head', 'keep', { role: 'head' }),
      planItem('ray-w1', 'restart', {
        drift: [{ field: 'ray_config.num_cpus', from: '2', to: '4' }],
        reason: 'config changed',
      }),
      planItem('ray-w2', 'start'),
      planItem('ray-old', 'stop', { reason: 'removed from config' }),
    ],
    diagnostics: [
      diagnostic({
        severity: 'warning',
        path: 'nodes[1].users[0].password',
        message: 'a plaintext password is written in the config',
        hint: 'use ${ENV}',
      }),
    ],
    config: config([spec('ray-head', 'head', 'ssh-ed25519 AAAA'), spec('ray-w1', 'worker'), spec('ray-w2', 'worker')]),
  });

describe('renderPlanComment', () => {
  it('starts with the hidden marker for the config path', () => {
    const body = renderPlanComment(planResult(), ctx);
    expect(body.split('\n')[0]).toBe('<!-- nokube-ray-deploy:plan:ray-config.yaml -->');
    expect(planCommentMarker('clusters/a.yaml')).toBe('<!-- nokube-ray-deploy:plan:clusters/a.yaml -->');
  });

  it('has the verdict, the counts, the per-node table, warnings, details, short SHA and run link', () => {
    const body = renderPlanComment(planResult(), ctx);
    expect(body).toContain('**Config is valid** (1 warning). Plan: 1 to start, 1 to restart, 1 to keep, 1 to stop.');
    expect(body).toContain(
      '| ray-w1 | worker | ray-w1.example | restart | restart (rolling) | ray_config.num_cpus: 2 → 4 | config changed |',
    );
    expect(body).toContain(
      '| ray-old | worker | ray-old.example | stop | stop (drained first) |  | removed from config |',
    );
    expect(body).toContain('a plaintext password is written in the config');
    expect(body).toMatch(/host key not pinned for 2 nodes \(ray-w1, ray-w2\)/);
    expect(body).toContain('<details><summary>');
    expect(body).toContain('| ray-w1 | ray_config.num_cpus | 2 | 4 |');
    expect(body).toContain('commit <code>abcdef0</code>');
    expect(body).not.toContain('abcdef01');
    expect(body).toContain('href="https://github.com/o/r/actions/runs/7"');
    // Summary before details.
    expect(body.indexOf('| ray-w1 | worker')).toBeLessThan(body.indexOf('<details>'));
  });

  it('shows an invalid config with its errors and no plan', () => {
    const body = renderPlanComment(
      result({ command: 'plan', ok: false, status: 'unknown', nodes: [], diagnostics: [diagnostic()] }),
      ctx,
    );
    expect(body).toContain('**Config is invalid**: 1 error.');
    expect(body).toContain(
      '<code>ray-config.yaml:3:5</code> <code>nodes&#91;0&#93;.role</code>: unknown role &quot;haed&quot;',
    );
  });

  it('escapes names and errors', () => {
    const body = renderPlanComment(
      result({
        command: 'plan',
        plan: [planItem('<script>x</script>|y', 'start', { reason: '<img src=x>' })],
        errors: [{ message: '<b>no</b>' }],
      }),
      ctx,
    );
    expect(body).not.toMatch(/<script|<img|<b>no/);
    expect(body).toContain('&lt;script&gt;x&lt;/script&gt;\\|y');
  });

  it('escapes a marker-breaking config path', () => {
    const body = renderPlanComment(planResult(), { ...ctx, configPath: 'a-->b.yaml' });
    expect(body.split('\n')[0]).toMatch(/^<!-- nokube-ray-deploy:plan:a-[^>]*b\.yaml -->$/);
  });

  it('stays under 65,536 characters for 2,000 nodes, summary first, details cut first', () => {
    const body = renderPlanComment(bigResult(2000), ctx);
    expect(body.length).toBeLessThan(65_536);
    expect(body.split('\n')[0]).toBe('<!-- nokube-ray-deploy:plan:ray-config.yaml -->');
    expect(body).toContain('**Config is valid**');
    expect(body).toContain('Plan: 0 to start, 667 to restart, 1333 to keep, 0 to stop.');
    expect(body).toMatch(/more nodes not shown here/);
    expect(body).toContain('commit <code>abcdef0</code>');
  });

  it('cuts the details before the table when only the details are too long', () => {
    const r = bigResult(40);
    const full = renderPlanComment(r, ctx, 1_000_000);
    const tableEnd = full.indexOf('<details>');
    const body = renderPlanComment(r, ctx, tableEnd + 3000);
    expect(body).toContain('| node-0039');
    expect(body).not.toMatch(/more nodes not shown/);
    expect(body.length).toBeLessThanOrEqual(tableEnd + 3000);
  });
});
