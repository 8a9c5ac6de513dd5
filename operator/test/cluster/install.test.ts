// How platform engineers and app teams meet the install: a namespace's `edit` users manage
// ExpressApps through the aggregated roles, `kubectl get all` / `get platform` list them, and the
// namespaced overlay runs the operator with Roles in its watched namespaces only.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  OperatorProcess,
  REPO,
  adminClient,
  applyApp,
  applyChartDeployment,
  deploymentRef,
  eventually,
  kubectl,
  appRef,
  uniqueNamespace,
  type Deployment,
} from './harness.js';

const client = adminClient();
const SA = 'system:serviceaccount:expressapp-system:expressapp-operator';
const canI = (args: string[]): string => {
  try {
    return kubectl(['auth', 'can-i', ...args]).trim();
  } catch (e) {
    // can-i exits 1 on "no"
    return String((e as { stdout?: string }).stdout ?? e).trim();
  }
};
const app = (ns: string, name: string) =>
  JSON.stringify({
    apiVersion: 'platform.sqlize.dev/v1alpha1',
    kind: 'ExpressApp',
    metadata: { name, namespace: ns },
    spec: { replicas: 1 },
  });

describe('aggregated roles and categories', () => {
  let ns: string;
  beforeAll(() => {
    ns = uniqueNamespace('xapp-rbac');
    kubectl(['create', 'rolebinding', 'alice-edit', '-n', ns, '--clusterrole=edit', '--user=alice']);
    kubectl(['create', 'rolebinding', 'bob-view', '-n', ns, '--clusterrole=view', '--user=bob']);
  });
  afterAll(() => {
    // No operator runs here, so no finalizer was added: the namespace goes at once.
    kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=60s']);
  });

  it("lets a namespace's edit user create, scale and delete an ExpressApp, and its view user only read", async () => {
    // The clusterrole-aggregation controller of kube-controller-manager fills edit and view.
    await eventually('edit aggregates expressapp-editor', () =>
      canI(['create', 'expressapps.platform.sqlize.dev', '-n', ns, '--as=alice']) === 'yes'
        ? true
        : undefined,
    );
    kubectl(['create', '--as=alice', '-f', '-'], app(ns, 'orders'));
    kubectl(['scale', '--as=alice', '-n', ns, 'xapp/orders', '--replicas=2']);
    expect(kubectl(['get', '--as=bob', '-n', ns, 'xapp', 'orders', '-o', 'jsonpath={.spec.replicas}'])).toBe(
      '2',
    );
    expect(canI(['delete', 'expressapps.platform.sqlize.dev', '-n', ns, '--as=alice'])).toBe('yes');
    expect(
      canI(['patch', 'expressapps.platform.sqlize.dev', '--subresource=status', '-n', ns, '--as=alice']),
    ).toBe('no');
    expect(canI(['create', 'expressapps.platform.sqlize.dev', '-n', ns, '--as=bob'])).toBe('no');
    expect(canI(['list', 'expressapps.platform.sqlize.dev', '-n', ns, '--as=bob'])).toBe('yes');
    expect(canI(['list', 'expressapps.platform.sqlize.dev', '-n', 'default', '--as=alice'])).toBe('no');
  }, 60_000);

  it('lists ExpressApps in kubectl get all and get platform', () => {
    kubectl(['create', '-f', '-'], app(ns, 'listed'));
    expect(kubectl(['get', 'platform', '-n', ns, '-o', 'name'])).toContain(
      'expressapp.platform.sqlize.dev/listed',
    );
    expect(kubectl(['get', 'all', '-n', ns, '-o', 'name'])).toContain(
      'expressapp.platform.sqlize.dev/listed',
    );
  });
});

describe('namespaced overlay (WATCH_NAMESPACES with Roles)', () => {
  const watched = 'shop'; // the overlay's example namespace
  let other: string;
  let op: OperatorProcess | undefined;

  beforeAll(async () => {
    if (!kubectl(['get', 'namespace', watched, '--ignore-not-found', '-o', 'name']).trim())
      kubectl(['create', 'namespace', watched]);
    other = uniqueNamespace('xapp-unwatched');
    // Switching an install to namespaced mode: apply the overlay, drop the cluster-wide binding.
    kubectl(['apply', '-k', `${REPO}/manifests/overlays/namespaced`]);
    kubectl(['delete', 'clusterrolebinding', 'expressapp-operator', '--ignore-not-found']);
    kubectl(['-n', 'expressapp-system', 'scale', 'deployment/expressapp-operator', '--replicas=0']);
    op = await new OperatorProcess({ identity: 'namespaced', env: { WATCH_NAMESPACES: watched } }).start();
    await op.waitForLeader(60_000);
  }, 120_000);

  afterAll(async () => {
    // The ExpressApp goes while the operator runs (its finalizer is dropped), then the cluster-wide
    // install of manifests/ comes back for the other suites.
    kubectl(['delete', 'xapp', '--all', '-n', watched, '--wait=true', '--timeout=60s']);
    await op?.stop();
    kubectl(['delete', 'namespace', watched, other, '--wait=true', '--timeout=120s']);
    kubectl([
      'delete',
      '-f',
      `${REPO}/manifests/overlays/namespaced/namespace_reader_role.yaml`,
      '--ignore-not-found',
    ]);
    kubectl(['apply', '-k', `${REPO}/manifests/`]);
    kubectl(['-n', 'expressapp-system', 'scale', 'deployment/expressapp-operator', '--replicas=0']);
  }, 200_000);

  it('grants list and watch in the watched namespace only', () => {
    expect(canI(['list', 'secrets', '-n', watched, `--as=${SA}`])).toBe('yes');
    expect(canI(['watch', 'deployments.apps', '-n', watched, `--as=${SA}`])).toBe('yes');
    expect(canI(['list', 'secrets', '--all-namespaces', `--as=${SA}`])).toBe('no');
    expect(canI(['list', 'secrets', '-n', other, `--as=${SA}`])).toBe('no');
    expect(canI(['get', 'namespaces', `--as=${SA}`])).toBe('yes');
  });

  it('reconciles ExpressApps of the watched namespace and leaves the others alone', async () => {
    applyChartDeployment('orders', watched, 2);
    applyApp(watched, 'orders', { replicas: 3 });
    applyChartDeployment('orders', other, 2);
    applyApp(other, 'orders', { replicas: 3 });
    await eventually(
      'replicas 3 in the watched namespace',
      async () => (await client.get<Deployment>(deploymentRef(watched, 'orders'))).spec.replicas === 3,
      30_000,
    );
    const ready = await eventually('Ready condition', async () => {
      const a = await client.get(appRef(watched, 'orders'));
      const conds = (a.status as { conditions?: { type: string; reason: string }[] } | undefined)?.conditions;
      return conds?.find((c) => c.type === 'Ready');
    });
    expect(ready.reason).toMatch(/Reconciled|RollingOut/);
    const untouched = await client.get(appRef(other, 'orders'));
    expect(untouched.metadata.finalizers ?? []).toEqual([]);
    // The apiserver's default, not the operator's 3.
    expect((await client.get<Deployment>(deploymentRef(other, 'orders'))).spec.replicas).toBe(1);
    expect(op!.logs).not.toMatch(/forbidden/i);
  }, 60_000);
});
