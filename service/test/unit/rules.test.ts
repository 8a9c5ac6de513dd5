import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { RulesEngine, builtInRules, loadRules, passwordFacts } from '../../src/domain/rules/rules.js';
import { type RuleViolationError } from '../../src/domain/shared/errors.js';

const options = { passwordMinLength: 12, emailDomainAllowlist: ['example.com'] };
const engine = new RulesEngine(builtInRules(options));

async function violated(facts: Parameters<RulesEngine['check']>[0]): Promise<string | undefined> {
  try {
    await engine.check(facts);
    return undefined;
  } catch (err) {
    return (err as RuleViolationError).rule;
  }
}

describe('business rules', () => {
  it('password policy: length, character classes, no e-mail name', async () => {
    expect(await violated({ operation: 'user.create', ...passwordFacts('Sh0rt!', 'a@example.com') })).toBe(
      'password-policy',
    );
    expect(
      await violated({ operation: 'user.create', ...passwordFacts('onlylowercaseletters', 'a@example.com') }),
    ).toBe('password-policy');
    expect(
      await violated({
        operation: 'user.create',
        ...passwordFacts('Johnny-Be-Good-1', 'johnny@example.com'),
      }),
    ).toBe('password-policy');
    expect(
      await violated({ operation: 'user.create', ...passwordFacts('Correct-Horse-9', 'al@example.com') }),
    ).toBeUndefined();
    expect(passwordFacts('Ünïcödé-Pass1')).toMatchObject({ passwordLength: 13, passwordCharacterClasses: 4 });
  });

  it('e-mail domain allow-list applies only when an e-mail is set', async () => {
    expect(await violated({ operation: 'user.create', emailDomain: 'evil.com' })).toBe(
      'email-domain-allowlist',
    );
    expect(await violated({ operation: 'user.create', emailDomain: 'example.com' })).toBeUndefined();
    expect(await violated({ operation: 'user.update' })).toBeUndefined();
    expect(builtInRules({ ...options, emailDomainAllowlist: [] }).map((r) => r.name)).not.toContain(
      'email-domain-allowlist',
    );
  });

  it('only an admin changes roles or statuses, and never removes the last active admin', async () => {
    expect(await violated({ operation: 'user.update', actorRole: 'user', newRole: 'admin' })).toBe(
      'role-change-by-admin-only',
    );
    expect(await violated({ operation: 'user.update', actorRole: 'user', newStatus: 'disabled' })).toBe(
      'role-change-by-admin-only',
    );
    expect(
      await violated({ operation: 'user.update', actorRole: 'admin', newRole: 'admin' }),
    ).toBeUndefined();
    expect(
      await violated({
        operation: 'user.delete',
        actorRole: 'admin',
        removesActiveAdmin: true,
        activeAdminCount: 1,
      }),
    ).toBe('last-admin');
    expect(
      await violated({
        operation: 'user.delete',
        actorRole: 'admin',
        removesActiveAdmin: true,
        activeAdminCount: 2,
      }),
    ).toBeUndefined();
  });

  it('loads extra rules and replacements from a rules file, and reports a bad file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-'));
    try {
      const file = path.join(dir, 'rules.json');
      fs.writeFileSync(
        file,
        JSON.stringify([
          {
            name: 'password-policy',
            message: 'at least 20',
            conditions: { any: [{ fact: 'passwordLength', operator: 'lessThan', value: 20 }] },
          },
          {
            name: 'no-test-domain',
            message: 'no test domains',
            conditions: { all: [{ fact: 'emailDomain', operator: 'equal', value: 'test.invalid' }] },
          },
        ]),
      );
      const custom = new RulesEngine(loadRules({ ...options, emailDomainAllowlist: [], file }));
      await expect(
        custom.check({ operation: 'user.create', ...passwordFacts('Correct-Horse-9') }),
      ).rejects.toThrow('at least 20');
      await expect(
        custom.check({ operation: 'user.create', emailDomain: 'test.invalid' }),
      ).rejects.toMatchObject({ rule: 'no-test-domain' });
      await expect(
        custom.check({ operation: 'user.create', ...passwordFacts('a-very-long-password-indeed') }),
      ).resolves.toBeUndefined();

      fs.writeFileSync(file, JSON.stringify([{ name: 'Bad Name', message: '', conditions: {} }]));
      expect(() => loadRules({ ...options, file })).toThrow(/RULES_FILE .*0\.name/);
      fs.writeFileSync(file, '{not json');
      expect(() => loadRules({ ...options, file })).toThrow(/RULES_FILE/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
