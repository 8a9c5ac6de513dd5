// Every API resource the operator reads or writes, by group, version and plural, in one place: the
// informers' list-watch paths, the reconciler's writes, Events, the Lease and the RBAC rules follow
// from these names.
import type { GroupVersionResource, ResourceRef } from '../runtime/kube.js';
import { GROUP, PLURAL, VERSION } from './v1alpha1/types.js';

export const RESOURCES = {
  expressApps: { group: GROUP, version: VERSION, plural: PLURAL },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments' },
  horizontalPodAutoscalers: { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers' },
  configMaps: { group: '', version: 'v1', plural: 'configmaps' },
  secrets: { group: '', version: 'v1', plural: 'secrets' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  events: { group: '', version: 'v1', plural: 'events' },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
} as const satisfies Record<string, GroupVersionResource>;

/** One object (or, without a name, the collection) of a resource. */
export const ref = (
  gvr: GroupVersionResource,
  namespace?: string,
  name?: string,
  subresource?: string,
): ResourceRef => ({ ...gvr, namespace, name, subresource });
