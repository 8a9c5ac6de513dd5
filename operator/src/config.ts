// Operator configuration from the environment, parsed once at start-up; every bad variable is named
// in one message.
import { hostname } from 'node:os';
import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A comma-separated list of namespace names; empty means every namespace. */
const namespaceList = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  )
  .pipe(z.array(z.string().max(63).regex(DNS_LABEL, 'each namespace must be a DNS label')));
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const schema = z.object({
  WATCH_NAMESPACES: namespaceList.describe('namespaces to watch, comma-separated; empty: all namespaces'),
  WORKERS: int(4, 1),
  METRICS_PORT: int(8080),
  HEALTH_PORT: int(8081),
  BIND_ADDRESS: z.string().default('0.0.0.0'),
  // kubebuilder v4's secure metrics: HTTPS, each scrape checked with a TokenReview and a
  // SubjectAccessReview. Off by default (see the README's trade-off).
  METRICS_SECURE: bool.default(false),
  METRICS_CERT_DIR: z.string().min(1).optional(),
  METRICS_AUTH_CACHE_SECONDS: int(60, 0),
  LEADER_ELECT: bool.default(true),
  LEADER_ELECTION_NAMESPACE: z.string().optional(),
  LEADER_ELECTION_ID: z.string().default('expressapp-operator'),
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  LEASE_DURATION_SECONDS: int(15, 1),
  RENEW_DEADLINE_SECONDS: int(10, 1),
  RETRY_PERIOD_SECONDS: int(2, 1),
  RESYNC_SECONDS: int(600, 0),
  WATCH_QUIET_SECONDS: int(90, 1),
  FINALIZER_TIMEOUT_SECONDS: int(60, 0),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type OperatorConfig = z.output<typeof schema> & { identity: string; leaseNamespace: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const r = schema.safeParse(env);
  if (!r.success) {
    const bad = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid operator configuration: ${bad}`);
  }
  const c = r.data;
  if (c.RENEW_DEADLINE_SECONDS >= c.LEASE_DURATION_SECONDS) {
    throw new Error(
      'invalid operator configuration: RENEW_DEADLINE_SECONDS must be less than LEASE_DURATION_SECONDS',
    );
  }
  if (c.METRICS_CERT_DIR !== undefined && !c.METRICS_SECURE) {
    throw new Error(
      'invalid operator configuration: METRICS_CERT_DIR is set but METRICS_SECURE is not true; /metrics would be served over plain HTTP',
    );
  }
  return {
    ...c,
    identity: c.POD_NAME ?? `${hostname()}_${process.pid}`,
    leaseNamespace: c.LEADER_ELECTION_NAMESPACE ?? c.POD_NAMESPACE ?? 'expressapp-system',
  };
}
