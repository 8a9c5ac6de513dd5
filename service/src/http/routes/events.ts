// GET /api/v1/events: the users' domain events a caller may see, as Server-Sent Events. Each
// event carries its feed cursor as the SSE id, so a client that reconnects with Last-Event-ID
// (EventSource does by itself) gets exactly what it missed. The stream ends itself, with a last
// `close` event naming the reason, when the token stops being valid, when the client lets too
// much output pile up unread, and at shutdown (then with a retry hint).
import { Router, type Request } from 'express';
import type { EventSubscription, EventsService } from '../../domain/events/events.service.js';
import type { FeedEvent } from '../../domain/events/events.js';
import { UnauthorizedError } from '../../domain/shared/errors.js';
import type { Logger } from '../../domain/shared/ports.js';
import type { Lifecycle } from '../../runtime/lifecycle.js';
import { bearerToken } from '../middleware/authenticate.js';
import { HttpProblem } from '../problem.js';

export interface EventStreamOptions {
  heartbeatMs: number;
  maxBufferBytes: number;
  retryMs: number;
}

export type CloseReason = 'unauthorized' | 'slow-consumer' | 'shutdown' | 'error';

function lastEventId(req: Request, events: EventsService): string | undefined {
  const value = req.get('last-event-id')?.trim();
  if (value === undefined || value === '') return undefined;
  if (!events.isCursor(value)) {
    throw new HttpProblem('validation-error', 'Last-Event-ID is not an id this stream sent');
  }
  return value;
}

function frame(e: FeedEvent): string {
  const data = JSON.stringify({ id: e.id, type: e.type, payload: e.payload, occurredAt: e.occurredAt });
  return `id: ${e.cursor}\nevent: ${e.type}\ndata: ${data}\n\n`;
}

export function eventRoutes(
  events: EventsService,
  lifecycle: Lifecycle,
  o: EventStreamOptions,
  log: Logger,
): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const after = lastEventId(req, events);
    // The authenticate middleware has accepted it.
    const token = bearerToken(req)!;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    // no-transform and X-Accel-Buffering: proxies must pass each event on at once, not buffer it.
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${o.retryMs}\n: connected\n\n`);

    let subscription: EventSubscription | undefined;
    let ended = false;
    const write = (chunk: string) => {
      if (ended) return;
      // What the client has not read yet stays in this process: past the bound it goes.
      if (res.writableLength > o.maxBufferBytes) {
        end('slow-consumer', `more than ${o.maxBufferBytes} bytes were waiting for the client to read`);
        return;
      }
      res.write(chunk);
    };
    const end = (reason: CloseReason, detail: string, retryMs?: number) => {
      if (ended) return;
      ended = true;
      cleanup();
      const retry = retryMs !== undefined ? `retry: ${retryMs}\n` : '';
      res.end(`${retry}event: close\ndata: ${JSON.stringify({ reason, detail })}\n\n`);
      if (reason !== 'shutdown') log.info('event stream closed by the service', { reason, detail });
      // A client that reads nothing would never take the last bytes: do not wait for it.
      if (reason === 'slow-consumer') setTimeout(() => res.destroy(), 1000).unref();
    };
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), o.heartbeatMs);
    heartbeat.unref();
    // Spread the reconnections of many clients over a second, so they do not all arrive at once.
    const offClosing = lifecycle.onClosing(() =>
      end(
        'shutdown',
        'the service is shutting down; reconnect',
        o.retryMs + Math.floor(Math.random() * 1000),
      ),
    );
    const cleanup = () => {
      clearInterval(heartbeat);
      offClosing();
      subscription?.close();
    };
    res.on('close', () => {
      ended = true;
      cleanup();
    });

    try {
      subscription = await events.subscribe(token, after, {
        event: (e) => write(frame(e)),
        // A resume reads its backlog at the client's pace: Node says when the socket has drained.
        backlogged: () =>
          res.writableNeedDrain && !ended
            ? new Promise<void>((resolve) => {
                const done = () => {
                  res.off('drain', done);
                  res.off('close', done);
                  resolve();
                };
                res.on('drain', done);
                res.on('close', done);
              })
            : undefined,
        ended: (reason, detail) => end(reason, detail),
      });
      if (ended) subscription.close();
    } catch (err) {
      // The headers are sent: the failure can only be told in the stream.
      if (err instanceof UnauthorizedError) return end('unauthorized', err.message);
      log.warn('event stream could not start', { error: String(err) });
      end('error', 'the event feed is not reachable; reconnect later', o.retryMs);
    }
  });

  return router;
}
