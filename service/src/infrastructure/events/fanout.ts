// One reader of an ordered event log per process, fanned out to every subscriber of the process,
// so a thousand subscribers cost one Redis connection (or one outbox query per wake-up), not a
// thousand. A subscriber that resumes after a cursor first reads the log from there (catch-up),
// while the live events the reader dispatches meanwhile wait in its bounded buffer; then it turns
// live. Registration comes before the first catch-up read and every delivery moves the
// subscriber's cursor forward only, so nothing is missed and nothing delivered twice. A buffer
// that fills during a long catch-up is dropped and read again from the log, which holds it all.
import type { EventFeed, FeedEvent, FeedSink, FeedSubscription } from '../../domain/events/events.js';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';

export interface EventLog {
  isCursor(value: string): boolean;
  compare(a: string, b: string): number;
  // The cursor of the last event now in the log (a cursor before every event when empty).
  tail(): Promise<string>;
  // Up to `limit` events after the cursor, oldest first, without waiting.
  after(cursor: string, limit: number): Promise<FeedEvent[]>;
  // The same, waiting up to waitMs for the first one (the reader's loop; one caller at a time).
  next(cursor: string, limit: number, waitMs: number, signal: AbortSignal): Promise<FeedEvent[]>;
}

export interface FanoutOptions {
  batchSize?: number;
  waitMs?: number;
  // Live events held per subscriber while it catches up.
  maxBuffered?: number;
  log?: Logger;
}

interface Subscriber {
  last: string;
  live: boolean;
  buffer: FeedEvent[];
  overflowed: boolean;
  closed: boolean;
  sink: FeedSink;
}

export class LogFanout implements EventFeed {
  private readonly subscribers = new Set<Subscriber>();
  private position?: string;
  private loop?: Promise<void>;
  private locating?: Promise<void>;
  private readonly abort = new AbortController();
  private wake?: () => void;
  private readonly batch: number;
  private readonly log: Logger;

  constructor(
    private readonly source: EventLog,
    private readonly o: FanoutOptions = {},
  ) {
    this.batch = o.batchSize ?? 500;
    this.log = o.log ?? silentLogger;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  isCursor(value: string): boolean {
    return this.source.isCursor(value);
  }

  // Starts the reader; it learns where the log ends first (retrying while the log is unreachable).
  start(): void {
    this.loop ??= this.run();
  }

  // Subscribers wait for it: a subscriber that turned live before the reader knew where to start
  // could miss the events in between.
  private knowPosition(): Promise<void> {
    if (this.position !== undefined) return Promise.resolve();
    this.locating ??= this.source
      .tail()
      .then((tail) => {
        this.position ??= tail;
      })
      .finally(() => (this.locating = undefined));
    return this.locating;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop;
    for (const s of this.subscribers) s.closed = true;
    this.subscribers.clear();
  }

  async subscribe(after: string | undefined, sink: FeedSink): Promise<FeedSubscription> {
    this.start();
    await this.knowPosition();
    const sub: Subscriber = {
      last: after ?? (await this.source.tail()),
      live: false,
      buffer: [],
      overflowed: false,
      closed: false,
      sink,
    };
    this.subscribers.add(sub);
    this.wake?.();
    const close = () => {
      sub.closed = true;
      this.subscribers.delete(sub);
    };
    try {
      await this.catchUp(sub);
    } catch (err) {
      close();
      throw err;
    }
    return { close };
  }

  private async catchUp(sub: Subscriber): Promise<void> {
    for (;;) {
      for (;;) {
        const events = await this.source.after(sub.last, this.batch);
        if (sub.closed) return;
        for (const e of events) {
          this.deliver(sub, e);
          const backlog = sub.sink.backlogged?.();
          if (backlog) await backlog;
          if (sub.closed) return;
        }
        if (events.length < this.batch) break;
      }
      if (sub.overflowed) {
        sub.overflowed = false;
        continue;
      }
      // Synchronous from here: nothing can be dispatched between the flush and turning live.
      for (const e of sub.buffer) if (this.source.compare(e.cursor, sub.last) > 0) this.deliver(sub, e);
      sub.buffer = [];
      sub.live = true;
      return;
    }
  }

  private offer(sub: Subscriber, e: FeedEvent): void {
    if (sub.closed) return;
    if (sub.live) {
      if (this.source.compare(e.cursor, sub.last) > 0) this.deliver(sub, e);
    } else if (sub.buffer.length >= (this.o.maxBuffered ?? 10_000)) {
      sub.overflowed = true;
      sub.buffer = [];
    } else {
      sub.buffer.push(e);
    }
  }

  private deliver(sub: Subscriber, e: FeedEvent): void {
    sub.last = e.cursor;
    try {
      sub.sink.event(e);
    } catch (err) {
      this.log.error('event subscriber failed on an event', { error: String(err) });
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let backoffMs = 0;
    while (!signal.aborted) {
      if (this.subscribers.size === 0) {
        // Idle: nobody to deliver to. The position stays where it was; reading on from there
        // later is harmless, as every subscriber skips what is not after its own cursor.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        continue;
      }
      try {
        await this.knowPosition();
        const events = await this.source.next(this.position!, this.batch, this.o.waitMs ?? 2000, signal);
        backoffMs = 0;
        for (const e of events) {
          this.position = e.cursor;
          for (const s of this.subscribers) this.offer(s, e);
        }
      } catch (err) {
        if (signal.aborted) break;
        backoffMs = Math.min(Math.max(100, backoffMs * 2), 5000);
        this.log.warn('event feed: reading the log failed; retrying', {
          error: (err as Error).message,
          retryInMs: backoffMs,
        });
        await new Promise((r) => setTimeout(r, backoffMs).unref());
      }
    }
  }
}
