// Business rules evaluated before domain operations, with json-rules-engine.
// Built-in rules take their parameters from configuration; a rules file may add rules or
// replace a built-in one by name.
import fs from 'node:fs';
import { Engine, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import { z } from 'zod';
import { RuleViolationError } from '../shared/errors.js';

export type Operation = 'user.create' | 'user.update' | 'user.delete';

// Everything a rule may look at; absent facts are undefined (the engine allows that).
export interface RuleFacts {
  operation: Operation;
  actorRole?: string;
  passwordLength?: number;
  passwordCharacterClasses?: number;
  passwordContainsEmailName?: boolean;
  emailDomain?: string;
  targetRole?: string;
  // Present only when the operation changes them.
  newRole?: string;
  newStatus?: string;
  removesActiveAdmin?: boolean;
  activeAdminCount?: number;
}

export interface RulesOptions {
  passwordMinLength: number;
  emailDomainAllowlist: string[];
  file?: string;
}

export interface RuleDefinition {
  name: string;
  conditions: TopLevelCondition;
  message: string;
  priority?: number;
}

export function builtInRules(options: RulesOptions): RuleDefinition[] {
  const rules: RuleDefinition[] = [
    {
      name: 'password-policy',
      message: `a password needs at least ${options.passwordMinLength} characters from at least 3 of: lower case, upper case, digits, symbols; and must not contain the e-mail name`,
      conditions: {
        any: [
          { fact: 'passwordLength', operator: 'lessThan', value: options.passwordMinLength },
          { fact: 'passwordCharacterClasses', operator: 'lessThan', value: 3 },
          { fact: 'passwordContainsEmailName', operator: 'equal', value: true },
        ],
      },
    },
    {
      name: 'last-admin',
      message: 'the last active admin cannot be demoted, disabled or deleted',
      conditions: {
        all: [
          { fact: 'removesActiveAdmin', operator: 'equal', value: true },
          { fact: 'activeAdminCount', operator: 'lessThanInclusive', value: 1 },
        ],
      },
    },
    {
      name: 'role-change-by-admin-only',
      message: 'only an admin may change a role or a status',
      conditions: {
        all: [
          {
            any: [
              { fact: 'newRole', operator: 'in', value: ['admin', 'user'] },
              { fact: 'newStatus', operator: 'in', value: ['active', 'disabled'] },
            ],
          },
          { fact: 'actorRole', operator: 'notEqual', value: 'admin' },
        ],
      },
    },
  ];
  if (options.emailDomainAllowlist.length > 0) {
    rules.push({
      name: 'email-domain-allowlist',
      message: `the e-mail domain must be one of: ${options.emailDomainAllowlist.join(', ')}`,
      conditions: {
        all: [
          { fact: 'emailDomain', operator: 'notEqual', value: undefined },
          { fact: 'emailDomain', operator: 'notIn', value: options.emailDomainAllowlist },
        ],
      },
    });
  }
  return rules;
}

const conditionSchema: z.ZodType<TopLevelCondition> = z.custom<TopLevelCondition>(
  (v) => typeof v === 'object' && v !== null && ('all' in v || 'any' in v || 'not' in v || 'condition' in v),
  'conditions must be an object with all, any, not or condition',
);
const ruleFileSchema = z.array(
  z.object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
    message: z.string().min(1),
    conditions: conditionSchema,
    priority: z.number().int().min(1).optional(),
  }),
);

export function loadRules(options: RulesOptions): RuleDefinition[] {
  const byName = new Map(builtInRules(options).map((r) => [r.name, r]));
  if (options.file) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(options.file, 'utf8'));
    } catch (err) {
      throw new Error(`RULES_FILE ${options.file}: ${(err as Error).message}`, { cause: err });
    }
    const parsed = ruleFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `RULES_FILE ${options.file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    for (const rule of parsed.data) byName.set(rule.name, rule);
  }
  return [...byName.values()];
}

export class RulesEngine {
  private readonly engine: Engine;

  constructor(rules: RuleDefinition[]) {
    this.engine = new Engine([], { allowUndefinedFacts: true });
    for (const rule of rules) {
      const props: RuleProperties = {
        name: rule.name,
        conditions: rule.conditions,
        priority: rule.priority ?? 1,
        event: { type: 'violation', params: { rule: rule.name, message: rule.message } },
      };
      this.engine.addRule(props);
    }
  }

  // Resolves when no rule fires; otherwise throws a RuleViolationError naming the first rule.
  async check(facts: RuleFacts): Promise<void> {
    const { events } = await this.engine.run({ ...facts });
    const first = events[0];
    if (first) {
      const params = first.params as { rule: string; message: string };
      throw new RuleViolationError(params.rule, params.message);
    }
  }
}

export function passwordFacts(password: string, email?: string): Partial<RuleFacts> {
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^a-zA-Z\d]/].filter((re) => re.test(password)).length;
  const local = email?.split('@')[0]?.toLowerCase();
  return {
    passwordLength: [...password].length,
    passwordCharacterClasses: classes,
    passwordContainsEmailName:
      local !== undefined && local.length >= 3 && password.toLowerCase().includes(local),
  };
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}
