// ExpressApp (platform.sqlize.dev/v1alpha1): the single definition of its schema. The CRD in manifests/
// is generated from these zod schemas (src/cli/generate-crd.ts), so descriptions, defaults and rules
// written here are what `kubectl explain` shows and what admission enforces.
import { z } from 'zod';
import {
  autoscalingRules,
  celValidations,
  featureFlagRules,
  redisRules,
  specRules,
  type Rule,
} from './rules.js';

export const GROUP = 'platform.sqlize.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ExpressApp';
export const PLURAL = 'expressapps';
export const SINGULAR = 'expressapp';
export const SHORT_NAMES = ['xapp'];
// `kubectl get all` and `kubectl get platform` list ExpressApps too.
export const CATEGORIES = ['all', 'platform'];

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const SECRET_KEY = '^[-._a-zA-Z0-9]+$';

function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]): S {
  let refined: z.ZodType = schema;
  for (const rule of rules) {
    refined = refined.refine((v) => rule.check(v as z.output<S>), {
      message: rule.message,
      ...(rule.fieldPath ? { path: [rule.fieldPath.replace(/^\./, '')] } : {}),
    });
  }
  // The CEL form travels as JSON-schema metadata so the generator needs no second copy of the rules.
  return refined.meta({ 'x-kubernetes-validations': celValidations(rules) }) as unknown as S;
}

export const targetSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(new RegExp(DNS_LABEL))
      .optional()
      .describe(
        "Name of the Deployment (the Helm release name, or its fullnameOverride) governed by this ExpressApp, in the same namespace. Defaults to the ExpressApp's own name.",
      ),
  })
  .describe('Which app installed by the express-sqlize chart this ExpressApp governs.');

export const autoscalingSchema = withRules(
  z
    .object({
      minReplicas: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(1)
        .describe(
          'Lower bound of the HorizontalPodAutoscaler the operator creates; also the count the chart restores from.',
        ),
      maxReplicas: z.number().int().min(1).max(1000).describe('Upper bound of the HorizontalPodAutoscaler.'),
      targetCPUUtilizationPercentage: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(80)
        .describe('Average CPU utilisation (percent of requests) the HorizontalPodAutoscaler aims for.'),
      scaleDownStabilizationWindowSeconds: z
        .number()
        .int()
        .min(0)
        .max(3600)
        .optional()
        .describe(
          "Seconds the HorizontalPodAutoscaler keeps the highest recommendation of that window before it scales down (behavior.scaleDown.stabilizationWindowSeconds); unset keeps Kubernetes' default of 300.",
        ),
    })
    .describe(
      'Scale with a HorizontalPodAutoscaler that the operator creates and owns. Mutually exclusive with spec.replicas.',
    ),
  autoscalingRules,
);

export const secretKeyRefSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(DNS_SUBDOMAIN))
      .describe("Name of a Secret in the ExpressApp's namespace."),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(SECRET_KEY))
      .default('password')
      .describe('Key inside the Secret whose value is the Redis password.'),
  })
  .describe(
    "The Secret holding the Redis password. The pods read it through a secretKeyRef, and a change of the Secret's data rolls them.",
  );

const portRule: Rule<{ port?: number | undefined }> = {
  cel: '!has(self.port) || (self.port >= 1 && self.port <= 65535)',
  message: 'spec.redis.port must be a TCP port between 1 and 65535',
  fieldPath: '.port',
  check: (r) => r.port === undefined || (r.port >= 1 && r.port <= 65535),
};

export const redisSchema = withRules(
  z
    .object({
      host: z
        .string()
        .min(1)
        .max(253)
        .describe(
          'Host name or IP address of the Redis server the app uses for caching, rate limits and locks.',
        ),
      port: z.number().int().default(6379).describe('TCP port of the Redis server (1-65535).'),
      db: z.number().int().min(0).max(15).default(0).describe('Redis logical database index (0-15).'),
      tls: z.boolean().default(false).describe('Connect to Redis over TLS.'),
      keyPrefix: z
        .string()
        .max(64)
        .regex(/^[a-zA-Z0-9:_.-]*$/)
        .default('')
        .describe(
          'Prefix of every Redis key the app writes, so several apps can share one Redis; also prefixes the flags reload channel.',
        ),
      authEnabled: z
        .boolean()
        .default(false)
        .describe('Authenticate to Redis with a password; when true, passwordSecretRef is required.'),
      passwordSecretRef: secretKeyRefSchema.optional(),
    })
    .describe(
      "Redis connection settings applied to the app's pods as environment variables; a change rolls the pods. Literal passwords are not accepted: use passwordSecretRef.",
    ),
  [portRule, ...redisRules],
);

export const featureFlagsSchema = withRules(
  z
    .record(z.string(), z.boolean())
    .describe(
      'Feature flags by name (^[a-z][a-zA-Z0-9_.-]{0,62}$) with their on/off value. Delivered to every running replica through the ConfigMap <target>-flags without a restart.',
    ),
  featureFlagRules,
).meta({ maxProperties: 256 });

export const expressAppSpecSchema = withRules(
  z
    .object({
      target: targetSchema.optional(),
      replicas: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .optional()
        .describe(
          'Fixed number of pods of the target Deployment. Mutually exclusive with spec.autoscaling. `kubectl scale xapp/<name>` sets it.',
        ),
      autoscaling: autoscalingSchema.optional(),
      redis: redisSchema.optional(),
      featureFlags: featureFlagsSchema.optional(),
    })
    .describe('Desired state of the app: scaling, Redis settings and feature flags.'),
  specRules,
);

export const conditionSchema = z
  .object({
    type: z.string().min(1).max(316).describe('Condition type: Ready, Progressing or Degraded.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z.string().min(1).max(1024).describe('One-word CamelCase reason for the last transition.'),
    message: z
      .string()
      .max(32768)
      .describe('Human-readable explanation, including what to do when something is wrong.'),
    lastTransitionTime: z
      .string()
      .describe('When the status last changed (RFC 3339).')
      .meta({ format: 'date-time' }),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation this condition was computed from.'),
  })
  .describe('One observation about the ExpressApp.');

export const expressAppStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .describe('The .metadata.generation the operator last reconciled.'),
    targetName: z.string().optional().describe('Name of the Deployment this ExpressApp governs.'),
    replicas: z.number().int().optional().describe('Total pods of the target Deployment (from its status).'),
    readyReplicas: z.number().int().optional().describe('Ready pods of the target Deployment.'),
    availableReplicas: z.number().int().optional().describe('Available pods of the target Deployment.'),
    updatedReplicas: z.number().int().optional().describe('Pods already running the current pod template.'),
    selector: z
      .string()
      .optional()
      .describe("Label selector of the target's pods, in string form (used by the scale subresource)."),
    redisConfigRevision: z
      .string()
      .optional()
      .describe(
        "Hash of the applied Redis settings and the referenced Secret's data (the pod-template annotation).",
      ),
    flagsRevision: z
      .string()
      .optional()
      .describe('Hash of the feature flags written to the <target>-flags ConfigMap.'),
    flagCount: z.number().int().optional().describe('Number of feature flags applied.'),
    conditions: z
      .array(conditionSchema)
      .optional()
      .describe('Ready, Progressing and Degraded, each with a reason and a message.')
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  })
  .describe('Observed state, written by the operator.');

export type ExpressAppSpec = z.output<typeof expressAppSpecSchema>;
export type ExpressAppSpecInput = z.input<typeof expressAppSpecSchema>;
export type ExpressAppStatus = z.output<typeof expressAppStatusSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type RedisSpec = z.output<typeof redisSchema>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ExpressApp {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ExpressAppSpec;
  status?: ExpressAppStatus;
}

/**
 * Parses a spec as read from the API (already defaulted and validated at admission) with the same rules,
 * so an object admitted before a rule existed is reported instead of half-applied.
 */
export function parseSpec(raw: unknown): { ok: true; spec: ExpressAppSpec } | { ok: false; message: string } {
  const result = expressAppSpecSchema.safeParse(raw ?? {});
  if (result.success) return { ok: true, spec: result.data };
  const message = result.error.issues
    .map((i) => `spec${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`)
    .join('; ');
  return { ok: false, message };
}
