import { describe, expect, it } from 'vitest';
import { noTokenAuthWarning } from '../../src/engine/no-token-auth';
import type { ProbeAnswer } from '../../src/remote/types';
import { renderPlanComment } from '../../src/render/comment';
import { renderSummary } from '../../src/render/summary';
import { result } from '../render/fixtures';
import { cluster, node } from './fixtures';

const probe = (version: string, tokenAuth: boolean) =>
  ({ ok: true, ray: { version, python: '/usr/bin/python3', token_auth: tokenAuth } }) as unknown as ProbeAnswer;

describe('a head without token authentication (Ray < 2.52)', () => {
  const c = cluster([node('head', 'head', '10.0.0.1'), node('w1', 'worker', '10.0.0.2')]);

  it('is warned about, naming the head, its Ray and where the dashboard listens', () => {
    const w = noTokenAuthWarning(c, probe('2.40.0', false))!;
    expect(w).toMatch(/head head runs Ray 2\.40\.0, which has no token authentication/);
    expect(w).toContain('10.0.0.1');
    expect(noTokenAuthWarning(c, probe('2.60.0', true))).toBeUndefined();
    expect(noTokenAuthWarning(c, undefined)).toBeUndefined();
  });

  it('the warning reaches the summary and the PR comment', () => {
    const r = result({ command: 'plan', warnings: [noTokenAuthWarning(c, probe('2.40.0', false))!] });
    expect(renderSummary(r, {})).toContain('no token authentication');
    expect(renderPlanComment(r, { configPath: 'ray-config.yaml' })).toContain('no token authentication');
  });
});
