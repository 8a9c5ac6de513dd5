// A thin REST client over @kubernetes/client-node's KubeConfig (auth, TLS) and its fetch: the controller
// needs raw paths (status subresource, server-side apply content type, list pagination) and a count of
// every write, which the generated typed clients do not give.
import {
  type HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    ownerReferences?: OwnerReference[];
    managedFields?: ManagedFieldsEntry[];
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;
/** Creating anything in a namespace being deleted is refused; nothing to retry then. */
export const isNamespaceTerminating = (e: unknown): boolean =>
  e instanceof ApiError && e.status === 403 && e.message.includes('because it is being terminated');
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;

export interface GroupVersionResource {
  group: string; // '' for the core group
  version: string;
  plural: string;
}

export interface ResourceRef extends GroupVersionResource {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

export function resourcePath(r: ResourceRef): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
  const name = r.name ? `/${encodeURIComponent(r.name)}` : '';
  const sub = r.subresource ? `/${r.subresource}` : '';
  return `${base}${ns}/${r.plural}${name}${sub}`;
}

/** Sees every request: writes before they are sent, responses (or failures to get one) after. */
export interface RequestObserver {
  write?(verb: string, path: string): void;
  response?(method: string, code: number | undefined, host: string): void;
}

export const FIELD_MANAGER = 'expressapp-operator';

export class KubeClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;
  private auth: { headers: Record<string, string>; at: number } | undefined;

  constructor(
    readonly config: KubeConfig,
    private readonly observer: RequestObserver = {},
  ) {}

  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(opts.body));
    }
    await this.authenticate(ctx);
    if (method !== 'GET') this.observer.write?.(method, path);
    let res;
    try {
      res = await this.http.send(ctx).toPromise();
    } catch (err) {
      this.observer.response?.(method, undefined, url.host);
      throw err;
    }
    this.observer.response?.(method, res.httpStatusCode, url.host);
    const text = await res.body.text();
    if (res.httpStatusCode >= 400) {
      let reason = 'Unknown';
      let message = text;
      try {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? reason;
        message = status.message ?? message;
      } catch {
        // not a Status object (a proxy error page, say): keep the raw text
      }
      throw new ApiError(res.httpStatusCode, reason, `${method} ${path}: ${res.httpStatusCode} ${message}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * client-node 2.0.1 builds a new undici Agent (with its own TLS context) on every
   * applySecurityAuthentication, so no connection is ever reused and native memory churns. Here the
   * first Agent is kept for good (CA and client certificate come from the kubeconfig) and the auth
   * headers are refreshed once a minute (a projected ServiceAccount token file rotates).
   */
  private async authenticate(ctx: RequestContext): Promise<void> {
    if (!this.auth || Date.now() - this.auth.at > 60_000) {
      const probe = new RequestContext(ctx.getUrl(), 'GET' as HttpMethod);
      await this.config.applySecurityAuthentication(probe);
      this.dispatcher ??= probe.getDispatcher();
      this.auth = { headers: probe.getHeaders(), at: Date.now() };
    }
    for (const [k, v] of Object.entries(this.auth.headers)) ctx.setHeaderParam(k, v);
    if (this.dispatcher !== undefined) ctx.setDispatcher(this.dispatcher);
  }

  get<T extends KubeObject>(r: ResourceRef): Promise<T> {
    return this.request<T>('GET', resourcePath(r));
  }

  async getOrUndefined<T extends KubeObject>(r: ResourceRef): Promise<T | undefined> {
    try {
      return await this.get<T>(r);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Lists every page; the returned resourceVersion is the one to watch from. */
  async list<T extends KubeObject>(path: string, labelSelector?: string): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<KubeList<T>>('GET', path, {
        query: { limit: '500', continue: cont, labelSelector },
      });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /** Server-side apply with the operator's field manager; force takes fields from other managers. */
  apply<T extends KubeObject>(r: ResourceRef, body: object, force = true): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r), {
      query: { fieldManager: FIELD_MANAGER, force: force ? 'true' : undefined },
      body,
      contentType: 'application/apply-patch+yaml',
    });
  }

  mergePatch<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r), {
      query: { fieldManager: FIELD_MANAGER },
      body,
      contentType: 'application/merge-patch+json',
    });
  }

  jsonPatch<T extends KubeObject>(r: ResourceRef, ops: object[]): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r), {
      query: { fieldManager: FIELD_MANAGER },
      body: ops,
      contentType: 'application/json-patch+json',
    });
  }

  create<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    return this.request<T>('POST', resourcePath({ ...r, name: undefined }), {
      query: { fieldManager: FIELD_MANAGER },
      body,
    });
  }

  replace<T extends KubeObject>(r: ResourceRef, body: object): Promise<T> {
    return this.request<T>('PUT', resourcePath(r), { query: { fieldManager: FIELD_MANAGER }, body });
  }

  async delete(r: ResourceRef, preconditionUid?: string): Promise<void> {
    try {
      await this.request('DELETE', resourcePath(r), {
        body: preconditionUid
          ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: preconditionUid } }
          : undefined,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** The requests a controller makes, as a type: the reconciler's unit test passes an in-memory cluster. */
export type KubeApi = Pick<
  KubeClient,
  'get' | 'getOrUndefined' | 'apply' | 'mergePatch' | 'jsonPatch' | 'create' | 'delete'
>;
