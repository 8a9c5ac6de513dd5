// Fire-and-forget broadcasts to every replica (cache invalidation, flag reload) over Redis pub/sub,
// or an in-process emitter when there is no Redis. Delivery is at-most-once: a replica that is
// disconnected misses messages, so every user of this also has a time bound (TTL, file watch).
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';

export type BroadcastHandler = (message: string) => void;

export interface Broadcaster {
  readonly kind: 'redis' | 'in-process';
  publish(channel: string, message: string): Promise<void>;
  // Resolves once the subscription is active; the returned function unsubscribes.
  subscribe(channel: string, handler: BroadcastHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export class LocalBroadcaster implements Broadcaster {
  readonly kind = 'in-process' as const;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: string): Promise<void> {
    // Asynchronous like the network, so publishers never run subscribers inside their own call.
    queueMicrotask(() => this.emitter.emit(channel, message));
  }

  async subscribe(channel: string, handler: BroadcastHandler): Promise<() => Promise<void>> {
    this.emitter.on(channel, handler);
    return async () => void this.emitter.off(channel, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

// publisher: any connection; subscriber: a connection of its own (a subscribed connection can run
// no other commands). ioredis re-subscribes by itself after a reconnect.
export class RedisBroadcaster implements Broadcaster {
  readonly kind = 'redis' as const;
  private readonly handlers = new Map<string, Set<BroadcastHandler>>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly log: Logger = silentLogger,
  ) {
    // SUBSCRIBE again after every (re)connect, also for channels asked for while Redis was down.
    subscriber.on('ready', () => {
      for (const channel of this.handlers.keys()) this.subscriber.subscribe(channel).catch(() => undefined);
    });
    subscriber.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch (err) {
          this.log.error('broadcast handler failed', { channel, error: (err as Error).message });
        }
      }
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, message);
  }

  async subscribe(channel: string, handler: BroadcastHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      // A connection that is up or coming up is waited for, so a publish right after this resolves
      // is received. While Redis is down the 'ready' handler above subscribes later instead.
      if (['ready', 'connect', 'connecting', 'wait'].includes(this.subscriber.status)) {
        await this.subscriber.subscribe(channel).catch(() => undefined);
      }
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscriber.disconnect();
  }
}
