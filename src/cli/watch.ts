// `nokube ray status --watch [SECONDS]`: the engine looks again over the connections it holds; here
// each round is shown: redrawn in place on a terminal (cursor home, each line cleared to its end, the
// rest of the screen cleared: no blank frame), else one line per change (JSON lines with --json).
// Ctrl-C ends it with exit 0, the connections closed by the engine.
import { run } from '../engine';
import type { RunResult, SessionOptions } from '../engine/types';
import { renderTerminal } from '../render';
import { runOutputs } from '../render/outputs';
import { escapeControls, mapStrings } from '../render/safe-text';
import type { SecretMask } from '../render/secret-mask';
import { watchHeader, watchLine, watchLineAt } from '../render/watch';
import type { CliSettings } from './args';
import type { CliIO } from './io';
import { printRunResult } from './run-output';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const HOME = '\x1b[H';
const CLEAR_SCREEN = '\x1b[2J';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export async function watchCommand(
  settings: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  io.signal?.addEventListener('abort', onSignal);
  const terminal = io.isTTY && !settings.json;
  const show = terminal ? redraw(settings, io, mask) : changes(settings, io, mask);
  let rounds = 0;
  try {
    const result = await run({
      ...options,
      command: 'status',
      signal: stop.signal,
      // the table says each node's state every round: no progress lines under it
      reporter: { ...options.reporter, node: () => {} },
      watch: {
        everySec: settings.watchSec!,
        onRound: (r) => {
          rounds += 1;
          show(r);
        },
      },
    });
    // an invalid config (or a run that failed before its first look) is printed as `status` would;
    // Ctrl-C before the first look shows nothing
    if (rounds === 0 && !stop.signal.aborted) return printRunResult(result, settings, io, mask);
    return 0;
  } finally {
    if (terminal && rounds > 0) io.stdout(SHOW_CURSOR);
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    io.signal?.removeEventListener('abort', onSignal);
  }
}

/** Secrets masked on the raw text first, then control characters made visible (as printRunResult). */
function shown(raw: RunResult, mask: SecretMask, json: boolean): RunResult {
  const masked = mapStrings(raw, (s) => mask.apply(s));
  return json ? masked : mapStrings(masked, escapeControls);
}

function redraw(settings: CliSettings, io: CliIO, mask: SecretMask): (r: RunResult) => void {
  let first = true;
  return (raw) => {
    const text = renderTerminal(shown(raw, mask, false), { color: !io.env.NO_COLOR, timeline: settings.timeline });
    const lines = [watchHeader(settings.watchSec!, new Date()), '', ...mask.apply(text).split('\n')];
    io.stdout(
      (first ? HIDE_CURSOR + CLEAR_SCREEN : '') +
        HOME +
        lines.map((l) => l + CLEAR_LINE_END).join('\n') +
        '\n' +
        CLEAR_BELOW,
    );
    first = false;
  };
}

function changes(settings: CliSettings, io: CliIO, mask: SecretMask): (r: RunResult) => void {
  let last: string | undefined;
  return (raw) => {
    const r = shown(raw, mask, settings.json);
    let line: string;
    let key: string;
    if (settings.json) {
      const doc = runOutputs(r);
      // Ray's report time moves every few seconds: a change is a change of anything else
      key = JSON.stringify({ ...doc, resources: doc.resources && { ...doc.resources, measured_at: undefined } });
      line = JSON.stringify({ time: new Date().toISOString(), ...doc });
    } else {
      key = watchLine(r);
      line = watchLineAt(key, new Date());
    }
    if (key === last) return;
    last = key;
    io.stdout(mask.apply(line) + '\n');
  };
}
