// A list-watch cache over client-node's Watch that does not die quietly. client-node's own ListWatch
// stops for good on any watch error other than 410, never notices a watch that stays open without
// events, and calls handlers without awaiting them. Here:
// - bookmarks are requested, and a watch with no event or bookmark for `quietMs` is restarted from the
//   last resourceVersion;
// - a watch that fails (not 410) is restarted after a jittered, growing delay, for as long as it runs;
// - 410 Gone (HTTP status or ERROR event) re-lists and emits a delete for every object that vanished
//   while the watch was away;
// - handlers are synchronous: they are meant to enqueue keys, and an exception in one is contained.
import { Watch } from '@kubernetes/client-node';
import { JitteredBackoff } from './backoff.js';
import type { KubeClient, KubeObject } from './kube.js';

export type RestartReason = 'quiet' | 'error' | 'expired' | 'closed';

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T, old: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions<T extends KubeObject> {
  /** Name in metrics and logs, e.g. "deployments". */
  name: string;
  /** Collection path, e.g. /apis/apps/v1/deployments or a namespaced one. */
  path: string;
  labelSelector?: string | undefined;
  /** Restart a watch that delivered nothing (not even a bookmark) for this long. */
  quietMs?: number;
  /** Delay between restarts after a failure. */
  backoff?: JitteredBackoff;
  /** Reduce an object before it is cached (drop Secret values, say). */
  transform?: (obj: KubeObject) => T;
  onRestart?: (reason: RestartReason, err?: unknown) => void;
  onError?: (err: unknown) => void;
}

type WatchOutcome = { reason: RestartReason; err?: unknown };

export const objectKey = (o: { metadata: { namespace?: string | undefined; name: string } }): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private stopped = true;
  private cancelWatch: (() => void) | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private sleepTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private readonly backoff: JitteredBackoff;
  private readonly quietMs: number;
  private readonly transform: (obj: KubeObject) => T;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: InformerOptions<T>,
  ) {
    this.backoff = opts.backoff ?? new JitteredBackoff(500, 30_000);
    // The apiserver sends a bookmark about once a minute to a watch that asks for them, so a watch
    // silent for longer than that is dead even if its socket is not.
    this.quietMs = opts.quietMs ?? 90_000;
    this.transform = opts.transform ?? ((o) => o as T);
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Starts the list-watch loop; resolves once the first list has filled the cache. */
  start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    this.loop = this.run();
    return this.waitForSync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelWatch?.();
    if (this.sleepTimer) {
      clearTimeout(this.sleepTimer.timer);
      this.sleepTimer.resolve();
    }
    await this.loop;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.resourceVersion) {
        try {
          await this.relist();
        } catch (err) {
          this.opts.onError?.(err);
          await this.sleep(this.backoff.next());
          continue;
        }
      }
      if (this.stopped) break;
      const started = Date.now();
      const outcome = await this.watchOnce();
      if (this.stopped) break;
      // A server that ends every watch at once would otherwise make this a tight loop.
      if (outcome.reason === 'closed' && Date.now() - started < 1000) await this.sleep(this.backoff.next());
      this.opts.onRestart?.(outcome.reason, outcome.err);
      if (outcome.reason === 'expired') {
        this.resourceVersion = '';
      } else if (outcome.reason === 'error') {
        this.opts.onError?.(outcome.err);
        await this.sleep(this.backoff.next());
      }
      // 'quiet' and 'closed' (the server ended the watch at its timeout) resume at once.
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<KubeObject>(this.opts.path, this.opts.labelSelector);
    const seen = new Set<string>();
    for (const raw of list.items) {
      const obj = this.transform(raw);
      const key = objectKey(obj);
      seen.add(key);
      this.upsert(key, obj);
    }
    // Objects deleted while no watch was running are only noticed here.
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit((h) => h.delete?.(old));
      }
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.backoff.reset();
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    this.store.set(key, obj);
    if (!old) this.emit((h) => h.add?.(obj));
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
      this.emit((h) => h.update?.(obj, old));
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let expired = false;
      let errorEvent: unknown;
      let quiet: NodeJS.Timeout | undefined;
      let controller: AbortController | undefined;
      const finish = (o: WatchOutcome) => {
        if (settled) return;
        settled = true;
        this.cancelWatch = undefined;
        if (quiet) clearTimeout(quiet);
        controller?.abort();
        resolve(o);
      };
      this.cancelWatch = () => finish({ reason: 'closed' });
      const armQuietTimer = () => {
        if (quiet) clearTimeout(quiet);
        quiet = setTimeout(() => finish({ reason: 'quiet' }), this.quietMs);
        quiet.unref();
      };
      const watch = new Watch(this.client.config);
      // client-node 2.0.1 aborts a watch after 30 s without data (a private field, no option); that is
      // shorter than the bookmark interval, so it is raised above our own quiet threshold, which is
      // the one place that decides when a silent watch is dead.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.quietMs + 10_000;
      armQuietTimer();
      watch
        .watch(
          this.opts.path,
          {
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            labelSelector: this.opts.labelSelector,
            // The server closes the watch after a spread-out time, as client-go's reflector asks.
            timeoutSeconds: 300 + Math.floor(Math.random() * 300),
          },
          (type: string, raw: KubeObject & { code?: number }) => {
            armQuietTimer();
            if (type === 'ERROR') {
              if (raw.code === 410) expired = true;
              else errorEvent = new Error(`watch ${this.opts.name}: ${JSON.stringify(raw)}`);
              return;
            }
            const rv = raw.metadata?.resourceVersion;
            if (type !== 'BOOKMARK') {
              const obj = this.transform(raw);
              const key = objectKey(obj);
              if (type === 'DELETED') {
                const old = this.store.get(key);
                this.store.delete(key);
                this.emit((h) => h.delete?.(old ?? obj));
              } else {
                this.upsert(key, obj);
              }
              this.backoff.reset();
            }
            if (rv) this.resourceVersion = rv;
          },
          (err: unknown) => {
            const status = (err as { statusCode?: number } | null)?.statusCode;
            if (expired || status === 410) finish({ reason: 'expired' });
            else if (errorEvent) finish({ reason: 'error', err: errorEvent });
            else if (err && (err as { name?: string }).name !== 'AbortError')
              finish({ reason: 'error', err });
            else finish({ reason: 'closed' });
          },
        )
        .then((c) => {
          controller = c;
          if (settled) c.abort();
        })
        .catch((err: unknown) => finish({ reason: 'error', err }));
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
      this.sleepTimer = { timer, resolve };
    });
  }
}
