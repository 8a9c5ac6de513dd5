// The ExpressApp as a platform engineer handles it: applied with kubectl (server-side, under their
// own field manager, so the operator's and Helm's fields stay theirs) and read back until the
// operator reports it Ready at its latest generation.
import { getJson, kubectl } from './helm.js';
import { waitFor } from './wait.js';

export interface ExpressAppObject {
  metadata: { generation?: number; uid?: string };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    redisConfigRevision?: string;
    flagsRevision?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

export const applyExpressApp = (namespace: string, name: string, spec: object): Promise<string> =>
  kubectl(
    ['apply', '--server-side', '--field-manager=e2e-platform-engineer', '-f', '-'],
    JSON.stringify({
      apiVersion: 'platform.sqlize.dev/v1alpha1',
      kind: 'ExpressApp',
      metadata: { name, namespace },
      spec,
    }),
  );

export const readExpressApp = (namespace: string, name: string): Promise<ExpressAppObject | undefined> =>
  getJson<ExpressAppObject>(namespace, 'expressapp', name);

/** The ExpressApp once the operator has seen its latest spec and reports the app Ready. */
export const readyExpressApp = (
  namespace: string,
  name: string,
  timeoutMs = 90_000,
): Promise<ExpressAppObject> =>
  waitFor('the ExpressApp to be Ready at its current generation', timeoutMs, async () => {
    const a = await readExpressApp(namespace, name);
    const ready = a?.status?.conditions?.find((c) => c.type === 'Ready');
    return a && a.status?.observedGeneration === a.metadata.generation && ready?.status === 'True'
      ? a
      : undefined;
  });
