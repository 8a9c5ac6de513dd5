// The flags ConfigMap read straight from the Kubernetes API, so a change reaches every replica as
// soon as the API server has it, instead of at the kubelet's next volume sync (a minute or more).
//
// client-node's ListWatch does the list-then-watch, re-lists on 410 Gone and reconnects a watch
// that timed out or that the server closed; on any other failure (API unreachable, 403, 5xx) it
// stops and reports an error. Then the feed is down (the mounted file is the source meanwhile) and
// a fresh ListWatch is started after a jittered, growing delay: a fresh one lists first, so nothing
// that changed while it was away is missed. The watch asks for one object by a field selector,
// which is what a Role restricted by resourceNames allows for list and watch.
import {
  CoreV1Api,
  KubeConfig,
  ListWatch,
  type V1ConfigMap,
  type V1ConfigMapList,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '../../domain/shared/ports.js';
import { silentLogger } from '../logging/silent-logger.js';
import { retryDelay } from '../resilience/backoff.js';
import type { FlagsFeed, FlagsFeedHandlers } from './feed.js';

export const FLAGS_KEY = 'flags.json';

export interface ConfigMapFeedOptions {
  namespace: string;
  name: string;
  // Credentials and server: KUBECONFIG, ~/.kube/config or the pod's ServiceAccount (in that order).
  kubeConfig?: KubeConfig;
  // Longest delay between restarts after a failure.
  maxRetryDelayMs?: number;
  log?: Logger;
}

export class ConfigMapFlagsFeed implements FlagsFeed {
  private readonly kc: KubeConfig;
  private readonly api: CoreV1Api;
  private readonly log: Logger;
  private current?: ListWatch<V1ConfigMap>;
  private handlers?: FlagsFeedHandlers;
  private retry?: NodeJS.Timeout;
  private attempts = 0;
  private stopped = true;
  private isLive = false;
  restarts = 0;

  constructor(private readonly o: ConfigMapFeedOptions) {
    this.log = o.log ?? silentLogger;
    this.kc = o.kubeConfig ?? defaultKubeConfig();
    this.api = this.kc.makeApiClient(CoreV1Api);
  }

  get description(): string {
    return `configmap ${this.o.namespace}/${this.o.name}`;
  }

  get live(): boolean {
    return this.isLive;
  }

  start(handlers: FlagsFeedHandlers): void {
    this.handlers = handlers;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.isLive = false;
    await this.current?.stop();
  }

  private connect(): void {
    if (this.stopped) return;
    const { namespace, name } = this.o;
    const list = async (): Promise<V1ConfigMapList> => {
      const result = await this.api.listNamespacedConfigMap({
        namespace,
        fieldSelector: `metadata.name=${name}`,
      });
      // The list is the state as of now, also when the ConfigMap does not exist (no event says so).
      if (!this.stopped && lw === this.current) {
        this.attempts = 0;
        this.setLive(true);
        this.handlers?.content(contentOf(result.items[0]));
      }
      return result;
    };
    const lw = new ListWatch<V1ConfigMap>(
      `/api/v1/namespaces/${namespace}/configmaps`,
      new Watch(this.kc),
      list,
      false,
      undefined,
      `metadata.name=${name}`,
    );
    this.current = lw;
    const deliver = (cm: V1ConfigMap | undefined) => {
      if (lw === this.current) this.handlers?.content(contentOf(cm));
    };
    lw.on('add', deliver);
    lw.on('update', deliver);
    lw.on('delete', () => deliver(undefined));
    lw.on('error', (err: unknown) => this.failed(lw, err));
    void lw.start();
  }

  private failed(lw: ListWatch<V1ConfigMap>, err: unknown): void {
    if (this.stopped || lw !== this.current) return;
    void lw.stop();
    this.setLive(false);
    this.attempts += 1;
    this.restarts += 1;
    const delayMs = retryDelay(this.attempts, this.o.maxRetryDelayMs ?? 10_000, 200);
    this.log.warn('flags ConfigMap watch failed; serving the mounted file until it is back', {
      configMap: `${this.o.namespace}/${this.o.name}`,
      error: describe(err),
      retryInMs: delayMs,
    });
    this.retry = setTimeout(() => this.connect(), delayMs);
    this.retry.unref();
  }

  private setLive(live: boolean): void {
    if (live === this.isLive) return;
    this.isLive = live;
    if (live)
      this.log.info('watching the flags ConfigMap', { configMap: `${this.o.namespace}/${this.o.name}` });
    this.handlers?.state(live);
  }
}

function contentOf(cm: V1ConfigMap | undefined): string | undefined {
  return cm?.data?.[FLAGS_KEY];
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: number | string }).code ?? (err as { statusCode?: number }).statusCode;
    return code === undefined ? err.message : `${err.message} (${code})`;
  }
  return String(err);
}
