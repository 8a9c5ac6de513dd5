// Use cases on users: RBAC first, then business rules, then the repository. Every write runs in a
// unit of work with the domain event it leaves behind (user.created/updated/deleted).
import { type Actor, requireOnUser, requirePermission } from '../rbac/permissions.js';
import { type RuleFacts, type RulesEngine, emailDomain, passwordFacts } from '../rules/rules.js';
import { NotFoundError, PreconditionFailedError } from '../shared/errors.js';
import type { PasswordHasher } from '../shared/ports.js';
import type { UnitOfWork } from '../shared/unit-of-work.js';
import {
  type Role,
  type Status,
  USER_EVENTS_STREAM,
  type User,
  type UserEventPayload,
  type UserChanges,
  type UserListQuery,
  type UserRepository,
} from './user.js';

export interface CreateUserInput {
  email: string;
  name: string;
  password: string;
  role?: Role;
  status?: Status;
}

export type UpdateUserInput = Partial<CreateUserInput>;

export class UsersService {
  constructor(
    // Reads of the read-only use cases (get, list); the adapter may serve them from a cache.
    private readonly users: UserRepository,
    private readonly work: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly rules: RulesEngine,
  ) {}

  async list(actor: Actor, query: UserListQuery): Promise<{ items: User[]; total: number }> {
    requirePermission(actor, 'users:list');
    return this.users.list(query);
  }

  async get(actor: Actor, id: string): Promise<User> {
    requireOnUser(actor, 'read', id);
    return mustFind(this.users, id);
  }

  async create(actor: Actor | 'system', input: CreateUserInput): Promise<User> {
    if (actor !== 'system') requirePermission(actor, 'users:create');
    return this.work.run(async ({ users, record }) => {
      await this.rules.check({
        operation: 'user.create',
        actorRole: actor === 'system' ? 'admin' : actor.role,
        emailDomain: emailDomain(input.email),
        ...passwordFacts(input.password, input.email),
      });
      const passwordHash = await this.hasher.hash(input.password);
      const created = await users.create({
        email: input.email,
        name: input.name,
        passwordHash,
        role: input.role ?? 'user',
        status: input.status ?? 'active',
      });
      record(userEvent('user.created', { id: created.id, version: created.version }));
      return created;
    });
  }

  // Full and partial updates both land here; a full update simply carries every field.
  async update(actor: Actor, id: string, expectedVersion: number, input: UpdateUserInput): Promise<User> {
    requireOnUser(actor, 'update', id);
    return this.work.run(async ({ users, record }) => {
      const current = await mustFind(users, id);
      if (current.version !== expectedVersion) throw stale(current.version);

      const newRole = input.role !== undefined && input.role !== current.role ? input.role : undefined;
      const newStatus =
        input.status !== undefined && input.status !== current.status ? input.status : undefined;
      const facts: RuleFacts = {
        operation: 'user.update',
        actorRole: actor.role,
        targetRole: current.role,
        newRole,
        newStatus,
        ...(input.email !== undefined && input.email.toLowerCase() !== current.email.toLowerCase()
          ? { emailDomain: emailDomain(input.email) }
          : {}),
        ...(input.password !== undefined ? passwordFacts(input.password, input.email ?? current.email) : {}),
      };
      const removesActiveAdmin =
        current.role === 'admin' &&
        current.status === 'active' &&
        (newRole === 'user' || newStatus === 'disabled');
      if (removesActiveAdmin) {
        facts.removesActiveAdmin = true;
        facts.activeAdminCount = await users.countActiveAdmins();
      }
      await this.rules.check(facts);

      const changes: UserChanges = {};
      if (input.email !== undefined) changes.email = input.email;
      if (input.name !== undefined) changes.name = input.name;
      if (newRole !== undefined) changes.role = newRole;
      if (newStatus !== undefined) changes.status = newStatus;
      if (input.password !== undefined) changes.passwordHash = await this.hasher.hash(input.password);
      const updated = await users.update(id, expectedVersion, changes);
      if (!updated) throw await staleOrGone(users, id);
      record(userEvent('user.updated', { id, version: updated.version }));
      return updated;
    });
  }

  async delete(actor: Actor, id: string, expectedVersion?: number): Promise<void> {
    requirePermission(actor, 'users:delete:any');
    await this.work.run(async ({ users, record }) => {
      const current = await mustFind(users, id);
      const version = expectedVersion ?? current.version;
      if (current.version !== version) throw stale(current.version);
      if (current.role === 'admin' && current.status === 'active') {
        await this.rules.check({
          operation: 'user.delete',
          actorRole: actor.role,
          targetRole: current.role,
          removesActiveAdmin: true,
          activeAdminCount: await users.countActiveAdmins(),
        });
      }
      if (!(await users.delete(id, version))) throw await staleOrGone(users, id);
      record(userEvent('user.deleted', { id }));
    });
  }
}

function userEvent(type: string, payload: UserEventPayload) {
  return { stream: USER_EVENTS_STREAM, type, payload };
}

async function mustFind(users: UserRepository, id: string): Promise<User> {
  const user = await users.findById(id);
  if (!user) throw new NotFoundError(`user ${id} does not exist`);
  return user;
}

async function staleOrGone(users: UserRepository, id: string): Promise<Error> {
  const now = await users.findById(id);
  return now ? stale(now.version) : new NotFoundError(`user ${id} does not exist`);
}

function stale(currentVersion: number): PreconditionFailedError {
  return new PreconditionFailedError('the user was changed by someone else; fetch it again and retry', {
    currentVersion,
  });
}
