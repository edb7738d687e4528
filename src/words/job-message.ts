// Ray's message for a job, cut to its first line without the "last available logs" Ray appends: the
// same words in the engine's failure and in the CLI's job line.

export function shortJobMessage(message: string | null | undefined): string {
  const first = (message ?? '').trim().split('\n')[0];
  return first.replace(/,? last available logs.*$/i, '').replace(/:$/, '');
}
