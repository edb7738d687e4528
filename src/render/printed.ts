// What a terminal command prints, in order: each piece names its stream. The CLI writes them
// (masking secrets); the renderers only choose the words.

export type Stream = 'stdout' | 'stderr';

export interface Printed {
  stream: Stream;
  text: string;
}

/** A run's errors, one per line with its hint, as every terminal command shows them. */
export function errorLines(errors: { node?: string; message: string; hint?: string }[]): string {
  return errors
    .map((e) => `error: ${e.node ? `${e.node}: ` : ''}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`)
    .join('');
}
