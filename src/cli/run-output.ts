// What validate, plan, start, status and stop print (and job, exec, env when the config is invalid):
// the engine's result as tables, or --json, and the exit code.
import { errorsFirst, formatDiagnostic } from '../config';
import { verdict, type Verdict } from '../engine';
import type { RunResult } from '../engine/types';
import { renderTerminal } from '../render';
import { runErrors, runOutputs } from '../render/outputs';
import { escapeControls, mapStrings } from '../render/safe-text';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

export function printRunResult(raw: RunResult, settings: CliSettings, io: CliIO, mask: SecretMask): number {
  // secrets masked on the raw text first (escaping or JSON-encoding would change their spelling),
  // then control characters escaped for the terminal
  const masked = mapStrings(raw, (s) => mask.apply(s));
  const result = settings.json ? masked : mapStrings(masked, escapeControls);
  const invalid = result.diagnostics.some((d) => d.severity === 'error');
  if (settings.json) {
    const doc: Record<string, unknown> = { ...runOutputs(result) };
    if (!result.ok) doc.errors = runErrors(result);
    if (result.warnings.length) doc.warnings = result.warnings;
    if (settings.timeline) doc.timeline = result.timeline ?? [];
    io.stdout(mask.apply(JSON.stringify(doc, null, 2)) + '\n');
  } else {
    for (const d of errorsFirst(result.diagnostics)) io.stderr(formatDiagnostic(d) + '\n');
    if (!invalid)
      io.stdout(
        mask.apply(renderTerminal(result, { color: io.isTTY && !io.env.NO_COLOR, timeline: settings.timeline })) + '\n',
      );
  }
  return exitCode(result);
}

const EXIT_CODES: Record<Verdict, number> = { pass: 0, invalid: 2, failed: 1, unhealthy: 1 };

export function exitCode(result: RunResult): number {
  return EXIT_CODES[verdict(result)];
}
