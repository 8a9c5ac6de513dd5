// Wires the ExpressApp controller: informers on ExpressApps, target Deployments, referenced Secrets and
// owned HPAs/ConfigMaps, whose handlers only map the object to ExpressApp keys and enqueue them.
import { createHash } from 'node:crypto';
import type { ExpressApp } from '../../api/v1alpha1/types.js';
import { GROUP, KIND, PLURAL, VERSION } from '../../api/v1alpha1/types.js';
import { Informer, objectKey, type RestartReason } from '../../runtime/informer.js';
import { FIELD_MANAGER, type KubeClient, type KubeObject } from '../../runtime/kube.js';
import type { WorkQueue } from '../../runtime/workqueue.js';
import { OWNED_SELECTOR, targetName } from './desired.js';
import type { DeploymentLike } from './live.js';
import type { Caches, SecretSummary } from './reconciler.js';

export interface CacheOptions {
  namespace: string;
  quietMs: number;
  onRestart: (resource: string, reason: RestartReason, err?: unknown) => void;
  onError: (resource: string, err: unknown) => void;
}

function collection(group: string, version: string, plural: string, namespace: string): string {
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
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
    name: string,
    path: string,
    extra: { labelSelector?: string; transform?: (x: KubeObject) => T } = {},
  ) =>
    new Informer<T>(client, {
      name,
      path,
      quietMs: o.quietMs,
      labelSelector: extra.labelSelector,
      ...(extra.transform ? { transform: extra.transform } : {}),
      onRestart: (reason, err) => o.onRestart(name, reason, err),
      onError: (err) => o.onError(name, err),
    });
  return {
    apps: mk<ExpressApp & KubeObject>('expressapps', collection(GROUP, VERSION, PLURAL, o.namespace)),
    deployments: mk<DeploymentLike>('deployments', collection('apps', 'v1', 'deployments', o.namespace), {
      transform: slimDeployment,
    }),
    secrets: mk<SecretSummary>('secrets', collection('', 'v1', 'secrets', o.namespace), {
      transform: summarizeSecret,
    }),
    hpas: mk<KubeObject>(
      'horizontalpodautoscalers',
      collection('autoscaling', 'v2', 'horizontalpodautoscalers', o.namespace),
      { labelSelector: OWNED_SELECTOR },
    ),
    configMaps: mk<KubeObject>('configmaps', collection('', 'v1', 'configmaps', o.namespace), {
      labelSelector: OWNED_SELECTOR,
    }),
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
  await Promise.all(Object.values(caches).map((c: Informer<KubeObject>) => c.stop()));
}
