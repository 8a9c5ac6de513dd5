// One place that turns KUBECONFIG into API clients, so every suite reads the cluster the same way.
import { existsSync } from 'node:fs';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { waitFor } from './wait.js';

export interface Clients {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  autoscaling: AutoscalingV2Api;
  batch: BatchV1Api;
  extensions: ApiextensionsV1Api;
  custom: CustomObjectsApi;
}

export function clients(): Clients {
  const path = process.env.KUBECONFIG;
  if (!path || !existsSync(path)) {
    throw new Error(
      `KUBECONFIG is ${path ? `'${path}', which does not exist` : 'not set'}: ` +
        'run the suite through make (make test-cluster) or eval "$(make env)" after make cluster-up',
    );
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api),
    batch: kubeConfig.makeApiClient(BatchV1Api),
    extensions: kubeConfig.makeApiClient(ApiextensionsV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
  };
}

/** The HTTP status of a failed API call, or undefined when the error is not an API answer. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The text the apiserver answered with, for asserting on its messages. */
export function bodyOf(error: unknown): string {
  if (!(error instanceof ApiException)) return String(error);
  const body: unknown = error.body;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** A namespace name unique to this run, so parallel or repeated runs never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
}

/** Waits until reading an object answers 404; any other error fails the wait at once. */
export function waitForGone(what: string, timeoutMs: number, read: () => Promise<unknown>): Promise<true> {
  return waitFor(`${what} to be gone`, timeoutMs, async () =>
    read().then(
      () => undefined,
      (error: unknown) => (statusOf(error) === 404 ? true : Promise.reject(error)),
    ),
  );
}
