// Users API schemas: request validation and the OpenAPI document come from these.
import { z } from 'zod';
import { MAX_PASSWORD_BYTES, ROLES, SORTABLE_FIELDS, STATUSES } from '../../domain/users/user.js';

// Control characters (NUL among them, which PostgreSQL would store as the text \0) have no place
// in a name or an e-mail.
const noControlCharacters = (s: string) => !/\p{Cc}/u.test(s);
const CONTROL_MESSAGE = 'must not contain control characters';
// Names are stored as given; they are only ever returned as JSON, never rendered as HTML.
const name = z.string().trim().min(1).max(200).refine(noControlCharacters, CONTROL_MESSAGE);
const email = z.email().max(320).refine(noControlCharacters, CONTROL_MESSAGE);
// Decimal digits only: Number() would also read 0x10, 1e1 and ' 5'.
const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, 'a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
// A password of more than 72 characters is invalid; one of more than 72 bytes (fewer characters of
// more than one byte each) is the users service's 422 password-bytes, since a schema cannot count
// bytes.
const password = z.string().max(MAX_PASSWORD_BYTES);

// Proves a password change is made by the user, not just by someone holding their access token.
const currentPassword = z
  .string()
  .min(1)
  .max(1024)
  .optional()
  .meta({ description: 'required to change your own password' });

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    status: z.enum(STATUSES),
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const CreateUserBody = z
  .object({ email, name, password, role: z.enum(ROLES).optional(), status: z.enum(STATUSES).optional() })
  .strict()
  .meta({ id: 'CreateUser' });

export const ReplaceUserBody = z
  .object({
    email,
    name,
    role: z.enum(ROLES),
    status: z.enum(STATUSES),
    password: password.optional(),
    currentPassword,
    version: z.number().int().min(1).optional().meta({ description: 'instead of If-Match' }),
  })
  .strict()
  .meta({ id: 'ReplaceUser' });

export const PatchUserBody = z
  .object({
    email: email.optional(),
    name: name.optional(),
    role: z.enum(ROLES).optional(),
    status: z.enum(STATUSES).optional(),
    password: password.optional(),
    currentPassword,
    version: z.number().int().min(1).optional().meta({ description: 'instead of If-Match' }),
  })
  .strict()
  .refine(
    (b) => Object.keys(b).some((k) => k !== 'version' && k !== 'currentPassword'),
    'at least one field to change',
  )
  .meta({ id: 'PatchUser' });

export const MAX_LIMIT = 100;
export const MAX_OFFSET = 1_000_000;
const sortPattern = new RegExp(`^-?(${SORTABLE_FIELDS.join('|')})(,-?(${SORTABLE_FIELDS.join('|')}))*$`);

export const ListUsersQuery = z
  .object({
    limit: decimal(1, MAX_LIMIT).default(20),
    offset: decimal(0, MAX_OFFSET).default(0),
    sort: z
      .string()
      .regex(
        sortPattern,
        `comma-separated fields from ${SORTABLE_FIELDS.join(', ')}, each optionally prefixed by -`,
      )
      .default('createdAt')
      .meta({ example: '-createdAt,email' }),
    role: z.enum(ROLES).optional(),
    status: z.enum(STATUSES).optional(),
    email: z
      .string()
      .max(320)
      .refine(noControlCharacters, CONTROL_MESSAGE)
      .optional()
      .meta({ description: 'exact match, case-insensitive' }),
    name: z
      .string()
      .min(1)
      .max(200)
      .refine(noControlCharacters, CONTROL_MESSAGE)
      .optional()
      .meta({ description: 'substring, case-insensitive' }),
  })
  .strict();

export const UserListSchema = z
  .object({
    items: z.array(UserSchema),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    links: z.object({
      self: z.string(),
      first: z.string(),
      last: z.string(),
      next: z.string().optional(),
      prev: z.string().optional(),
    }),
  })
  .meta({ id: 'UserList' });
