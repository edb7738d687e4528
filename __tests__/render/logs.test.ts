import { describe, expect, it } from 'vitest';
import type { LogsResult } from '../../src/engine/logs';
import { renderLogsMarkdown, renderLogsText } from '../../src/render/logs';

function logsResult(): LogsResult {
  return {
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
        keyLines: ['ray/raylet.out: [x E 1 1] boom <script>'],
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
        error: { node: 'w2', message: 'cannot connect' },
      },
    ],
  };
}

describe('logs for the terminal', () => {
  it('names the output, each node, what was cut, and Ray’s error lines by node', () => {
    const text = renderLogsText(logsResult());
    expect(text).toContain('Logs of 1 of 2 nodes of cluster prod in /tmp/x.tar.gz');
    expect(text).toMatch(/head\s+collected\s+2\s+2\.0 KiB\s+session_1\s+1 cut, 0 left out/);
    expect(text).toContain("Ray's errors:\n  head: ray/raylet.out: [x E 1 1] boom");
    expect(text).toContain('error: w2: cannot connect\n  hint: check sshd');
  });
});

describe('logs for the job summary (after a failed start)', () => {
  it('says where the archive is, which nodes are missing, and Ray’s error lines, escaped', () => {
    const md = renderLogsMarkdown(logsResult());
    expect(md).toContain("### Ray's logs");
    expect(md).toContain('Collected from head into <code>/tmp/x.tar.gz</code> (output `logs`');
    expect(md).toContain('Not collected: w2 (cannot connect).');
    expect(md).toContain('<pre>head: ray/raylet.out: [x E 1 1] boom &lt;script&gt;</pre>');
  });

  it('bounds the error lines', () => {
    const r = logsResult();
    r.nodes[0].keyLines = Array.from({ length: 100 }, (_, i) => `ray/raylet.out: E line ${i}`);
    const md = renderLogsMarkdown(r, 10);
    expect(md).toContain('E line 9\n… and 90 more in the bundle</pre>');
    expect(md).not.toContain('E line 10\n');
  });
});
