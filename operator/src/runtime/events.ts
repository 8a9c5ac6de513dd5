// Kubernetes Events (core/v1) on the object a change or failure concerns. The same failure repeated by
// retries is recorded once per window instead of flooding the namespace.
import { RESOURCES, ref } from '../api/resources.js';
import type { KubeApi, KubeObject } from './kube.js';
import type { Logger } from './log.js';

interface Involved {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly client: KubeApi,
    private readonly log: Logger,
    private readonly component = 'expressapp-operator',
    private readonly dedupeWindowMs = 600_000,
  ) {}

  normal(obj: Involved, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: Involved, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  private record(obj: Involved, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const ns = obj.metadata.namespace ?? 'default';
    const dedupeKey = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = Date.now();
    const last = this.recent.get(dedupeKey);
    if (last !== undefined && now - last < this.dedupeWindowMs) return;
    this.recent.set(dedupeKey, now);
    if (this.recent.size > 5000) this.recent.clear();
    const ts = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${obj.metadata.name}.${now.toString(16)}${(this.seq++).toString(16)}`,
        namespace: ns,
      },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: ns,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    // Fire and forget: an Event that cannot be written (namespace terminating, say) must not fail a reconcile.
    this.client
      .create(ref(RESOURCES.events, ns), event)
      .catch((err: unknown) => this.log.debug('event not recorded', { reason, err }));
  }
}
