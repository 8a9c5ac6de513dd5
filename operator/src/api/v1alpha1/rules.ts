// Cross-field rules of the ExpressApp spec, written once: the CEL text goes into the CRD (admission) and
// the TypeScript predicate into the zod schema (the operator re-checks what it reads), with one message.

/** The flag-name pattern shared with the service's flags file (docs/contract.md). */
export const FLAG_NAME_PATTERN = '^[a-z][a-zA-Z0-9_.-]{0,62}$';
export const FLAG_NAME_RE = new RegExp(FLAG_NAME_PATTERN);

export interface Rule<T> {
  /** CEL expression evaluated by the apiserver with `self` bound to the object the rule is attached to. */
  readonly cel: string;
  readonly message: string;
  /** Where the failure is reported, relative to the object (CEL fieldPath). */
  readonly fieldPath?: string;
  readonly check: (self: T) => boolean;
}

export interface ScalingShape {
  replicas?: number | undefined;
  autoscaling?: unknown;
}

export interface AutoscalingShape {
  minReplicas?: number | undefined;
  maxReplicas: number;
}

export interface RedisShape {
  authEnabled?: boolean | undefined;
  passwordSecretRef?: unknown;
}

export const specRules: Rule<ScalingShape>[] = [
  {
    cel: 'has(self.replicas) != has(self.autoscaling)',
    message:
      'set exactly one of spec.replicas (a fixed count) or spec.autoscaling (HPA bounds); remove the other',
    check: (s) => (s.replicas !== undefined) !== (s.autoscaling !== undefined),
  },
];

export const autoscalingRules: Rule<AutoscalingShape>[] = [
  {
    cel: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas',
    message: 'spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas',
    fieldPath: '.minReplicas',
    check: (a) => (a.minReplicas ?? 1) <= a.maxReplicas,
  },
];

export const redisRules: Rule<RedisShape>[] = [
  {
    cel: '!has(self.authEnabled) || !self.authEnabled || has(self.passwordSecretRef)',
    message:
      'spec.redis.authEnabled is true, so spec.redis.passwordSecretRef must name the Secret (and key) holding the password; literal passwords are not accepted',
    fieldPath: '.passwordSecretRef',
    check: (r) => !r.authEnabled || r.passwordSecretRef !== undefined,
  },
];

export const featureFlagRules: Rule<Record<string, boolean>>[] = [
  {
    cel: `self.all(name, name.matches('${FLAG_NAME_PATTERN}'))`,
    message: `every key of spec.featureFlags must match ${FLAG_NAME_PATTERN} (start with a lower-case letter, then letters, digits, '_', '.', '-'; at most 63 characters)`,
    check: (flags) => Object.keys(flags).every((k) => FLAG_NAME_RE.test(k)),
  },
];

/** The CRD form of a rule list (x-kubernetes-validations). */
export function celValidations<T>(rules: Rule<T>[]): { rule: string; message: string; fieldPath?: string }[] {
  return rules.map((r) => ({
    rule: r.cel,
    message: r.message,
    ...(r.fieldPath !== undefined ? { fieldPath: r.fieldPath } : {}),
  }));
}
