import { describe, expect, it } from 'vitest';
import { renderSummary, renderTerminal } from '../../src/render';
import { renderLogsText } from '../../src/render/logs';
import { result } from './fixtures';

describe('where start and status show the dashboard URL, they say how to reach it', () => {
  it('terminal and summary name `nokube ray dashboard --config <file>`', () => {
    for (const command of ['status', 'start'] as const) {
      const r = result({ command, configPath: 'deploy/ray-config.yaml' });
      const term = renderTerminal(r, { color: false });
      expect(term).toContain('dashboard:      http://10.0.0.1:8265');
      expect(term).toContain('nokube ray dashboard --config deploy/ray-config.yaml, then http://127.0.0.1:8265');
      expect(renderSummary(r)).toContain('<code>nokube ray dashboard --config deploy/ray-config.yaml</code>');
    }
  });

  it('not for plan or stop, and a path with spaces is quoted for the shell', () => {
    expect(renderTerminal(result({ command: 'plan' }), { color: false })).not.toContain('nokube ray dashboard');
    expect(renderSummary(result({ command: 'stop' }))).not.toContain('nokube ray dashboard');
    expect(renderTerminal(result({ configPath: 'my cfg.yaml' }), { color: false })).toContain(
      "nokube ray dashboard --config 'my cfg.yaml'",
    );
  });
});

describe('logs for the terminal', () => {
  it('names the output, each node, what was cut, and Ray’s error lines by node', () => {
    const text = renderLogsText({
      ok: false,
      invalid: false,
      configPath: 'c.yaml',
      clusterName: 'prod',
      output: '/tmp/x.tar.gz',
      archive: true,
      diagnostics: [],
      timings: [],
      errors: [{ node: 'w2', host: '10.0.0.3:22', message: 'cannot connect', hint: 'check sshd' }],
      nodes: [
        {
          name: 'head',
          role: 'head',
          host: '10.0.0.1',
          ok: true,
          files: ['ray/raylet.out', 'facts.json'],
          bytes: 2048,
          cut: ['ray/raylet.out: kept the last 4194304 of 9000000 bytes'],
          omitted: [],
          keyLines: ['ray/raylet.out: [x E 1 1] boom'],
          session: 'session_1',
        },
        {
          name: 'w2',
          role: 'worker',
          host: '10.0.0.3',
          ok: false,
          files: [],
          bytes: 0,
          cut: [],
          omitted: [],
          keyLines: [],
        },
      ],
    });
    expect(text).toContain('Logs of 1 of 2 nodes of cluster prod in /tmp/x.tar.gz');
    expect(text).toMatch(/head\s+collected\s+2\s+2\.0 KiB\s+session_1\s+1 cut, 0 left out/);
    expect(text).toContain("Ray's errors:\n  head: ray/raylet.out: [x E 1 1] boom");
    expect(text).toContain('error: w2: cannot connect\n  hint: check sshd');
  });
});
