// Use cases on users: RBAC first, then business rules, then the repository. Every write runs in a
// unit of work with the domain event it leaves behind (user.created/updated/deleted).
import { type Actor, requireOnUser, requirePermission } from '../rbac/permissions.js';
import { type RuleFacts, type RulesEngine, emailDomain, passwordFacts } from '../rules/rules.js';
import type { SessionRepository } from '../sessions/session.js';
import {
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  RuleViolationError,
} from '../shared/errors.js';
import type { Logger, PasswordHasher } from '../shared/ports.js';
import type { UnitOfWork } from '../shared/unit-of-work.js';
import {
  MAX_PASSWORD_BYTES,
  PASSWORD_BYTES_RULE,
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

export type UpdateUserInput = Partial<CreateUserInput> & {
  // Required when users change their own password.
  currentPassword?: string;
};

// Who is writing; the session is kept when the change ends the user's other sessions.
export type Writer = Actor & { sessionId?: string };

export class UsersService {
  constructor(
    // Reads of the read-only use cases (get, list); the adapter may serve them from a cache.
    private readonly users: UserRepository,
    private readonly work: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly rules: RulesEngine,
    // A password change, a disable, a role change and a delete end the user's sessions.
    private readonly sessions: SessionRepository,
    // Audit lines (an administrator setting someone else's password).
    private readonly log: Logger,
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
    assertPasswordFits(input.password);
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
  async update(actor: Writer, id: string, expectedVersion: number, input: UpdateUserInput): Promise<User> {
    requireOnUser(actor, 'update', id);
    if (input.password !== undefined) assertPasswordFits(input.password);
    const updated = await this.work.run(async ({ users, record }) => {
      const current = await mustFind(users, id);
      if (current.version !== expectedVersion) throw stale(current.version);
      if (input.password !== undefined && actor.id === id) {
        await this.requireCurrentPassword(users, current.email, input.currentPassword);
      }

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
      return { user: updated, endsSessions: sessionEndingReason(changes) };
    });
    if (input.password !== undefined && actor.id !== id) {
      this.log.warn('audit: password set by an administrator', { actorId: actor.id, userId: id });
    }
    if (updated.endsSessions) {
      // Their access tokens die with them: authentication checks the session on every request.
      await this.sessions.revokeAllOfUser(
        id,
        updated.endsSessions,
        actor.id === id ? actor.sessionId : undefined,
      );
    }
    return updated.user;
  }

  private async requireCurrentPassword(
    users: UserRepository,
    email: string,
    currentPassword: string | undefined,
  ): Promise<void> {
    if (currentPassword === undefined) {
      throw new ForbiddenError('changing your own password needs currentPassword, the password you have now');
    }
    const stored = await users.findByEmail(email);
    if (!stored || !(await this.hasher.verify(currentPassword, stored.passwordHash))) {
      throw new ForbiddenError('currentPassword is not your current password');
    }
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
    await this.sessions.revokeAllOfUser(id, 'account-deleted');
  }
}

function sessionEndingReason(changes: UserChanges): string | undefined {
  if (changes.passwordHash !== undefined) return 'password-changed';
  if (changes.status === 'disabled') return 'account-disabled';
  if (changes.role !== undefined) return 'role-changed';
  return undefined;
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

// Not a configurable rule (a rules file cannot replace it): the limit is bcrypt's, and the schema
// cannot state a length in bytes, so it is a 422 naming it like the rules.
function assertPasswordFits(password: string): void {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new RuleViolationError(
      PASSWORD_BYTES_RULE,
      `a password may have at most ${MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt reads no more)`,
    );
  }
}
