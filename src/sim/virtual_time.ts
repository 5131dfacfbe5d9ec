/**
 * Virtual true time: a discrete-event queue keyed by true time in bigint nanoseconds.
 * Events at the same instant run in the order they were scheduled. Nothing here reads a
 * real clock; time advances only when `runUntil` pops the next event.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";

/** A scheduled event (internal; exposed as an opaque id). */
interface SimEvent {
  at: Instant;
  seq: number;
  id: number;
  callback: () => void;
  cancelled: boolean;
}

/** A discrete-event scheduler in true time. */
export class VirtualTime {
  #now: Instant;
  #heap: SimEvent[] = [];
  #seq = 0;
  #pending = new Map<number, SimEvent>();
  #eventsRun = 0;

  /** Starts true time at `start` (nanoseconds since the Unix epoch). */
  constructor(start: Instant) {
    this.#now = start;
  }

  /** The current true time. */
  get now(): Instant {
    return this.#now;
  }

  /** Number of events run so far. */
  get eventsRun(): number {
    return this.#eventsRun;
  }

  /** Number of events still queued (cancelled ones excluded). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Schedules `callback` at true instant `at` (clamped to now); returns an event id. */
  scheduleAt(at: Instant, callback: () => void): number {
    const id = ++this.#seq;
    const ev: SimEvent = {
      at: at < this.#now ? this.#now : at,
      seq: id,
      id,
      callback,
      cancelled: false,
    };
    this.#pending.set(id, ev);
    this.#push(ev);
    return id;
  }

  /** Schedules `callback` after `delayNs` nanoseconds of true time. */
  scheduleIn(delayNs: bigint, callback: () => void): number {
    return this.scheduleAt(this.#now + (delayNs > 0n ? delayNs : 0n), callback);
  }

  /**
   * Schedules `fn(k, at)` for k = 1..count at `first + (k - 1) * interval`, one event at a
   * time (each tick schedules the next), so periodic bookkeeping runs in true-time order
   * with everything else and sees `now` equal to its own instant.
   */
  scheduleTicks(
    first: Instant,
    interval: bigint,
    count: number,
    fn: (k: number, at: Instant) => void,
  ): void {
    let k = 1;
    let at = first;
    const step = () => {
      fn(k, at);
      k++;
      at += interval;
      if (k <= count) this.scheduleAt(at, step);
    };
    if (count >= 1) this.scheduleAt(at, step);
  }

  /** Cancels an event; unknown or already-run ids are ignored. */
  cancel(id: number): void {
    const ev = this.#pending.get(id);
    if (ev) {
      ev.cancelled = true;
      this.#pending.delete(id);
    }
  }

  /**
   * Runs every event due at or before `end`, in order, then leaves the clock at `end`.
   * `beforeEvent(at)` (optional) is called with each event's time before time moves there,
   * so per-second bookkeeping can run in order.
   */
  runUntil(end: Instant, beforeEvent?: (at: Instant) => void): void {
    for (;;) {
      this.#dropCancelled();
      if (this.#heap.length === 0 || this.#heap[0].at > end) break;
      const ev = this.#pop();
      if (beforeEvent) beforeEvent(ev.at);
      this.#now = ev.at;
      this.#pending.delete(ev.id);
      this.#eventsRun++;
      ev.callback();
    }
    if (beforeEvent) beforeEvent(end);
    if (end > this.#now) this.#now = end;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
  }

  #less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(ev: SimEvent): void {
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): SimEvent {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
