// Installs the ExpressApp operator from manifests/ (kubectl apply -k, as a platform engineer does) and
// runs it in the mode E2E_OPERATOR names:
//   process     the local cluster's default: kwok only simulates pods, so the Deployment of manifests/
//               is scaled to 0 and the operator runs here as a process with its ServiceAccount's token;
//   deployment  kind's default: the Deployment of manifests/ with the image OPERATOR_IMAGE (built by
//               make image-build-operator and loaded into the nodes), as it runs in production.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isLocalCluster, repoRoot } from './cluster.js';
import { kubectl } from './helm.js';
import { OPERATOR_NAMESPACE, OperatorProcess } from './operator-process.js';

export type OperatorMode = 'process' | 'deployment';
const DEPLOYMENT = 'deployment/expressapp-operator';

export function operatorMode(): OperatorMode {
  const mode = process.env.E2E_OPERATOR || (process.env.E2E_CLUSTER === 'kind' ? 'deployment' : 'process');
  if (mode !== 'process' && mode !== 'deployment') {
    throw new Error(
      `E2E_OPERATOR is '${mode}': use 'process' (a local process) or 'deployment' (in-cluster)`,
    );
  }
  if (mode === 'deployment' && isLocalCluster()) {
    throw new Error(
      "E2E_OPERATOR=deployment cannot work on the local cluster: kwok only simulates pods, so the operator's never runs (use process, or kind)",
    );
  }
  return mode;
}

export interface InstalledOperator {
  mode: OperatorMode;
  /** Stops what the suite started (the local process); an in-cluster Deployment stays installed. */
  stop(): Promise<void>;
  /** The operator's output so far, saved next to the cluster logs so a failed run can be diagnosed. */
  saveLogs(name: string): Promise<string>;
}

export async function installOperator(mode: OperatorMode = operatorMode()): Promise<InstalledOperator> {
  await kubectl(['apply', '-k', resolve(repoRoot, 'manifests')]);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/expressapps.platform.sqlize.dev',
  ]);
  if (mode === 'process') {
    // The simulated pods never run, but the one operator that reconciles must be ours.
    await kubectl(['-n', OPERATOR_NAMESPACE, 'scale', DEPLOYMENT, '--replicas=0']);
    const operator = await new OperatorProcess({ identity: 'e2e-platform' }).start();
    await operator.waitForLeader(60_000);
    return { mode, stop: () => operator.stop(), saveLogs: (name) => save(name, operator.logs) };
  }
  const image = process.env.OPERATOR_IMAGE;
  if (!image) throw new Error('E2E_OPERATOR=deployment needs OPERATOR_IMAGE (make image-build-operator)');
  await kubectl(['-n', OPERATOR_NAMESPACE, 'set', 'image', DEPLOYMENT, `manager=${image}`]);
  await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', DEPLOYMENT, '--timeout=180s']);
  return {
    mode,
    stop: async () => undefined,
    saveLogs: async (name) =>
      save(
        name,
        await kubectl([
          ...['-n', OPERATOR_NAMESPACE, 'logs', '-l', 'app.kubernetes.io/name=expressapp-operator'],
          ...['--prefix', '--tail=-1'],
        ]),
      ),
  };
}

async function save(name: string, text: string): Promise<string> {
  const dir = resolve(process.env.ESP_STATE_DIR ?? resolve(repoRoot, '.local'), 'logs');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${name}.log`);
  writeFileSync(file, text);
  return file;
}
