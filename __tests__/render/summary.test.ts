import { describe, expect, it } from 'vitest';
import { renderSummary, SUMMARY_MAX_BYTES } from '../../src/render';
import { bigResult, diagnostic, nodeReport, planItem, result } from './fixtures';

describe('renderSummary', () => {
  it('shows the status line with counts, the node table and timings', () => {
    const md = renderSummary(result(), { sha: '0123456789abcdef', runUrl: 'https://github.com/o/r/actions/runs/1' });
    expect(md).toContain('**Healthy**. Cluster prod is healthy: 2 of 2 nodes alive.');
    expect(md).toContain('| node | role | host | state | Ray version | resources | error |');
    expect(md).toContain('| ray-head | head | 10.0.0.1 | running | 2.40.0 | CPU 8, memory 8.0 GiB |  |');
    expect(md).toContain('| ray-w1 | worker | 10.0.0.2 | running | 2.40.0 | CPU 4, GPU 1 |  |');
    expect(md).toContain('| total | 1.8 s |');
    expect(md).toContain('commit <code>0123456</code>');
    expect(md).toContain('<a href="https://github.com/o/r/actions/runs/1">workflow run</a>');
    expect(md).not.toMatch(/[\u{1F300}-\u{1FAFF}\u2705\u274C]/u);
  });

  it('says degraded and which nodes are missing', () => {
    const md = renderSummary(
      result({
        status: 'degraded',
        aliveNodes: 1,
        nodes: [
          nodeReport('ray-head', 'head', '10.0.0.1', { state: 'running' }),
          nodeReport('ray-w1', 'worker', '10.0.0.2', { state: 'missing', error: 'not in the head view' }),
        ],
      }),
    );
    expect(md).toContain('Cluster prod is degraded: 1 of 2 nodes alive.');
    expect(md).toContain('| ray-w1 | worker | 10.0.0.2 | missing |  |  | not in the head view |');
  });

  it('says stopped after stop', () => {
    const md = renderSummary(result({ command: 'stop', status: 'stopped', aliveNodes: 0 }));
    expect(md).toContain('Cluster prod is stopped.');
  });

  it('shows a failure with each error and its hint', () => {
    const md = renderSummary(
      result({
        command: 'start',
        ok: false,
        status: 'down',
        errors: [
          {
            node: 'ray-head',
            host: '10.0.0.1',
            message: 'ssh: authentication failed',
            hint: 'check the ssh-private-key input',
          },
        ],
      }),
    );
    expect(md).toContain('**Down, failed**');
    expect(md).toContain('The start failed: 1 error.');
    expect(md).toContain(
      '<b>ray-head</b> (10.0.0.1): ssh: authentication failed<br>hint: check the ssh-private-key input',
    );
  });

  it('escapes config-derived values: <script> and | in names, hosts and errors', () => {
    const md = renderSummary(
      result({
        nodes: [
          nodeReport('<script>alert(1)</script>', 'head', 'a|b', {
            state: 'failed',
            error: 'bad | <img src=x onerror=alert(1)>',
          }),
        ],
        errors: [{ node: '<script>', message: '<b>boom</b>', hint: '<i>x</i>' }],
        diagnostics: [diagnostic({ message: 'found "<script>"', severity: 'warning' })],
        warnings: ['<svg onload=x>'],
      }),
    );
    expect(md).not.toMatch(/<script|<img|<svg|<b>boom|<i>x/);
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).toContain('| a\\|b |');
    expect(md).toContain('bad \\| &lt;img src=x onerror=alert(1)&gt;');
  });

  it('renders the plan with drift from → to', () => {
    const md = renderSummary(
      result({
        command: 'plan',
        changes: 2,
        plan: [
          planItem('ray-head', 'keep'),
          planItem('ray-w1', 'restart', {
            drift: [{ field: 'ray_config.num_cpus', from: '2', to: '4' }],
            reason: 'config changed',
          }),
          planItem('ray-w2', 'start'),
        ],
      }),
    );
    expect(md).toContain('Plan for ray-config.yaml: 1 to start, 1 to restart, 1 to keep, 0 to stop (2 changes).');
    expect(md).toContain('| ray-w1 | restart | restart (rolling) | ray_config.num_cpus: 2 → 4 | config changed |');
  });

  it('lists diagnostics with file:line:col for an invalid config', () => {
    const md = renderSummary(
      result({ command: 'validate', ok: false, status: 'unknown', nodes: [], diagnostics: [diagnostic()] }),
    );
    expect(md).toContain('**Invalid config**. Config ray-config.yaml is invalid: 1 error. Nothing was changed.');
    expect(md).toContain(
      'error <code>ray-config.yaml:3:5</code> <code>nodes&#91;0&#93;.role</code>: unknown role &quot;haed&quot;<br>hint: allowed: head | worker',
    );
  });

  it('does not repeat config warnings that are already diagnostics', () => {
    const d = diagnostic({
      severity: 'warning',
      path: 'nodes[0].users[0].password',
      message: 'a plaintext password is written in the config',
    });
    const md = renderSummary(result({ diagnostics: [d], warnings: [`${d.path}: ${d.message}`, 'something else'] }));
    expect(md.split('a plaintext password is written').length - 1).toBe(1);
    expect(md).toContain('- something else');
  });

  it('keeps a 2,000-node result under 1 MiB by cutting the tables, with a note', () => {
    const big = bigResult(2000);
    const md = renderSummary(big);
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(md).toContain('**667 changes**. Plan for ray-config.yaml');
    expect(md).toMatch(/\d+ more nodes not shown here/);
    expect(md).toContain('### Timings');
  });

  it('respects a smaller cap too', () => {
    const md = renderSummary(bigResult(300), {}, 20_000);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(20_000);
    expect(md).toContain('**100 changes**');
  });
});
