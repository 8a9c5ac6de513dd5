// One cache over several namespaces: an informer per watched namespace (or one cluster-wide informer
// when none is listed), read and started as one. With WATCH_NAMESPACES the operator then needs only
// Roles in those namespaces instead of cluster-wide list and watch of every Secret and Deployment.
import { Informer, type InformerHandlers, type InformerOptions } from './informer.js';
import type { KubeClient, KubeObject } from './kube.js';

export class NamespacedCache<T extends KubeObject> {
  private readonly informers = new Map<string, Informer<T>>();

  /** `pathOf('')` is the cluster-wide collection, `pathOf(ns)` the one of a namespace. */
  constructor(
    client: KubeClient,
    namespaces: readonly string[],
    pathOf: (namespace: string) => string,
    opts: Omit<InformerOptions<T>, 'path'>,
  ) {
    for (const ns of namespaces.length > 0 ? namespaces : ['']) {
      this.informers.set(ns, new Informer<T>(client, { ...opts, path: pathOf(ns) }));
    }
  }

  private informerFor(namespace: string | undefined): Informer<T> | undefined {
    return this.informers.get('') ?? this.informers.get(namespace ?? '');
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.informerFor(namespace)?.get(namespace, name);
  }

  list(): T[] {
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  addHandlers(h: InformerHandlers<T>): void {
    for (const i of this.informers.values()) i.addHandlers(h);
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
