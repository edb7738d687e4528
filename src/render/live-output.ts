// Live output of what runs on the cluster: a job's log goes out as it is; exec's lines get a
// `node | ` prefix, each line whole (a node's partial line waits for its newline or the flush).
import type { SecretMask } from './secret-mask';
import type { Stream } from './printed';

export function liveOutput(write: (stream: Stream, text: string) => void, mask: SecretMask, prefixNodes: boolean) {
  const pending = new Map<string, string>();
  return {
    output(text: string, stream: Stream, node?: string): void {
      if (!prefixNodes || !node) return write(stream, mask.apply(text));
      const key = `${node}\0${stream}`;
      const buf = (pending.get(key) ?? '') + text;
      const cut = buf.lastIndexOf('\n');
      pending.set(key, cut < 0 ? buf : buf.slice(cut + 1));
      if (cut < 0) return;
      const lines = buf.slice(0, cut).split('\n');
      write(stream, lines.map((l) => `${node} | ${mask.apply(l)}\n`).join(''));
    },
    /** Whatever a node printed without a final newline. */
    flush(): void {
      for (const [key, rest] of pending) {
        if (!rest) continue;
        const [node, stream] = key.split('\0') as [string, Stream];
        write(stream, `${node} | ${mask.apply(rest)}\n`);
      }
      pending.clear();
    },
  };
}

export type LiveOutput = ReturnType<typeof liveOutput>;
