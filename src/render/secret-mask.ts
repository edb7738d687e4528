// Secrets masked in everything we print or write, by both front ends: a key is registered whole and
// line by line (logs are read line by line), longest first so a key hides its own lines.

/** PEM framing and header lines of a key: not secret, and masking them would garble every log. */
function isPublicFraming(line: string): boolean {
  return /^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line) || /^(Proc-Type|DEK-Info|Comment):/.test(line);
}

export class SecretMask {
  private readonly values = new Set<string>();
  /** The values to replace, longest first; rebuilt after an add (apply runs on every string of a result). */
  private ordered: string[] | undefined;

  /** Registers a secret and each of its lines; returns the pieces that were new. */
  add(value: string | undefined): string[] {
    if (!value) return [];
    const added: string[] = [];
    for (const v of [value, ...value.split(/\r?\n/)].map((s) => s.trim())) {
      if (!v || this.values.has(v) || isPublicFraming(v)) continue;
      this.values.add(v);
      this.ordered = undefined;
      added.push(v);
    }
    return added;
  }

  /** The text with every registered secret replaced by `***`. */
  apply(text: string): string {
    this.ordered ??= [...this.values].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
    let out = text;
    for (const s of this.ordered) {
      if (out.includes(s)) out = out.split(s).join('***');
    }
    return out;
  }
}
