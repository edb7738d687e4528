// Every secret the Action learns about: registered with the runner (core.setSecret, so the runner
// masks it in the log) and kept here, so the summary, the PR comment and the outputs, which the
// runner does not always scrub, are masked by us as well.
import * as core from '@actions/core';

import { SecretMask } from '../render/secret-mask';

export class SecretRegistry {
  private readonly masked = new SecretMask();

  /** Registers a secret, and each of its lines (the runner masks line by line). */
  add(value: string | undefined): void {
    for (const piece of this.masked.add(value)) core.setSecret(piece);
  }

  /** The text with every registered secret replaced by `***` (longest first: a key hides its lines). */
  mask(text: string): string {
    return this.masked.apply(text);
  }
}
