// Every secret the Action learns about: registered with the runner (core.setSecret, so the runner
// masks it in the log) and kept here, so the summary, the PR comment and the outputs, which the
// runner does not always scrub, are masked by us as well.
import * as core from '@actions/core';

export class SecretRegistry {
  private readonly values = new Set<string>();

  /** Registers a secret, and each of its lines (the runner masks line by line). */
  add(value: string | undefined): void {
    if (!value) return;
    for (const v of [value, ...value.split(/\r?\n/)].map((s) => s.trim())) {
      if (!v || this.values.has(v) || isPublicFraming(v)) continue;
      this.values.add(v);
      core.setSecret(v);
    }
  }

  /** The text with every registered secret replaced by `***` (longest first: a key hides its lines). */
  mask(text: string): string {
    let out = text;
    for (const s of [...this.values].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join('***');
    }
    return out;
  }
}

/** PEM framing and header lines of a key: not secret, and masking them would garble every log. */
function isPublicFraming(line: string): boolean {
  return /^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line) || /^(Proc-Type|DEK-Info|Comment):/.test(line);
}
