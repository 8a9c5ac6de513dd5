// The desired state of everything an ExpressApp governs, as pure functions of the spec and the
// referenced Secret, following docs/contract.md: the apply configuration of the target Deployment
// (only the operator's fields), the HPA and the flags ConfigMap.
import { createHash } from 'node:crypto';
import { API_VERSION, KIND, type ExpressApp, type ExpressAppSpec } from '../../api/v1alpha1/types.js';
import type { KubeObject, OwnerReference } from '../../runtime/kube.js';

export const FINALIZER = 'platform.sqlize.dev/finalizer';
export const CHART_REPLICAS_ANNOTATION = 'platform.sqlize.dev/chart-replicas';
export const REDIS_HASH_ANNOTATION = 'platform.sqlize.dev/redis-config-hash';
export const APP_CONTAINER = 'app';
export const FLAGS_KEY = 'flags.json';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'expressapp-operator' };
export const OWNED_SELECTOR = 'app.kubernetes.io/managed-by=expressapp-operator';
export const REDIS_ENV_NAMES = [
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_DB',
  'REDIS_TLS',
  'REDIS_KEY_PREFIX',
  'REDIS_PASSWORD',
] as const;

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

/** What the operator knows about the referenced Secret (values never leave the informer). */
export type SecretState =
  { kind: 'none' } | { kind: 'missing' } | { kind: 'keyMissing' } | { kind: 'present'; valueHash: string };

export const targetName = (app: ExpressApp): string => app.spec.target?.name ?? app.metadata.name;
export const flagsConfigMapName = (app: ExpressApp): string => `${targetName(app)}-flags`;

export function shortHash(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

export function ownerReference(app: ExpressApp): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: app.metadata.name,
    uid: app.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const usesPassword = (spec: ExpressAppSpec): boolean =>
  spec.redis !== undefined && (spec.redis.authEnabled || spec.redis.passwordSecretRef !== undefined);

export function redisEnv(spec: ExpressAppSpec): EnvVar[] {
  const r = spec.redis;
  if (!r) return [];
  const env: EnvVar[] = [
    { name: 'REDIS_HOST', value: r.host },
    { name: 'REDIS_PORT', value: String(r.port) },
    { name: 'REDIS_DB', value: String(r.db) },
    { name: 'REDIS_TLS', value: String(r.tls) },
    { name: 'REDIS_KEY_PREFIX', value: r.keyPrefix },
  ];
  if (usesPassword(spec) && r.passwordSecretRef) {
    env.push({
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: r.passwordSecretRef.name, key: r.passwordSecretRef.key } },
    });
  }
  return env;
}

/** The pod-template annotation: changes with any Redis setting or the password's value, and rolls the pods. */
export function redisConfigHash(spec: ExpressAppSpec, secret: SecretState): string | undefined {
  if (!spec.redis) return undefined;
  const secretPart = secret.kind === 'present' ? secret.valueHash : '';
  return shortHash(JSON.stringify({ env: redisEnv(spec), secret: secretPart }));
}

export interface RedisPart {
  env: EnvVar[];
  hash: string | undefined;
}

export interface DesiredDeployment {
  replicas: number | undefined;
  redis: RedisPart;
}

/** The operator's part of the Deployment; a missing Secret keeps what is live instead of breaking pods. */
export function desiredDeployment(
  spec: ExpressAppSpec,
  secret: SecretState,
  live: RedisPart,
): DesiredDeployment {
  const secretUnusable = usesPassword(spec) && (secret.kind === 'missing' || secret.kind === 'keyMissing');
  return {
    replicas: spec.replicas,
    redis: secretUnusable ? live : { env: redisEnv(spec), hash: redisConfigHash(spec, secret) },
  };
}

/** Server-side apply body: exactly the fields the operator owns, nothing else. */
export function deploymentApplyBody(
  namespace: string,
  name: string,
  d: DesiredDeployment,
): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (d.replicas !== undefined) spec.replicas = d.replicas;
  if (d.redis.env.length > 0 || d.redis.hash !== undefined) {
    spec.template = {
      ...(d.redis.hash !== undefined
        ? { metadata: { annotations: { [REDIS_HASH_ANNOTATION]: d.redis.hash } } }
        : {}),
      spec: { containers: [{ name: APP_CONTAINER, ...(d.redis.env.length ? { env: d.redis.env } : {}) }] },
    };
  }
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec };
}

export function flagsJson(spec: ExpressAppSpec): string {
  const flags = spec.featureFlags ?? {};
  const sorted = Object.fromEntries(
    Object.keys(flags)
      .sort()
      .map((k) => [k, flags[k]]),
  );
  return JSON.stringify(sorted);
}

export function flagsConfigMap(app: ExpressApp): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: flagsConfigMapName(app),
      namespace: app.metadata.namespace,
      labels: { ...MANAGED_BY, 'platform.sqlize.dev/expressapp': app.metadata.name },
      ownerReferences: [ownerReference(app)],
    },
    data: { [FLAGS_KEY]: flagsJson(app.spec) },
  };
}

export function horizontalPodAutoscaler(app: ExpressApp): KubeObject | undefined {
  const a = app.spec.autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: targetName(app),
      namespace: app.metadata.namespace,
      labels: { ...MANAGED_BY, 'platform.sqlize.dev/expressapp': app.metadata.name },
      ownerReferences: [ownerReference(app)],
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: targetName(app) },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
      ...(a.scaleDownStabilizationWindowSeconds !== undefined && {
        behavior: { scaleDown: { stabilizationWindowSeconds: a.scaleDownStabilizationWindowSeconds } },
      }),
    },
  };
}

export interface DesiredState {
  deployment: DesiredDeployment;
  hpa: KubeObject | undefined;
  flags: KubeObject;
}

/** The status revision of the flags: a hash of the ConfigMap's content. */
export const flagsRevision = (spec: ExpressAppSpec): string => shortHash(flagsJson(spec));

/** Everything the ExpressApp asks for, built once per reconcile from the spec and what was observed. */
export function desiredState(app: ExpressApp, secret: SecretState, liveRedis: RedisPart): DesiredState {
  return {
    deployment: desiredDeployment(app.spec, secret, liveRedis),
    hpa: horizontalPodAutoscaler(app),
    flags: flagsConfigMap(app),
  };
}
