// An in-memory apiserver for the reconciler's unit test: objects by path, resourceVersion
// preconditions (409 on a stale one), finalizers holding a deletion, JSON patch with `test`, and
// enough server-side apply for one field manager: the applier's last body is its field set, fields it
// stops applying are removed (a keyed list entry goes once only its key is left), and its
// managedFields entry is written from the body as the apiserver does. The caches the reconciler reads
// are views of the same objects through the informers' transforms; `freezeCaches` lets them lag
// behind, as a watch does.
import {
  slimDeployment,
  summarizeSecret,
  type CacheReaders,
} from '../../src/controllers/expressapp/controller.js';
import { RESOURCES, ref } from '../../src/api/resources.js';
import {
  ApiError,
  FIELD_MANAGER,
  resourcePath,
  type GroupVersionResource,
  type KubeApi,
  type KubeObject,
  type ResourceRef,
} from '../../src/runtime/kube.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
/** Lists of objects with a name (containers, env) merge by name, as their patch strategy says. */
const keyed = (v: unknown): v is Json[] =>
  Array.isArray(v) && v.length > 0 && v.every((e) => isObject(e) && typeof e.name === 'string');

function merge(live: Json, body: Json): void {
  for (const [k, v] of Object.entries(body)) {
    const cur = live[k];
    if (isObject(v) && isObject(cur)) merge(cur, v);
    else if (keyed(v) && Array.isArray(cur)) {
      for (const e of v) {
        const match = (cur as Json[]).find((c) => isObject(c) && c.name === e.name);
        if (match) merge(match, e);
        else cur.push(clone(e));
      }
    } else live[k] = clone(v);
  }
}

/** Removes from `live` what `before` applied and `after` no longer does (a list entry keeps its name). */
function release(live: Json, before: Json, after: Json, entry = false): void {
  for (const [k, was] of Object.entries(before)) {
    const now = after[k];
    const cur = live[k];
    if (isObject(was) && isObject(cur)) {
      release(cur, was, isObject(now) ? now : {});
      if (Object.keys(cur).length === 0 && now === undefined) delete live[k];
    } else if (keyed(was) && Array.isArray(cur)) {
      const kept = keyed(now) ? now : [];
      for (const e of was) {
        const i = (cur as Json[]).findIndex((c) => isObject(c) && c.name === e.name);
        if (i < 0) continue;
        const entry = cur[i] as Json;
        const still = kept.find((x) => x.name === e.name) ?? { name: e.name };
        release(entry, e, still, true);
        if (!kept.some((x) => x.name === e.name) && Object.keys(entry).every((x) => x === 'name'))
          cur.splice(i, 1);
      }
      if (cur.length === 0 && now === undefined) delete live[k];
    } else if (now === undefined && !(entry && k === 'name')) delete live[k];
  }
}

/** The fieldsV1 form of an apply body (what `ownership()` reads back). */
function fieldSet(body: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(body)) {
    if (keyed(v))
      out[`f:${k}`] = Object.fromEntries(
        v.map((e) => [`k:${JSON.stringify({ name: e.name })}`, fieldSet(e)]),
      );
    else out[`f:${k}`] = isObject(v) ? fieldSet(v) : {};
  }
  return out;
}

export class MemoryCluster implements KubeApi {
  readonly writes: string[] = [];
  readonly events: KubeObject[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly applied = new Map<string, Json>();
  private frozen: Map<string, KubeObject> | undefined;
  private rv = 100;
  private uid = 0;

  /** Stores an object as another client would create or update it (no field manager of ours). */
  put(gvr: GroupVersionResource, obj: KubeObject): KubeObject {
    const key = resourcePath(ref(gvr, obj.metadata.namespace, obj.metadata.name));
    const old = this.objects.get(key);
    const stored = clone(obj);
    stored.metadata.uid = old?.metadata.uid ?? `uid-${++this.uid}`;
    const specChanged = JSON.stringify(old?.spec) !== JSON.stringify(obj.spec);
    stored.metadata.generation = (old?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    stored.metadata.resourceVersion = String(++this.rv);
    if (old?.metadata.managedFields) stored.metadata.managedFields = old.metadata.managedFields;
    this.objects.set(key, stored);
    return clone(stored);
  }

  read<T extends KubeObject>(r: ResourceRef): T | undefined {
    const o = this.objects.get(resourcePath({ ...r, subresource: undefined }));
    return o ? (clone(o) as T) : undefined;
  }

  /** Caches stop following the objects until `syncCaches`. */
  freezeCaches(): void {
    this.frozen = new Map([...this.objects].map(([k, v]) => [k, clone(v)]));
  }

  syncCaches(): void {
    this.frozen = undefined;
  }

  readonly caches: CacheReaders = {
    apps: this.view(RESOURCES.expressApps, (o) => o as never),
    deployments: this.view(RESOURCES.deployments, slimDeployment),
    secrets: this.view(RESOURCES.secrets, summarizeSecret),
    hpas: this.view(RESOURCES.horizontalPodAutoscalers, (o) => o),
    configMaps: this.view(RESOURCES.configMaps, (o) => o),
  };

  private view<T>(gvr: GroupVersionResource, transform: (o: KubeObject) => T) {
    return {
      get: (namespace: string | undefined, name: string): T | undefined => {
        const o = (this.frozen ?? this.objects).get(resourcePath(ref(gvr, namespace, name)));
        return o ? transform(clone(o)) : undefined;
      },
    };
  }

  async get<T extends KubeObject>(r: ResourceRef): Promise<T> {
    const o = await this.getOrUndefined<T>(r);
    if (!o) throw new ApiError(404, 'NotFound', `${resourcePath(r)} not found`);
    return o;
  }

  getOrUndefined<T extends KubeObject>(r: ResourceRef): Promise<T | undefined> {
    if (r.plural === RESOURCES.namespaces.plural && !this.read(r)) {
      // Every namespace that holds an object exists and is active.
      const used = [...this.objects.values()].some((o) => o.metadata.namespace === r.name);
      if (used)
        return Promise.resolve({
          metadata: { name: r.name! },
          status: { phase: 'Active' },
        } as KubeObject as T);
    }
    return Promise.resolve(this.read<T>(r));
  }

  apply<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    const key = this.write('PATCH', r);
    const b = clone(body) as Json & KubeObject;
    const live = this.objects.get(key) ?? {
      apiVersion: b.apiVersion,
      kind: b.kind,
      metadata: { name: r.name!, namespace: r.namespace, uid: `uid-${++this.uid}`, generation: 1 },
    };
    const before = live.spec === undefined ? undefined : JSON.stringify(live.spec);
    release(live, this.applied.get(key) ?? {}, b);
    merge(live, b);
    this.applied.set(key, b);
    const others = (live.metadata.managedFields ?? []).filter((m) => m.manager !== FIELD_MANAGER);
    const { apiVersion: _v, kind: _k, ...fields } = b;
    live.metadata.managedFields = [
      ...others,
      { manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: fieldSet(fields as Json) },
    ];
    if (before !== undefined && JSON.stringify(live.spec) !== before)
      live.metadata.generation = (live.metadata.generation ?? 1) + 1;
    return Promise.resolve(this.store(key, live) as T);
  }

  mergePatch<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    const key = this.write('PATCH', r);
    const live = this.existing(key, r);
    const patch = clone(body) as Json & { metadata?: { resourceVersion?: string } };
    const precondition = patch.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== live.metadata.resourceVersion)
      throw new ApiError(409, 'Conflict', `${key}: the object has been modified`);
    if (patch.metadata) delete patch.metadata.resourceVersion;
    if (r.subresource === 'status') mergePatchInto(live, { status: patch.status });
    else mergePatchInto(live, { ...patch, status: undefined });
    if (live.metadata.deletionTimestamp && (live.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      return Promise.resolve(clone(live) as T);
    }
    return Promise.resolve(this.store(key, live) as T);
  }

  jsonPatch<T extends KubeObject>(r: ResourceRef, ops: object[]): Promise<T> {
    const key = this.write('PATCH', r);
    const live = this.existing(key, r);
    for (const op of ops as { op: string; path: string; value?: unknown }[]) {
      const parts = op.path.split('/').slice(1);
      const last = parts.pop()!;
      let parent: unknown = live;
      for (const p of parts) parent = (parent as Record<string, unknown>)[p];
      const container = parent as Record<string, unknown> & unknown[];
      if (op.op === 'test' && JSON.stringify(container[last]) !== JSON.stringify(op.value))
        throw new ApiError(422, 'Invalid', `${key}: test of ${op.path} failed`);
      if (op.op === 'remove') {
        if (Array.isArray(container)) container.splice(Number(last), 1);
        else delete container[last];
      }
    }
    if (!live.metadata.managedFields?.some((m) => m.manager === FIELD_MANAGER)) this.applied.delete(key);
    return Promise.resolve(this.store(key, live) as T);
  }

  create<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    if (r.plural === RESOURCES.events.plural) {
      this.events.push(clone(body) as KubeObject);
      return Promise.resolve(clone(body) as T);
    }
    const obj = body as KubeObject;
    this.write('POST', ref(r, r.namespace, obj.metadata.name));
    return Promise.resolve(this.put(r, obj) as T);
  }

  /** Marks the object deleted; it goes once its finalizers are gone. */
  delete(r: ResourceRef, preconditionUid?: string): Promise<void> {
    const key = this.write('DELETE', r);
    const live = this.objects.get(key);
    if (!live) return Promise.resolve();
    if (preconditionUid !== undefined && preconditionUid !== live.metadata.uid)
      throw new ApiError(409, 'Conflict', `${key}: uid precondition failed`);
    if ((live.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      this.applied.delete(key);
    } else {
      live.metadata.deletionTimestamp ??= new Date().toISOString();
      this.store(key, live);
    }
    return Promise.resolve();
  }

  private write(verb: string, r: ResourceRef): string {
    const path = resourcePath(r);
    if (r.plural !== RESOURCES.events.plural) this.writes.push(`${verb} ${path}`);
    return resourcePath({ ...r, subresource: undefined });
  }

  private existing(key: string, r: ResourceRef): KubeObject {
    const live = this.objects.get(key);
    if (!live) throw new ApiError(404, 'NotFound', `${resourcePath(r)} not found`);
    return live;
  }

  private store(key: string, obj: KubeObject): KubeObject {
    obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, obj);
    return clone(obj);
  }
}

/** RFC 7386: null removes, objects merge, anything else replaces. */
function mergePatchInto(target: Json, patch: Json): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete target[k];
    else if (isObject(v) && isObject(target[k])) mergePatchInto(target[k], v);
    else target[k] = clone(v);
  }
}
