// Every phase a command times is also reported to the front end as it begins and ends, so the
// Action can show it as its own group of the workflow log; a phase that fails is still ended.
import { describe, expect, it } from 'vitest';
import { PhaseClock, emptyResult } from '../../src/engine/steps/run-result';
import type { Reporter } from '../../src/engine/types';

function recorder(events: string[]): Reporter {
  return {
    node: (name, message) => events.push(`${name}: ${message}`),
    info: () => {},
    warn: () => {},
    debug: () => {},
    secret: () => {},
    phase: (name) => {
      events.push(`begin ${name}`);
      return () => events.push(`end ${name}`);
    },
  };
}

describe('PhaseClock', () => {
  it('reports each phase around its work, in order, and times it', async () => {
    const events: string[] = [];
    const result = emptyResult('start', 'ray-config.yaml');
    const reporter = recorder(events);
    const clock = new PhaseClock(result, reporter);
    await clock.phase('connect', async () => reporter.node('ray-head', 'connected'));
    await clock.phase('head', async () => reporter.node('ray-head', 'started'));
    expect(events).toEqual([
      'begin connect',
      'ray-head: connected',
      'end connect',
      'begin head',
      'ray-head: started',
      'end head',
    ]);
    expect(result.timings.map((t) => t.phase)).toEqual(['connect', 'head']);
  });

  it('ends a phase whose work throws', async () => {
    const events: string[] = [];
    const clock = new PhaseClock(emptyResult('stop', 'ray-config.yaml'), recorder(events));
    await expect(clock.phase('stop head', async () => Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    expect(events).toEqual(['begin stop head', 'end stop head']);
  });

  it('works with a reporter that shows no phases (the CLI)', async () => {
    const { phase: _none, ...plain } = recorder([]);
    const clock = new PhaseClock(emptyResult('status', 'ray-config.yaml'), plain);
    expect(await clock.phase('status', async () => 42)).toBe(42);
  });
});
