// Status of an ExpressApp from what the reconcile observed: replica counts, revisions, and the Ready,
// Progressing and Degraded conditions whose reason and message tell a person what to do.
import type { Condition, ExpressApp, ExpressAppStatus } from '../../api/v1alpha1/types.js';
import { selectorString, type DeploymentLike } from './live.js';

export type Problem =
  | { reason: 'InvalidSpec'; message: string }
  | { reason: 'TargetNotFound'; message: string }
  | { reason: 'SecretNotFound'; message: string }
  | { reason: 'SecretKeyNotFound'; message: string }
  | { reason: 'ApplyFailed'; message: string };

export interface Observation {
  app: ExpressApp;
  target: string;
  deployment: DeploymentLike | undefined;
  redisRevision: string | undefined;
  flagsRevision: string;
  flagCount: number;
  problem: Problem | undefined;
}

type CondInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

function rollout(d: DeploymentLike): { done: boolean; message: string } {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const generation = d.metadata.generation ?? 0;
  if ((s.observedGeneration ?? 0) < generation) {
    return {
      done: false,
      message: `the Deployment controller has not yet seen generation ${generation} of the Deployment`,
    };
  }
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  if (updated < want) return { done: false, message: `${updated} of ${want} pods run the current template` };
  if (total > updated) return { done: false, message: `${total - updated} old pods are still terminating` };
  if (available < want) return { done: false, message: `${available} of ${want} pods are available` };
  return { done: true, message: `${available} of ${want} pods are available` };
}

export function desiredConditions(o: Observation): CondInput[] {
  if (o.problem) {
    const { reason, message } = o.problem;
    return [
      { type: 'Ready', status: 'False', reason, message },
      {
        type: 'Progressing',
        status: 'False',
        reason,
        message: 'Blocked until the problem in the Degraded condition is fixed.',
      },
      { type: 'Degraded', status: 'True', reason, message },
    ];
  }
  const r = rollout(o.deployment!);
  const applied = `Redis config ${o.redisRevision ?? 'not managed'}, ${o.flagCount} feature flag(s) (revision ${o.flagsRevision})`;
  if (!r.done) {
    return [
      {
        type: 'Ready',
        status: 'False',
        reason: 'RollingOut',
        message: `Deployment ${o.target} is rolling out: ${r.message}.`,
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'RollingOut',
        message: `${r.message}; applied ${applied}.`,
      },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'No problem found.' },
    ];
  }
  return [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Reconciled',
      message: `Deployment ${o.target}: ${r.message}; ${applied}.`,
    },
    {
      type: 'Progressing',
      status: 'False',
      reason: 'Complete',
      message: 'The Deployment runs the desired state.',
    },
    { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'No problem found.' },
  ];
}

/** The new status, keeping lastTransitionTime of conditions whose status did not change. */
export function computeStatus(o: Observation, now: Date = new Date()): ExpressAppStatus {
  const prev = new Map((o.app.status?.conditions ?? []).map((c) => [c.type, c]));
  const generation = o.app.metadata.generation;
  const conditions: Condition[] = desiredConditions(o).map((c) => {
    const old = prev.get(c.type);
    const lastTransitionTime =
      old && old.status === c.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      ...c,
      lastTransitionTime,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
  const d = o.deployment;
  const status: ExpressAppStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    targetName: o.target,
    replicas: d?.status?.replicas ?? 0,
    readyReplicas: d?.status?.readyReplicas ?? 0,
    availableReplicas: d?.status?.availableReplicas ?? 0,
    updatedReplicas: d?.status?.updatedReplicas ?? 0,
    flagsRevision: o.flagsRevision,
    flagCount: o.flagCount,
    conditions,
  };
  const selector = d ? selectorString(d) : undefined;
  if (selector) status.selector = selector;
  if (o.redisRevision) status.redisConfigRevision = o.redisRevision;
  return status;
}

/** Stable comparison of two statuses (key order does not matter). */
export function sameStatus(a: ExpressAppStatus | undefined, b: ExpressAppStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
