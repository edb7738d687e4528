// Where a run's time went, per node: when each phase (connect, preflight, upload, start, alive, ...)
// began and ended, in ms from the start of the run. Recorded as the run goes; renderers draw it.
import type { NodePhase, NodeTimeline } from '../types';

export class TimelineRecorder {
  private readonly rows = new Map<string, NodeTimeline>();

  constructor(readonly origin = Date.now()) {}

  /** Records that `node` spent [t0, t1] (epoch ms) in `phase`. */
  span(node: string, phase: NodePhase, t0: number, t1 = Date.now()): void {
    this.row(node).spans.push({ phase, startMs: Math.max(0, t0 - this.origin), endMs: Math.max(0, t1 - this.origin) });
  }

  /** Runs `work` as one span of `node` in `phase` (also when it throws). */
  async time<T>(node: string, phase: NodePhase, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      this.span(node, phase, t0);
    }
  }

  /** `ray start` itself ran `ms` on `node` (inside its `start` span; a restart's second start adds up). */
  rayStart(node: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const row = this.row(node);
    row.rayStartMs = (row.rayStartMs ?? 0) + ms;
  }

  /** `node` was first seen alive at `t`: its `alive` span runs from the end of its last span. */
  alive(node: string, t = Date.now()): void {
    const last = this.rows.get(node)?.spans.reduce((m, s) => Math.max(m, s.endMs), 0) ?? t - this.origin;
    this.span(node, 'alive', this.origin + last, t);
  }

  private row(node: string): NodeTimeline {
    let row = this.rows.get(node);
    if (!row) {
      row = { node, spans: [] };
      this.rows.set(node, row);
    }
    return row;
  }

  /** Rows in the order of `order` (the config's nodes); nodes never seen are left out. */
  result(order: string[]): NodeTimeline[] {
    return order.map((n) => this.rows.get(n)).filter((r): r is NodeTimeline => !!r);
  }
}
