// The users' domain events as subscribers see them, and the port of the ordered feed they come
// from. The feed (Redis stream or outbox table, see infrastructure/events) gives every event a
// cursor; a subscription resumed after a cursor gets exactly the events after it, in order.
export interface FeedEvent {
  // Position in the feed: the Redis stream id, or the outbox row's sequence number.
  cursor: string;
  // The event's own id (the outbox row's), the same on every replica and in every feed.
  id: string;
  type: string;
  payload: unknown;
  occurredAt: string;
}

export interface FeedSubscription {
  close(): void;
}

export interface FeedSink {
  event(e: FeedEvent): void;
  backlogged?(): Promise<void> | undefined;
}

export interface EventFeed {
  // Whether a string a client sent back (Last-Event-ID, a subscription's cursor) is a cursor of
  // this feed.
  isCursor(value: string): boolean;
  // Delivers, in order and once each, every event after `after` (after the feed's current end
  // when undefined) until closed. A subscriber that cannot keep up is the transport's to end:
  // only it knows how much output is waiting for its client.
  // While it reads back the feed after `after`, the feed waits on `backlogged()` whenever it
  // answers a promise (the client has not taken what it was sent yet), so a resume with a long
  // backlog goes at the client's pace instead of piling the backlog up in memory.
  subscribe(after: string | undefined, sink: FeedSink): Promise<FeedSubscription>;
}

// The user an event of the users stream is about (payload.id).
export function subjectOf(event: FeedEvent): string | undefined {
  const payload = event.payload as { id?: unknown } | null;
  return typeof payload?.id === 'string' ? payload.id : undefined;
}
