// The user as the domain sees it, and the port to store users.
export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];
export const STATUSES = ['active', 'disabled'] as const;
export type Status = (typeof STATUSES)[number];

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: Status;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

// bcrypt reads only the first 72 bytes of a password: a longer one would match any string sharing
// its first 72 bytes, so it is refused rather than silently truncated.
export const MAX_PASSWORD_BYTES = 72;
export const PASSWORD_BYTES_RULE = 'password-bytes';

export const SORTABLE_FIELDS = ['email', 'name', 'role', 'status', 'createdAt', 'updatedAt'] as const;
export type SortField = (typeof SORTABLE_FIELDS)[number];

export interface UserListQuery {
  limit: number;
  offset: number;
  sort: { field: SortField; direction: 'asc' | 'desc' }[];
  filter: { role?: Role; status?: Status; email?: string; nameContains?: string };
}

export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  status: Status;
}

export type UserChanges = Partial<
  Pick<UserWithSecret, 'email' | 'name' | 'passwordHash' | 'role' | 'status'>
>;

// The stream the users' domain events (user.created, user.updated, user.deleted) are published on;
// each names the user it is about.
export const USER_EVENTS_STREAM = 'users';
export interface UserEventPayload {
  id: string;
  version?: number;
}

export interface UserRepository {
  findById(id: string): Promise<User | null>;
  findByEmail(email: string): Promise<UserWithSecret | null>;
  list(query: UserListQuery): Promise<{ items: User[]; total: number }>;
  // Throws ConflictError when the e-mail is taken (case-insensitively).
  create(user: NewUser): Promise<User>;
  // Applies the change only when the stored version is expectedVersion; null when it was not.
  update(id: string, expectedVersion: number, changes: UserChanges): Promise<User | null>;
  delete(id: string, expectedVersion: number): Promise<boolean>;
  // Within a unit of work, holds the counted admins until it ends (the last-admin rule).
  countActiveAdmins(): Promise<number>;
  count(): Promise<number>;
}

export function toPublicUser(u: UserWithSecret | User): User {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    status: u.status,
    version: u.version,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}
