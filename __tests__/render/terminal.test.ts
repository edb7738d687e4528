import { describe, expect, it } from 'vitest';
import { renderPlanText, renderTerminal } from '../../src/render';
import { nodeReport, planItem, result } from './fixtures';

describe('renderTerminal', () => {
  it('aligns the node table with the summary columns', () => {
    const text = renderTerminal(result(), { color: false });
    const lines = text.split('\n');
    const header = lines.find((l) => l.includes('NODE') && l.includes('RESOURCES'))!;
    expect(header).toMatch(/^ {2}NODE\s+ROLE\s+HOST\s+STATE\s+RAY VERSION\s+RESOURCES\s+ERROR$/);
    const head = lines.find((l) => l.includes('ray-head'))!;
    expect(head.indexOf('10.0.0.1')).toBe(header.indexOf('HOST'));
    expect(head.indexOf('running')).toBe(header.indexOf('STATE'));
    expect(text).toContain('status: healthy  Cluster prod is healthy: 2 of 2 nodes alive.');
    expect(text).not.toContain('\x1b[');
  });

  it('colours states only when asked', () => {
    const text = renderTerminal(result(), { color: true });
    expect(text).toContain('\x1b[32mrunning');
  });

  it('shows the plan, errors with hints, and timings', () => {
    const text = renderTerminal(
      result({
        command: 'start',
        ok: false,
        status: 'degraded',
        aliveNodes: 1,
        nodes: [
          nodeReport('ray-head', 'head', 'h', { state: 'running' }),
          nodeReport('w', 'worker', 'w', { state: 'failed', error: 'port 6379\nin use' }),
        ],
        plan: [planItem('w', 'restart', { drift: [{ field: 'num_cpus', from: '1', to: '2' }] })],
        errors: [{ node: 'w', message: 'port in use', hint: 'free it' }],
      }),
      { color: false },
    );
    expect(text).toMatch(/failed\s+port 6379 in use/);
    expect(text).toMatch(/w\s+restart\s+restart \(rolling\)\s+num_cpus: 1 → 2/);
    expect(text).toContain('error: w: port in use');
    expect(text).toContain('hint: free it');
    expect(text).toContain('timings: connect 420 ms, total 1.8 s');
  });

  it('prints a Terraform-style plan text', () => {
    const text = renderPlanText(
      result({
        command: 'plan',
        plan: [planItem('a', 'start'), planItem('b', 'restart', { drift: [{ field: 'f', from: '1', to: '2' }] })],
      }),
    );
    expect(text).toContain('+ a (worker, a.example): start, new node');
    expect(text).toContain('    f: 1 -> 2');
    expect(text).toContain('Plan: 1 to start, 1 to restart, 0 to keep, 0 to stop.');
  });
});
