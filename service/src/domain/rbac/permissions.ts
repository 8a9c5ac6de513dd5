// Roles map to permissions (who may change a role is a business rule, see domain/rules); "own" permissions apply only when the actor is the target.
import type { Role } from '../users/user.js';
import { ForbiddenError } from '../shared/errors.js';

export type Permission =
  | 'users:list'
  | 'users:create'
  | 'users:read:any'
  | 'users:read:own'
  | 'users:update:any'
  | 'users:update:own'
  | 'users:delete:any'
  // The users' domain events: every user's, or only those about oneself.
  | 'users:events:any'
  | 'users:events:own';

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: [
    'users:list',
    'users:create',
    'users:read:any',
    'users:read:own',
    'users:update:any',
    'users:update:own',
    'users:delete:any',
    'users:events:any',
    'users:events:own',
  ],
  user: ['users:read:own', 'users:update:own', 'users:events:own'],
};

export interface Actor {
  id: string;
  role: Role;
}

export function can(actor: Actor, permission: Permission): boolean {
  return ROLE_PERMISSIONS[actor.role].includes(permission);
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) throw new ForbiddenError(`missing permission ${permission}`);
}

// Reading or editing another user needs the :any permission; oneself needs at least :own.
export function requireOnUser(actor: Actor, action: 'read' | 'update', targetId: string): void {
  if (can(actor, `users:${action}:any`)) return;
  if (actor.id === targetId && can(actor, `users:${action}:own`)) return;
  throw new ForbiddenError(`you may not ${action} this user`);
}
