// Subscriptions to the users' domain events, for every transport (SSE, GraphQL subscriptions):
// who may see which event (RBAC), and keeping a long-lived subscription as authorised as a
// request would be. A request is authenticated once; a subscription lives on, so its token is
// checked again every `recheckMs`, at once when an event concerns the subscriber's own account
// (a disable, a role change, a delete), and it ends when the token expires.
import type { AuthService, Principal } from '../auth/auth.service.js';
import { can, requirePermission } from '../rbac/permissions.js';
import { DomainError } from '../shared/errors.js';
import type { Logger } from '../shared/ports.js';
import { type EventFeed, type FeedEvent, type FeedSubscription, subjectOf } from './events.js';

// Why the domain ended a subscription (a transport adds its own reasons: a slow client, shutdown).
export type EndReason = 'unauthorized';

export interface EventSink {
  event(e: FeedEvent): void;
  // See FeedSink: a promise while the client has not taken what it was sent.
  backlogged?(): Promise<void> | undefined;
  // Called once; the subscription is already closed.
  ended(reason: EndReason, detail: string): void;
}

export interface EventSubscription {
  readonly principal: Principal;
  close(): void;
}

export interface EventsOptions {
  recheckMs: number;
}

export class EventsService {
  constructor(
    private readonly feed: EventFeed,
    private readonly auth: AuthService,
    private readonly options: EventsOptions,
    private readonly log: Logger,
  ) {}

  isCursor(value: string): boolean {
    return this.feed.isCursor(value);
  }

  // Throws UnauthorizedError for a token a request would be refused with.
  async subscribe(
    accessToken: string,
    after: string | undefined,
    sink: EventSink,
  ): Promise<EventSubscription> {
    let principal = await this.auth.authenticate(accessToken);
    requirePermission(principal, 'users:events:own');
    let open = true;
    // Set once the feed has caught up; close() may run before (an end during the catch-up).
    const held: { feed?: FeedSubscription } = {};
    const timers: NodeJS.Timeout[] = [];
    const close = () => {
      if (!open) return;
      open = false;
      for (const t of timers) clearTimeout(t);
      held.feed?.close();
    };
    const end = (reason: EndReason, detail: string) => {
      if (!open) return;
      close();
      sink.ended(reason, detail);
    };
    let checking: Promise<void> | undefined;
    const recheck = () => {
      checking ??= this.auth
        .authenticate(accessToken)
        .then((p) => {
          // A role that changed without ending the session (never today) would change what is seen.
          principal = p;
        })
        .catch((err: unknown) => {
          if (err instanceof DomainError && err.kind === 'unauthorized') end('unauthorized', err.message);
          // The database or Redis being unreachable is no reason to drop subscribers: a request
          // would get a 503, not a 401. The next check decides.
          else this.log.warn('event subscription: credentials could not be checked', { error: String(err) });
        })
        .finally(() => (checking = undefined));
    };
    const feed = await this.feed.subscribe(after, {
      event: (e) => {
        if (!open) return;
        const subject = subjectOf(e);
        if (can(principal, 'users:events:any') || subject === principal.id) sink.event(e);
        if (subject === principal.id) recheck();
      },
      backlogged: () => sink.backlogged?.(),
    });
    held.feed = feed;
    if (!open) feed.close();
    const interval = setInterval(recheck, this.options.recheckMs);
    interval.unref();
    timers.push(interval);
    const expiry = setTimeout(
      () => end('unauthorized', 'the access token has expired'),
      // setTimeout's longest delay is 2^31-1 ms; a longer-lived token is rechecked meanwhile anyway.
      Math.min(2 ** 31 - 1, Math.max(0, principal.expiresAt.getTime() - Date.now())),
    );
    expiry.unref();
    timers.push(expiry);
    return {
      get principal() {
        return principal;
      },
      close,
    };
  }
}
