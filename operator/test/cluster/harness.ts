// Helpers for tests against a real cluster (KUBECONFIG): kubectl, an admin client, and polling. The
// operator as a child process with its ServiceAccount's token (so the RBAC in manifests/ is what is
// tested) is e2e/lib's OperatorProcess, shared with the platform e2e suite.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { RESOURCES, ref } from '../../src/api/resources.js';
import { KubeClient, type KubeObject } from '../../src/runtime/kube.js';
import { waitFor } from '../../../e2e/lib/wait.js';
import { chartDeployment } from '../fixtures/chart-deployment.js';

export { OperatorProcess, type OperatorOptions } from '../../../e2e/lib/operator-process.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const KUBECONFIG = process.env.KUBECONFIG ?? join(REPO, '.local/cluster/kubeconfig');
const TOOLS = join(
  process.env.ESP_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/express-sqlize-platform'),
  'bin',
);
const env = { ...process.env, KUBECONFIG, PATH: `${TOOLS}:${process.env.PATH}` };

export function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs kubectl expecting failure; returns stderr. */
export function kubectlFails(args: string[], input?: string): string {
  try {
    kubectl(args, input);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded but was expected to fail`);
}

export function adminClient(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  return new KubeClient(kc);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns a value other than undefined or false (e2e/lib's waitFor, which reports the last error). */
export function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  return waitFor(what, timeoutMs, async () => {
    const v = await fn();
    return v === false ? undefined : v;
  });
}

export function uniqueNamespace(prefix: string): string {
  const ns = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  kubectl(['create', 'namespace', ns]);
  return ns;
}

export function applyChartDeployment(release: string, ns: string, chartReplicas = 2, manager = 'helm'): void {
  kubectl(
    ['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'],
    JSON.stringify(chartDeployment(release, ns, chartReplicas)),
  );
}

/** Creates the ExpressApp or replaces its whole spec (fields left out are removed, whoever set them). */
export function applyApp(ns: string, name: string, spec: object): void {
  const exists = kubectl(['get', '-n', ns, 'xapp', name, '--ignore-not-found', '-o', 'name']).trim() !== '';
  if (!exists) {
    const obj = {
      apiVersion: 'platform.sqlize.dev/v1alpha1',
      kind: 'ExpressApp',
      metadata: { name, namespace: ns },
      spec,
    };
    kubectl(['create', '-f', '-'], JSON.stringify(obj));
    return;
  }
  kubectl([
    'patch',
    '-n',
    ns,
    `xapp/${name}`,
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec', value: spec }]),
  ]);
}

export type Deployment = KubeObject & {
  spec: {
    replicas?: number;
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[] };
    };
  };
  status?: { updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number };
};

export const deploymentRef = (ns: string, name: string) => ref(RESOURCES.deployments, ns, name);
export const hpaRef = (ns: string, name: string) => ref(RESOURCES.horizontalPodAutoscalers, ns, name);
/** The fields of an HPA the tests read. */
export type Hpa = KubeObject & { spec: { minReplicas: number; maxReplicas: number } };
export const appRef = (ns: string, name: string) => ref(RESOURCES.expressApps, ns, name);

export function envOf(d: Deployment): Record<string, string> {
  const c = d.spec.template.spec.containers.find((x) => x.name === 'app')!;
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? JSON.stringify(e.valueFrom)]));
}

export function readyCondition(
  app: KubeObject,
): { status: string; reason: string; message: string } | undefined {
  const conds =
    (
      app.status as
        { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined
    )?.conditions ?? [];
  return conds.find((c) => c.type === 'Ready');
}

export function readFileOrEmpty(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
