import { describe, expect, it } from 'vitest';
import { renderSummary, renderTerminal } from '../../src/render';
import { result } from './fixtures';

describe('where start and status show the dashboard URL, they say how to reach it', () => {
  it('terminal and summary name `nokube ray dashboard --config <file>`', () => {
    for (const command of ['status', 'start'] as const) {
      const r = result({ command, configPath: 'deploy/ray-config.yaml' });
      const term = renderTerminal(r, { color: false });
      expect(term).toContain('dashboard:      http://10.0.0.1:8265');
      expect(term).toContain('nokube ray dashboard --config deploy/ray-config.yaml, then the URL it prints');
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
