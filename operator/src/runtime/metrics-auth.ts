// kubebuilder v4's secure metrics check (controller-runtime's WithAuthenticationAndAuthorization):
// the scrape's bearer token is authenticated with a TokenReview and the user it names is authorised
// with a SubjectAccessReview for the request's verb on the non-resource URL (`get` on /metrics).
// Results are cached for a short time, so a Prometheus scraping every few seconds costs the apiserver
// two requests per cache period instead of two per scrape.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from './kube.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two reviews, as the apiserver answers them; a separate interface so tests can count calls. */
export interface Reviewer {
  tokenReview(token: string): Promise<UserInfo | undefined>;
  accessReview(user: UserInfo, verb: string, path: string): Promise<boolean>;
}

export function kubeReviewer(client: KubeClient): Reviewer {
  return {
    async tokenReview(token) {
      const r = await client.request<{ status?: { authenticated?: boolean; user?: UserInfo } }>(
        'POST',
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } },
      );
      return r.status?.authenticated === true && r.status.user ? r.status.user : undefined;
    },
    async accessReview(user, verb, path) {
      const r = await client.request<{ status?: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: user.username,
              uid: user.uid,
              groups: user.groups,
              extra: user.extra,
              nonResourceAttributes: { path, verb },
            },
          },
        },
      );
      return r.status?.allowed === true;
    },
  };
}

export type AuthOutcome = { status: 200; user: string } | { status: 401 | 403 | 500; message: string };

/** A time-bounded, size-bounded cache of promises, so concurrent scrapes share one review. */
class TtlCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();
  constructor(
    private readonly ttlMs: (value: T) => number,
    private readonly max = 1024,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
      // Still full: drop the oldest (Map keeps insertion order).
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    const entry = { value: load(), until: Number.POSITIVE_INFINITY };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => (entry.until = Date.now() + this.ttlMs(v)),
      // A failed review (apiserver unreachable) is not remembered: the next scrape asks again.
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return entry.value;
  }
}

export class MetricsAuthenticator {
  private readonly tokens: TtlCache<UserInfo | undefined>;
  private readonly access: TtlCache<boolean>;

  /**
   * `ttlSeconds` applies to accepted tokens and granted access; refusals are kept at most 10 s, so a
   * RoleBinding just created for Prometheus takes effect quickly.
   */
  constructor(
    private readonly reviewer: Reviewer,
    ttlSeconds: number,
  ) {
    const ttl = ttlSeconds * 1000;
    const denied = Math.min(ttl, 10_000);
    this.tokens = new TtlCache((user) => (user ? ttl : denied));
    this.access = new TtlCache((allowed) => (allowed ? ttl : denied));
  }

  async check(req: IncomingMessage): Promise<AuthOutcome> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { status: 401, message: 'Unauthorized: a bearer token is required' };
    const token = match[1]!;
    const path = (req.url ?? '/').split('?')[0]!;
    const verb = (req.method ?? 'GET').toLowerCase();
    try {
      // Keyed by a hash, so the cache never holds a usable token.
      const tokenKey = createHash('sha256').update(token).digest('hex');
      const user = await this.tokens.get(tokenKey, () => this.reviewer.tokenReview(token));
      if (!user) return { status: 401, message: 'Unauthorized: the token was not accepted' };
      const accessKey = JSON.stringify([user.username, user.uid, user.groups, user.extra, verb, path]);
      const allowed = await this.access.get(accessKey, () => this.reviewer.accessReview(user, verb, path));
      if (!allowed)
        return { status: 403, message: `Forbidden: user "${user.username}" may not ${verb} ${path}` };
      return { status: 200, user: user.username };
    } catch (err) {
      return { status: 500, message: `authentication or authorisation failed: ${(err as Error).message}` };
    }
  }
}
