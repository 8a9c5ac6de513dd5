// Users read through the two-tier cache (single flight, "not found" cached briefly): a decorator of
// the UserRepository for the read use cases and of the account lookup that authentication makes on
// every request. Writes go to the source of truth; after each committed change (its domain events)
// the user's entry and every cached list page are dropped on every replica (TieredCache broadcasts).
// The `cache` flag switches the users resource reads, `authCache` the account lookup, at run time;
// writes invalidate whatever the flags say, so either setting is safe.
import type { AccountLookup } from '../../domain/auth/ports.js';
import type { FeatureFlags } from '../../domain/shared/ports.js';
import type { DomainEventDraft } from '../../domain/shared/unit-of-work.js';
import {
  USER_EVENTS_STREAM,
  type NewUser,
  type User,
  type UserChanges,
  type UserEventPayload,
  type UserListQuery,
  type UserRepository,
  type UserWithSecret,
} from '../../domain/users/user.js';
import type { TieredCache } from '../redis/cache.js';

const LIST_TAG = 'users:list';
const userKey = (id: string) => `user:${id}`;

// Dates come back from Redis as ISO strings.
function revive(u: User): User {
  return { ...u, createdAt: new Date(u.createdAt), updatedAt: new Date(u.updatedAt) };
}

export interface CachedUsersOptions {
  // List pages live at most this long (they are also dropped on every write).
  listTtlSeconds: number;
}

export class CachedUserRepository implements UserRepository, AccountLookup {
  constructor(
    private readonly inner: UserRepository,
    private readonly cache: TieredCache,
    private readonly flags: FeatureFlags,
    private readonly options: CachedUsersOptions,
  ) {}

  async findById(id: string): Promise<User | null> {
    if (!this.flags.isEnabled('cache')) return this.inner.findById(id);
    const user = await this.cached(id);
    return user ? revive(user) : null;
  }

  // The same cache entry as findById, so the invalidation on every write (deactivation, role
  // change) reaches authentication on every replica too.
  async findAccount(id: string): Promise<Pick<User, 'id' | 'role' | 'status'> | null> {
    const user = this.flags.isEnabled('authCache') ? await this.cached(id) : await this.inner.findById(id);
    return user ? { id: user.id, role: user.role, status: user.status } : null;
  }

  private async cached(id: string): Promise<User | undefined> {
    return this.cache.getOrLoad<User>(userKey(id), async () => (await this.inner.findById(id)) ?? undefined);
  }

  async list(query: UserListQuery): Promise<{ items: User[]; total: number }> {
    if (!this.flags.isEnabled('cache')) return this.inner.list(query);
    const key = `users:list:${JSON.stringify(query)}`;
    const page = await this.cache.getOrLoad(key, () => this.inner.list(query), {
      tags: [LIST_TAG],
      ttlSeconds: this.options.listTtlSeconds,
    });
    return { items: (page?.items ?? []).map(revive), total: page?.total ?? 0 };
  }

  // After a unit of work committed: every user an event is about.
  async forgetChanged(events: DomainEventDraft[]): Promise<void> {
    for (const event of events) {
      if (event.stream === USER_EVENTS_STREAM) await this.forget((event.payload as UserEventPayload).id);
    }
  }

  // Drops the user and every list page everywhere.
  async forget(id: string): Promise<void> {
    await this.cache.delete(userKey(id));
    await this.cache.invalidateTag(LIST_TAG);
  }

  // Not cached: login reads the password hash, and the rest are the inputs of writes.
  findByEmail(email: string): Promise<UserWithSecret | null> {
    return this.inner.findByEmail(email);
  }

  async create(user: NewUser): Promise<User> {
    const created = await this.inner.create(user);
    await this.forget(created.id);
    return created;
  }

  async update(id: string, expectedVersion: number, changes: UserChanges): Promise<User | null> {
    const updated = await this.inner.update(id, expectedVersion, changes);
    await this.forget(id);
    return updated;
  }

  async delete(id: string, expectedVersion: number): Promise<boolean> {
    const deleted = await this.inner.delete(id, expectedVersion);
    await this.forget(id);
    return deleted;
  }

  countActiveAdmins(): Promise<number> {
    return this.inner.countActiveAdmins();
  }

  count(): Promise<number> {
    return this.inner.count();
  }
}
