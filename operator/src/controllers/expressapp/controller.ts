// Wires the ExpressApp controller: informers on ExpressApps, target Deployments, referenced Secrets and
// owned HPAs/ConfigMaps, whose handlers only map the object to ExpressApp keys and enqueue them.
import { createHash } from 'node:crypto';
import { RESOURCES, ref } from '../../api/resources.js';
import { KIND, type ExpressApp } from '../../api/v1alpha1/types.js';
import { objectKey, type RestartReason } from '../../runtime/informer.js';
import { NamespacedCache } from '../../runtime/namespaced-cache.js';
import {
  FIELD_MANAGER,
  resourcePath,
  type GroupVersionResource,
  type KubeClient,
  type KubeObject,
} from '../../runtime/kube.js';
import type { WorkQueue } from '../../runtime/workqueue.js';
import { OWNED_SELECTOR, targetName } from './desired.js';
import type { DeploymentLike } from './live.js';

/** A Secret as cached: metadata and a hash per key, never the values. */
export interface SecretSummary extends KubeObject {
  valueHashes: Record<string, string>;
}

export interface Caches {
  apps: NamespacedCache<ExpressApp & KubeObject>;
  deployments: NamespacedCache<DeploymentLike>;
  secrets: NamespacedCache<SecretSummary>;
  hpas: NamespacedCache<KubeObject>;
  configMaps: NamespacedCache<KubeObject>;
}

/** What the reconciler reads from the caches: single objects by namespace and name. */
export type CacheReaders = { [K in keyof Caches]: Pick<Caches[K], 'get'> };

export interface CacheOptions {
  /** The watched namespaces; empty: every namespace. */
  namespaces: readonly string[];
  quietMs: number;
  onRestart: (resource: string, reason: RestartReason, err?: unknown) => void;
  onError: (resource: string, err: unknown) => void;
}

/** Secret values never enter the cache: only a hash per key, enough to roll pods when one changes. */
export function summarizeSecret(o: KubeObject): SecretSummary {
  const data = (o.data as Record<string, string> | undefined) ?? {};
  const valueHashes: Record<string, string> = {};
  for (const [k, v] of Object.entries(data))
    valueHashes[k] = createHash('sha256').update(v).digest('hex').slice(0, 16);
  const { name, namespace, uid, resourceVersion } = o.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, uid, resourceVersion },
    valueHashes,
  };
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Deployments are cached without what the reconcile never reads: other managers' managedFields and
 * kubectl's last-applied copy, often larger than the rest of the object.
 */
export function slimDeployment(o: KubeObject): DeploymentLike {
  const { managedFields, annotations, ...meta } = o.metadata;
  const kept = annotations
    ? Object.fromEntries(Object.entries(annotations).filter(([k]) => k !== LAST_APPLIED))
    : undefined;
  return {
    ...o,
    metadata: {
      ...meta,
      ...(kept ? { annotations: kept } : {}),
      managedFields: (managedFields ?? []).filter((m) => m.manager === FIELD_MANAGER),
    },
  } as DeploymentLike;
}

export function makeCaches(client: KubeClient, o: CacheOptions): Caches {
  const mk = <T extends KubeObject>(
    gvr: GroupVersionResource,
    extra: { labelSelector?: string; transform?: (x: KubeObject) => T } = {},
  ) =>
    new NamespacedCache<T>(client, o.namespaces, (ns) => resourcePath(ref(gvr, ns || undefined)), {
      name: gvr.plural,
      quietMs: o.quietMs,
      labelSelector: extra.labelSelector,
      ...(extra.transform ? { transform: extra.transform } : {}),
      onRestart: (reason, err) => o.onRestart(gvr.plural, reason, err),
      onError: (err) => o.onError(gvr.plural, err),
    });
  return {
    apps: mk<ExpressApp & KubeObject>(RESOURCES.expressApps),
    deployments: mk<DeploymentLike>(RESOURCES.deployments, { transform: slimDeployment }),
    secrets: mk<SecretSummary>(RESOURCES.secrets, { transform: summarizeSecret }),
    hpas: mk<KubeObject>(RESOURCES.horizontalPodAutoscalers, { labelSelector: OWNED_SELECTOR }),
    configMaps: mk<KubeObject>(RESOURCES.configMaps, { labelSelector: OWNED_SELECTOR }),
  };
}

/** Registers handlers that map every watched object back to the ExpressApps governing it. */
export function registerHandlers(caches: Caches, queue: WorkQueue): void {
  const enqueue = (keys: string[]) => keys.forEach((k) => queue.add(k));
  const appsInNamespace = (ns: string | undefined) =>
    caches.apps.list().filter((a) => a.metadata.namespace === ns);

  const forApp = (a: ExpressApp & KubeObject) => enqueue([objectKey(a)]);
  caches.apps.addHandlers({
    add: forApp,
    // Status-only changes (our own writes) bump resourceVersion but not generation: no reconcile needed
    // for them, except while deleting (finalizers) or when metadata the reconcile reads changed.
    update: (a, old) => {
      if (
        a.metadata.generation !== old.metadata.generation ||
        a.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
        JSON.stringify(a.metadata.finalizers) !== JSON.stringify(old.metadata.finalizers) ||
        a.metadata.uid !== old.metadata.uid
      ) {
        forApp(a);
      }
    },
    delete: forApp,
  });

  const byTarget = (d: KubeObject) =>
    enqueue(
      appsInNamespace(d.metadata.namespace)
        .filter((a) => targetName(a) === d.metadata.name)
        .map(objectKey),
    );
  caches.deployments.addHandlers({ add: byTarget, update: byTarget, delete: byTarget });

  const bySecret = (s: KubeObject) =>
    enqueue(
      appsInNamespace(s.metadata.namespace)
        .filter((a) => a.spec?.redis?.passwordSecretRef?.name === s.metadata.name)
        .map(objectKey),
    );
  caches.secrets.addHandlers({ add: bySecret, update: bySecret, delete: bySecret });

  const byOwner = (o: KubeObject) =>
    enqueue(
      (o.metadata.ownerReferences ?? [])
        .filter((r) => r.kind === KIND && r.controller)
        .map((r) => `${o.metadata.namespace}/${r.name}`),
    );
  for (const c of [caches.hpas, caches.configMaps])
    c.addHandlers({ add: byOwner, update: byOwner, delete: byOwner });
}

export async function startCaches(caches: Caches): Promise<void> {
  // Dependents first, so the first reconcile of each ExpressApp sees its Deployment and Secret.
  await Promise.all([
    caches.deployments.start(),
    caches.secrets.start(),
    caches.hpas.start(),
    caches.configMaps.start(),
  ]);
  await caches.apps.start();
}

export async function stopCaches(caches: Caches): Promise<void> {
  await Promise.all(Object.values(caches).map((c: NamespacedCache<KubeObject>) => c.stop()));
}
