// Reads one release of the chart the way a person checks it with kubectl: its Deployment, the
// ReplicaSet behind the current pods, whether a rollout has finished, and which objects are left.
import type { V1Deployment, V1EnvVar, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { helm, kubectl, type HelmBinary } from './helm.js';
import { waitFor } from './wait.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

export class Release {
  constructor(
    readonly namespace: string,
    readonly name: string,
  ) {}

  get selector(): string {
    return `app.kubernetes.io/instance=${this.name},app.kubernetes.io/name=express-sqlize`;
  }

  /** The Deployment with its managedFields, which say who owns which field. */
  async deployment(): Promise<V1Deployment> {
    const out = await kubectl([
      ...['get', 'deployment', this.name, '-n', this.namespace],
      ...['-o', 'json', '--show-managed-fields'],
    ]);
    return JSON.parse(out) as V1Deployment;
  }

  async list<T>(kind: string): Promise<T[]> {
    const out = await kubectl(['get', kind, '-n', this.namespace, '-l', this.selector, '-o', 'json']);
    return (JSON.parse(out) as { items: T[] }).items;
  }

  /** Waits until every pod runs the current template, `replicas` of them, all ready: a finished rollout. */
  async rolledOut(replicas: number, timeoutMs = 90_000): Promise<V1Deployment> {
    let seen = 'nothing yet';
    const check = async () => {
      const d = await this.deployment();
      const s = d.status ?? {};
      seen = `spec.replicas ${d.spec?.replicas}, status ${JSON.stringify({ ...s, conditions: undefined })}`;
      const done =
        d.spec?.replicas === replicas &&
        (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
        s.replicas === replicas &&
        s.updatedReplicas === replicas &&
        s.readyReplicas === replicas &&
        s.availableReplicas === replicas;
      if (!done) return undefined;
      // Pods of an old ReplicaSet that are still terminating do not count in the status above.
      const hash = await this.currentTemplateHash();
      const pods = await this.list<V1Pod>('pods');
      seen += `, ${pods.length} pod(s)`;
      return pods.length === replicas && pods.every((p) => p.metadata?.labels?.[POD_TEMPLATE_HASH] === hash)
        ? d
        : undefined;
    };
    const what = `deployment/${this.name} rolled out with ${replicas} ready replicas`;
    return waitFor(what, timeoutMs, check).catch((error: unknown) => {
      throw new Error(`${String(error)}; last seen: ${seen}`);
    });
  }

  /** The pod-template-hash of the ReplicaSet of the Deployment's current revision. */
  async currentTemplateHash(): Promise<string> {
    const revision = (await this.deployment()).metadata?.annotations?.['deployment.kubernetes.io/revision'];
    const current = (await this.list<V1ReplicaSet>('replicasets')).find(
      (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
    );
    const hash = current?.metadata?.labels?.[POD_TEMPLATE_HASH];
    if (!hash) throw new Error(`no ReplicaSet of revision ${revision} of deployment/${this.name}`);
    return hash;
  }

  /** The Deployment exactly as the release's manifest (helm get manifest) renders it. */
  async renderedDeployment(binary: HelmBinary): Promise<V1Deployment> {
    const manifest = await helm(binary, ['get', 'manifest', this.name, '-n', this.namespace]);
    const found = parseAllDocuments(manifest)
      .map((doc) => doc.toJS() as (V1Deployment & { kind?: string }) | null)
      .find((obj) => obj?.kind === 'Deployment' && obj.metadata?.name === this.name);
    if (!found) throw new Error(`release ${this.name} renders no Deployment ${this.name}`);
    return found;
  }
}

export function appContainerEnv(d: V1Deployment): V1EnvVar[] {
  return d.spec?.template.spec?.containers.find((c) => c.name === 'app')?.env ?? [];
}

/** Every object in a namespace, of every namespaced kind the API serves (events aside), as kind/name. */
export async function everyObject(namespace: string): Promise<string[]> {
  const kinds = (await kubectl(['api-resources', '--namespaced=true', '--verbs=list', '-o', 'name']))
    .split('\n')
    .filter((k) => k !== '' && k !== 'events' && k !== 'events.events.k8s.io');
  const out = await kubectl(['get', kinds.join(','), '-n', namespace, '-o', 'name', '--ignore-not-found']);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}
