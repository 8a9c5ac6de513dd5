// Users API schemas: request validation and the OpenAPI document come from these.
import { z } from 'zod';
import {
  MAX_PASSWORD_BYTES,
  PASSWORD_BYTES_RULE,
  ROLES,
  SORTABLE_FIELDS,
  STATUSES,
} from '../../domain/users/user.js';

// Control characters (NUL among them, which PostgreSQL would store as the text \0) have no place
// in a name or an e-mail. The rules are patterns rather than refinements so that the OpenAPI
// document states them: \p{Cc} spelled out as ranges, and JavaScript's white space (what trim()
// removes) listed, as other regular expression dialects disagree on both.
const CONTROL = '\\x00-\\x1f\\x7f-\\x9f';
const SPACE = '\\s\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const NO_CONTROL = new RegExp(`^[^${CONTROL}]*$`);
const CONTROL_MESSAGE = 'must not contain control characters';
// Names are stored trimmed, otherwise as given: they are only ever returned as JSON, never rendered
// as HTML. The length bound is on the name as sent, which is what the document describes; the
// visible character it must contain keeps the trimmed name non-empty. (zod counts lengths in code
// points, as JSON Schema does.)
const name = z
  .string()
  .max(200)
  .regex(
    new RegExp(`^[^${CONTROL}]*[^${CONTROL}${SPACE}][^${CONTROL}]*$`),
    'must contain a visible character and no control characters',
  )
  .trim()
  .min(1);
// The pattern is the validation and is published as is in the OpenAPI document, so a generated
// client (or a fuzzer) produces only addresses this service accepts. It is zod's e-mail rule
// written without look-aheads, which many JSON Schema tools cannot read: dot-separated atoms of
// letters, digits and _'+- before the @, a dotted domain with a top-level label of 2+ letters.
export const EMAIL_PATTERN =
  /^[A-Za-z0-9_'+-]+(\.[A-Za-z0-9_'+-]+)*@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;
export const email = z
  .string()
  .max(320)
  .regex(EMAIL_PATTERN, 'Invalid email address')
  .meta({ description: 'an e-mail address', example: 'ada@example.com' });
// Decimal digits only: Number() would also read 0x10, 1e1 and ' 5'.
// The document states the range the pipe enforces (a query value is a string on the wire, which an
// integer parameter is serialised to).
const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, 'a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max });
// The minimum is the password policy's length (PASSWORD_MIN_LENGTH), so the schema states it. A
// password of more than 72 characters is invalid; one of more than 72 bytes (fewer characters of
// more than one byte each) is a 422 password-bytes, since a schema cannot count bytes; the policy's
// other parts (character classes, not containing the e-mail name) are the rule password-policy.
const passwordOf = (minLength: number) =>
  z
    .string()
    .min(minLength)
    .max(MAX_PASSWORD_BYTES)
    .meta({
      description: `at least ${minLength} characters, at most ${MAX_PASSWORD_BYTES} bytes in UTF-8 (else 422 ${PASSWORD_BYTES_RULE}), from 3 of: lower case, upper case, digits, symbols, not containing the e-mail name (else 422 password-policy)`,
    });

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

// What a PATCH changes; it must name one at least (version and currentPassword change nothing).
const CHANGEABLE = ['email', 'name', 'role', 'status', 'password'] as const;

export interface UserBodyOptions {
  passwordMinLength: number;
}

// The write bodies depend on the configured password policy; the app builds them once and hands the
// same objects to the routes and to the OpenAPI document. (zod's registry allows an id on each
// app's own copy.)
export function userBodies({ passwordMinLength }: UserBodyOptions) {
  const password = passwordOf(passwordMinLength);
  const CreateUserBody = z
    .object({ email, name, password, role: z.enum(ROLES).optional(), status: z.enum(STATUSES).optional() })
    .strict()
    .meta({ id: 'CreateUser' });
  const ReplaceUserBody = z
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
  const PatchUserBody = z
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
    .refine((b) => CHANGEABLE.some((k) => b[k] !== undefined), 'at least one field to change')
    // The same rule, for the document: JSON Schema's way of saying "one of these keys at least".
    .meta({ id: 'PatchUser', anyOf: CHANGEABLE.map((k) => ({ required: [k] })) });
  return { CreateUserBody, ReplaceUserBody, PatchUserBody };
}
export type UserBodies = ReturnType<typeof userBodies>;

// If-Match as this API writes ETags ("3", or weak W/"3"), or the bare version (3), which clients
// that drop the quotes send (schemathesis among them); anything else is a 400. [0-9], not \d: the
// pattern is published, and other regular expression dialects read \d as any Unicode digit.
export const IF_MATCH_PATTERN = /^(?:W\/)?(?:"([0-9]+)"|([0-9]+))$/;
export const IfMatchHeaders = z.object({
  'If-Match': z
    .string()
    .regex(IF_MATCH_PATTERN)
    .optional()
    .meta({ description: 'the ETag from GET, e.g. "3" (3 is read the same)' }),
});

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
      .regex(NO_CONTROL, CONTROL_MESSAGE)
      .optional()
      .meta({ description: 'exact match, case-insensitive' }),
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(NO_CONTROL, CONTROL_MESSAGE)
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
