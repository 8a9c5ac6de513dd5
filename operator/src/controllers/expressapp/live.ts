// Live state against desired state: for the target Deployment, its values and the managedFields entry
// of the operator's apply; for the HPA and the flags ConfigMap, their values and owner reference.
// Enough to decide without writing whether an apply would change anything. Ownership matters as well
// as values: a field the operator owns but no longer wants must be released by an apply, even when its
// value happens to be right.
import { API_VERSION, KIND, type ExpressApp } from '../../api/v1alpha1/types.js';
import { FIELD_MANAGER, type KubeObject, type ManagedFieldsEntry } from '../../runtime/kube.js';
import {
  APP_CONTAINER,
  FLAGS_KEY,
  REDIS_HASH_ANNOTATION,
  REDIS_ENV_NAMES,
  type DesiredDeployment,
  type EnvVar,
  type RedisPart,
} from './desired.js';

export interface DeploymentLike extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: { name: string; env?: EnvVar[] }[] };
    };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
  };
}

export interface Ownership {
  replicas: boolean;
  annotation: boolean;
  env: Set<string>;
}

type Fields = Record<string, unknown>;
const child = (f: Fields | undefined, key: string): Fields | undefined => f?.[key] as Fields | undefined;

export function applyEntry(obj: KubeObject): ManagedFieldsEntry | undefined {
  return obj.metadata.managedFields?.find(
    (m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && !m.subresource,
  );
}

export function ownership(obj: KubeObject): Ownership {
  const f = applyEntry(obj)?.fieldsV1;
  const spec = child(f, 'f:spec');
  const template = child(spec, 'f:template');
  const annotations = child(child(template, 'f:metadata'), 'f:annotations');
  const container = child(
    child(child(template, 'f:spec'), 'f:containers'),
    `k:${JSON.stringify({ name: APP_CONTAINER })}`,
  );
  const env = child(container, 'f:env') ?? {};
  const names = new Set<string>();
  for (const key of Object.keys(env)) {
    const m = /^k:(.*)$/.exec(key);
    if (m) names.add((JSON.parse(m[1]!) as { name: string }).name);
  }
  return {
    replicas: spec?.['f:replicas'] !== undefined,
    annotation: annotations?.[`f:${REDIS_HASH_ANNOTATION}`] !== undefined,
    env: names,
  };
}

function appContainer(d: DeploymentLike) {
  return d.spec?.template?.spec?.containers?.find((c) => c.name === APP_CONTAINER);
}

/** The Redis part as it is live, used to hold it steady while a referenced Secret is missing. */
export function liveRedisPart(d: DeploymentLike, owned: Ownership = ownership(d)): RedisPart {
  const env = (appContainer(d)?.env ?? []).filter(
    (e) => owned.env.has(e.name) && (REDIS_ENV_NAMES as readonly string[]).includes(e.name),
  );
  const hash = owned.annotation
    ? d.spec?.template?.metadata?.annotations?.[REDIS_HASH_ANNOTATION]
    : undefined;
  return { env: env.map(normalizeEnv), hash };
}

function normalizeEnv(e: EnvVar): EnvVar {
  if (e.valueFrom?.secretKeyRef) {
    return {
      name: e.name,
      valueFrom: { secretKeyRef: { name: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key } },
    };
  }
  return { name: e.name, value: e.value ?? '' };
}

/** Differences between live and desired, in words (empty when an apply would change nothing). */
export function deploymentDrift(
  live: DeploymentLike,
  desired: DesiredDeployment,
  owned: Ownership = ownership(live),
): string[] {
  const drift: string[] = [];
  if (desired.replicas !== undefined && live.spec?.replicas !== desired.replicas) {
    drift.push(`replicas ${live.spec?.replicas ?? 'unset'} -> ${desired.replicas}`);
  }
  if (owned.replicas !== (desired.replicas !== undefined)) drift.push('ownership of replicas');
  const wantedHash = desired.redis.hash;
  const liveHash = live.spec?.template?.metadata?.annotations?.[REDIS_HASH_ANNOTATION];
  if (wantedHash !== undefined && liveHash !== wantedHash)
    drift.push(`redis-config-hash ${liveHash ?? 'unset'} -> ${wantedHash}`);
  if (owned.annotation !== (wantedHash !== undefined)) drift.push('ownership of redis-config-hash');
  const liveEnv = new Map(
    (appContainer(live)?.env ?? []).map((e) => [e.name, JSON.stringify(normalizeEnv(e))]),
  );
  for (const e of desired.redis.env) {
    if (liveEnv.get(e.name) !== JSON.stringify(normalizeEnv(e))) drift.push(`env ${e.name}`);
  }
  const wantedNames = new Set(desired.redis.env.map((e) => e.name));
  for (const n of owned.env) if (!wantedNames.has(n)) drift.push(`release env ${n}`);
  for (const n of wantedNames) if (!owned.env.has(n)) drift.push(`ownership of env ${n}`);
  return drift;
}

export function ownedBy(obj: KubeObject, app: ExpressApp): boolean {
  return (obj.metadata.ownerReferences ?? []).some(
    (r) => r.uid === app.metadata.uid && r.kind === KIND && r.apiVersion === API_VERSION,
  );
}

interface HpaSpec {
  minReplicas?: number;
  maxReplicas?: number;
  metrics?: unknown;
  scaleTargetRef?: { name?: string };
  behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
}

// The apiserver fills this in whenever any behavior is present, and it stays after the spec drops its
// own window (the defaulted policies keep behavior alive), so unset and 300 are the same wish.
const DEFAULT_SCALE_DOWN_WINDOW_SECONDS = 300;
const scaleDownWindow = (spec: HpaSpec | undefined) =>
  spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? DEFAULT_SCALE_DOWN_WINDOW_SECONDS;

/** Whether the live HPA is the one wanted and owned by the ExpressApp (an apply would change nothing). */
export function hpaMatches(live: KubeObject | undefined, desired: KubeObject, app: ExpressApp): boolean {
  if (!live || !ownedBy(live, app)) return false;
  const want = desired.spec as HpaSpec;
  const have = live.spec as HpaSpec | undefined;
  return (
    have?.minReplicas === want.minReplicas &&
    have?.maxReplicas === want.maxReplicas &&
    JSON.stringify(have?.metrics) === JSON.stringify(want.metrics) &&
    have?.scaleTargetRef?.name === want.scaleTargetRef?.name &&
    scaleDownWindow(have) === scaleDownWindow(want)
  );
}

export const flagsData = (cm: KubeObject | undefined): string | undefined =>
  (cm?.data as Record<string, string> | undefined)?.[FLAGS_KEY];

/** Whether the live flags ConfigMap holds the wanted flags and is owned by the ExpressApp. */
export function flagsMatch(live: KubeObject | undefined, desired: KubeObject, app: ExpressApp): boolean {
  return live !== undefined && ownedBy(live, app) && flagsData(live) === flagsData(desired);
}

export function selectorString(d: DeploymentLike): string | undefined {
  const labels = d.spec?.selector?.matchLabels;
  if (!labels) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
