// Use cases on users: RBAC first, then business rules, then the repository.
import { inject, injectable } from 'tsyringe';
import { TOKENS } from '../../tokens.js';
import { type Actor, requireOnUser, requirePermission } from '../rbac/permissions.js';
import { type RuleFacts, type RulesEngine, emailDomain, passwordFacts } from '../rules/rules.js';
import { NotFoundError, PreconditionFailedError } from '../shared/errors.js';
import type { PasswordHasher } from '../shared/ports.js';
import {
  type Role,
  type Status,
  type User,
  type UserChanges,
  type UserListQuery,
  type UserRepository,
  toPublicUser,
} from './user.js';

export interface CreateUserInput {
  email: string;
  name: string;
  password: string;
  role?: Role;
  status?: Status;
}

export type UpdateUserInput = Partial<CreateUserInput>;

@injectable()
export class UsersService {
  constructor(
    @inject(TOKENS.UserRepository) private readonly users: UserRepository,
    @inject(TOKENS.PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(TOKENS.RulesEngine) private readonly rules: RulesEngine,
  ) {}

  async list(actor: Actor, query: UserListQuery): Promise<{ items: User[]; total: number }> {
    requirePermission(actor, 'users:list');
    return this.users.list(query);
  }

  async get(actor: Actor, id: string): Promise<User> {
    requireOnUser(actor, 'read', id);
    return toPublicUser(await this.mustFind(id));
  }

  async create(actor: Actor | 'system', input: CreateUserInput): Promise<User> {
    if (actor !== 'system') requirePermission(actor, 'users:create');
    await this.rules.check({
      operation: 'user.create',
      actorRole: actor === 'system' ? 'admin' : actor.role,
      emailDomain: emailDomain(input.email),
      ...passwordFacts(input.password, input.email),
    });
    const passwordHash = await this.hasher.hash(input.password);
    return this.users.create({
      email: input.email,
      name: input.name,
      passwordHash,
      role: input.role ?? 'user',
      status: input.status ?? 'active',
    });
  }

  // Full and partial updates both land here; a full update simply carries every field.
  async update(actor: Actor, id: string, expectedVersion: number, input: UpdateUserInput): Promise<User> {
    requireOnUser(actor, 'update', id);
    const current = await this.mustFind(id);
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
      facts.activeAdminCount = await this.users.countActiveAdmins();
    }
    await this.rules.check(facts);

    const changes: UserChanges = {};
    if (input.email !== undefined) changes.email = input.email;
    if (input.name !== undefined) changes.name = input.name;
    if (newRole !== undefined) changes.role = newRole;
    if (newStatus !== undefined) changes.status = newStatus;
    if (input.password !== undefined) changes.passwordHash = await this.hasher.hash(input.password);
    const updated = await this.users.update(id, expectedVersion, changes);
    if (!updated) throw await this.staleOrGone(id);
    return updated;
  }

  async delete(actor: Actor, id: string, expectedVersion?: number): Promise<void> {
    requirePermission(actor, 'users:delete:any');
    const current = await this.mustFind(id);
    const version = expectedVersion ?? current.version;
    if (current.version !== version) throw stale(current.version);
    if (current.role === 'admin' && current.status === 'active') {
      await this.rules.check({
        operation: 'user.delete',
        actorRole: actor.role,
        targetRole: current.role,
        removesActiveAdmin: true,
        activeAdminCount: await this.users.countActiveAdmins(),
      });
    }
    if (!(await this.users.delete(id, version))) throw await this.staleOrGone(id);
  }

  private async mustFind(id: string) {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundError(`user ${id} does not exist`);
    return user;
  }

  private async staleOrGone(id: string): Promise<Error> {
    const now = await this.users.findById(id);
    return now ? stale(now.version) : new NotFoundError(`user ${id} does not exist`);
  }
}

function stale(currentVersion: number): PreconditionFailedError {
  return new PreconditionFailedError('the user was changed by someone else; fetch it again and retry', {
    currentVersion,
  });
}
