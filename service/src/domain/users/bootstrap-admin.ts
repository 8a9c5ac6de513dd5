// First start: with no user at all, create the admin from ADMIN_EMAIL/ADMIN_PASSWORD, or with a
// generated password that is shown exactly once.
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../shared/errors.js';
import type { UserRepository } from './user.js';
import type { UsersService } from './users.service.js';

export interface BootstrapResult {
  email: string;
  generatedPassword?: string;
}

export async function ensureBootstrapAdmin(
  repo: UserRepository,
  users: UsersService,
  admin: { email: string; password?: string; name: string },
): Promise<BootstrapResult | undefined> {
  if ((await repo.count()) > 0) return undefined;
  // The suffix guarantees upper, lower, digit and symbol for the password policy.
  const generated = admin.password ? undefined : `${randomBytes(18).toString('base64url')}-Aa1`;
  try {
    await users.create('system', {
      email: admin.email,
      name: admin.name,
      password: admin.password ?? (generated as string),
      role: 'admin',
      status: 'active',
    });
  } catch (err) {
    // Another replica created it at the same moment.
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
  return { email: admin.email, generatedPassword: generated };
}
