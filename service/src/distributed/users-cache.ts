// Users with cache-aside reads and outbox events on writes. It extends the core's UsersService (same
// rules, RBAC and repository) and changes only where data comes from and what a write leaves behind:
// - get/list read through the two-tier cache (single flight, "not found" cached briefly);
// - create/update/delete run in one transaction with their outbox row (user.created/updated/
//   deleted), then invalidate the user's key and every cached list page on every replica.
// The `cache` flag turns the cache off at run time.
import { inject, injectable } from 'tsyringe';
import type { AccountLookup } from '../domain/auth/ports.js';
import type { Actor } from '../domain/rbac/permissions.js';
import { requireOnUser, requirePermission } from '../domain/rbac/permissions.js';
import type { RulesEngine } from '../domain/rules/rules.js';
import { NotFoundError } from '../domain/shared/errors.js';
import type { PasswordHasher } from '../domain/shared/ports.js';
import { type User, type UserListQuery, type UserRepository, toPublicUser } from '../domain/users/user.js';
import { type CreateUserInput, type UpdateUserInput, UsersService } from '../domain/users/users.service.js';
import { TOKENS } from '../tokens.js';
import { DOMAIN_STREAM, type DistributedRuntime } from './runtime.js';
import { inTransactionScope } from './scoped-transaction.js';
import type { Sequelize } from 'sequelize';

const LIST_TAG = 'users:list';
const userKey = (id: string) => `user:${id}`;

// Dates come back from Redis as ISO strings.
function revive(u: User): User {
  return { ...u, createdAt: new Date(u.createdAt), updatedAt: new Date(u.updatedAt) };
}

@injectable()
export class CachedUsersService extends UsersService implements AccountLookup {
  constructor(
    @inject(TOKENS.UserRepository) private readonly repository: UserRepository,
    @inject(TOKENS.PasswordHasher) hasher: PasswordHasher,
    @inject(TOKENS.RulesEngine) rules: RulesEngine,
    @inject(TOKENS.Distributed) private readonly distributed: DistributedRuntime,
    @inject(TOKENS.Sequelize) private readonly sequelize: Sequelize,
  ) {
    super(repository, hasher, rules);
  }

  private get cacheOn(): boolean {
    return this.distributed.flags.isEnabled('cache');
  }

  override async get(actor: Actor, id: string): Promise<User> {
    requireOnUser(actor, 'read', id);
    if (!this.cacheOn) return super.get(actor, id);
    const user = await this.cached(id);
    if (!user) throw new NotFoundError(`user ${id} does not exist`);
    return revive(user);
  }

  // AccountLookup for authentication: the same cache entry as get(), so the invalidation on every
  // write (deactivation, role change) reaches authentication on every replica too.
  // It follows the `authCache` flag: writes invalidate whatever the flags say, so either is safe.
  async findAccount(id: string): Promise<Pick<User, 'id' | 'role' | 'status'> | null> {
    const on = this.distributed.flags.isEnabled('authCache');
    const user = on ? await this.cached(id) : await this.repository.findById(id);
    return user ? { id: user.id, role: user.role, status: user.status } : null;
  }

  private cached(id: string): Promise<User | undefined> {
    return this.distributed.cache.getOrLoad<User>(userKey(id), async () => {
      const found = await this.repository.findById(id);
      return found ? toPublicUser(found) : undefined;
    });
  }

  override async list(actor: Actor, query: UserListQuery): Promise<{ items: User[]; total: number }> {
    requirePermission(actor, 'users:list');
    if (!this.cacheOn) return super.list(actor, query);
    const key = `users:list:${JSON.stringify(query)}`;
    const page = await this.distributed.cache.getOrLoad(key, () => this.repository.list(query), {
      tags: [LIST_TAG],
      ttlSeconds: Math.min(30, this.distributed.config.distributed.cache.ttlSeconds),
    });
    return { items: (page?.items ?? []).map(revive), total: page?.total ?? 0 };
  }

  override async create(actor: Actor | 'system', input: CreateUserInput): Promise<User> {
    const user = await inTransactionScope(this.sequelize, async (t) => {
      const created = await super.create(actor, input);
      await this.distributed.outbox.add(
        [
          {
            stream: DOMAIN_STREAM,
            type: 'user.created',
            payload: { id: created.id, version: created.version },
          },
        ],
        t,
      );
      return created;
    });
    await this.changed(user.id);
    return user;
  }

  override async update(
    actor: Actor,
    id: string,
    expectedVersion: number,
    input: UpdateUserInput,
  ): Promise<User> {
    const user = await inTransactionScope(this.sequelize, async (t) => {
      const updated = await super.update(actor, id, expectedVersion, input);
      await this.distributed.outbox.add(
        [{ stream: DOMAIN_STREAM, type: 'user.updated', payload: { id, version: updated.version } }],
        t,
      );
      return updated;
    });
    await this.changed(id);
    return user;
  }

  override async delete(actor: Actor, id: string, expectedVersion?: number): Promise<void> {
    await inTransactionScope(this.sequelize, async (t) => {
      await super.delete(actor, id, expectedVersion);
      await this.distributed.outbox.add(
        [{ stream: DOMAIN_STREAM, type: 'user.deleted', payload: { id } }],
        t,
      );
    });
    await this.changed(id);
  }

  // After the commit: drop the user and every list page everywhere, and relay the event now.
  private async changed(id: string): Promise<void> {
    await this.distributed.cache.delete(userKey(id));
    await this.distributed.cache.invalidateTag(LIST_TAG);
    this.distributed.relay.poke();
  }
}
