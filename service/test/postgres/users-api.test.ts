import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN, dialects, startService, type TestService } from '../support/harness.js';

interface UserBody {
  id: string;
  email: string;
  name: string;
  role: string;
  status: string;
  version: number;
}
interface ListBody {
  items: UserBody[];
  total: number;
  links: Record<string, string>;
}

describe.each(dialects)('users API on %s', (dialect) => {
  let s: TestService;
  let admin: string;

  beforeAll(async () => {
    s = await startService(dialect, { EMAIL_DOMAIN_ALLOWLIST: 'example.test,example.org' });
    admin = await s.login();
  });
  afterAll(async () => s.stop());

  const create = (email: string, extra: Record<string, unknown> = {}) =>
    s.request<UserBody>('POST', '/api/v1/users', {
      token: admin,
      body: { email, name: email.split('@')[0], password: 'Correct-Horse-9', ...extra },
    });

  it('creates, reads, replaces, patches and deletes a user with ETags', async () => {
    const created = await create('Carol@Example.test');
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.headers.get('location')).toBe(`/api/v1/users/${created.body.id}`);
    expect(created.body).toMatchObject({
      email: 'Carol@Example.test',
      role: 'user',
      status: 'active',
      version: 1,
    });
    expect(created.body).not.toHaveProperty('passwordHash');

    const got = await s.request<UserBody>('GET', `/api/v1/users/${created.body.id}`, { token: admin });
    expect(got.status).toBe(200);
    expect(got.body.email).toBe('Carol@Example.test');

    const put = await s.request<UserBody>('PUT', `/api/v1/users/${created.body.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { email: 'carol@example.org', name: 'Carol C', role: 'user', status: 'active' },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toMatchObject({ email: 'carol@example.org', name: 'Carol C', version: 2 });

    const patch = await s.request<UserBody>('PATCH', `/api/v1/users/${created.body.id}`, {
      token: admin,
      body: { name: 'Caroline', version: 2 },
    });
    expect(patch.status).toBe(200);
    expect(patch.body.version).toBe(3);

    const stale = await s.request('PATCH', `/api/v1/users/${created.body.id}`, {
      token: admin,
      headers: { 'if-match': '"2"' },
      body: { name: 'Too late' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ currentVersion: 3 });

    const noVersion = await s.request('PATCH', `/api/v1/users/${created.body.id}`, {
      token: admin,
      body: { name: 'x' },
    });
    expect(noVersion.status).toBe(428);
    // An If-Match and a body version that disagree cannot both be current.
    const disagree = await s.request('PATCH', `/api/v1/users/${created.body.id}`, {
      token: admin,
      headers: { 'if-match': '"3"' },
      body: { name: 'x', version: 2 },
    });
    expect(disagree.status).toBe(412);

    const staleDelete = await s.request('DELETE', `/api/v1/users/${created.body.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
    });
    expect(staleDelete.status).toBe(412);
    // The bare version is read as its ETag.
    const del = await s.request('DELETE', `/api/v1/users/${created.body.id}`, {
      token: admin,
      headers: { 'if-match': '3' },
    });
    expect(del.status).toBe(204);
    expect((await s.request('GET', `/api/v1/users/${created.body.id}`, { token: admin })).status).toBe(404);
    expect((await s.request('DELETE', `/api/v1/users/${created.body.id}`, { token: admin })).status).toBe(
      404,
    );
  });

  it('rejects a duplicate e-mail whatever its case, and a password change is effective', async () => {
    const first = await create('dave@example.test');
    expect(first.status).toBe(201);
    const dup = await create('DAVE@example.TEST');
    expect(dup.status).toBe(409);
    const other = await create('dave2@example.test');
    const clash = await s.request('PATCH', `/api/v1/users/${other.body.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { email: 'Dave@example.test' },
    });
    expect(clash.status).toBe(409);
    const pw = await s.request('PATCH', `/api/v1/users/${first.body.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { password: 'Another-Pass-42' },
    });
    expect(pw.status).toBe(200);
    await expect(s.login('dave@example.test', 'Another-Pass-42')).resolves.toEqual(expect.any(String));
  });

  it('lists with pagination, filters, sorting and links', async () => {
    for (const n of ['pag-a', 'pag-b', 'pag-c', 'pag-d', 'pag-e']) {
      expect((await create(`${n}@example.test`, { name: `Pager ${n}` })).status).toBe(201);
    }
    const page1 = await s.request<ListBody>('GET', '/api/v1/users?name=pager&sort=-email&limit=2', {
      token: admin,
    });
    expect(page1.status).toBe(200);
    expect(page1.body.total).toBe(5);
    expect(page1.body.items.map((u) => u.email)).toEqual(['pag-e@example.test', 'pag-d@example.test']);
    expect(page1.body.links.next).toBe('/api/v1/users?sort=-email&name=pager&limit=2&offset=2');
    expect(page1.body.links.last).toBe('/api/v1/users?sort=-email&name=pager&limit=2&offset=4');
    expect(page1.body.links.prev).toBeUndefined();
    const page3 = await s.request<ListBody>('GET', page1.body.links.last as string, { token: admin });
    expect(page3.body.items.map((u) => u.email)).toEqual(['pag-a@example.test']);
    expect(page3.body.links.next).toBeUndefined();
    expect(page3.body.links.prev).toBe('/api/v1/users?sort=-email&name=pager&limit=2&offset=2');

    const admins = await s.request<ListBody>('GET', '/api/v1/users?role=admin', { token: admin });
    expect(admins.body.items.map((u) => u.email)).toEqual([ADMIN.email]);
    const byEmail = await s.request<ListBody>('GET', '/api/v1/users?email=PAG-C@EXAMPLE.TEST', {
      token: admin,
    });
    expect(byEmail.body.items).toHaveLength(1);
    const wildcard = await s.request<ListBody>('GET', '/api/v1/users?name=%25', { token: admin });
    expect(wildcard.body.total).toBe(0);
  });

  it('enforces RBAC: a user sees and edits only themselves and cannot change a role or status', async () => {
    const eve = await create('eve@example.test');
    const frank = await create('frank@example.test');
    const token = await s.login('eve@example.test', 'Correct-Horse-9');
    expect((await s.request('GET', `/api/v1/users/${eve.body.id}`, { token })).status).toBe(200);
    expect((await s.request('GET', `/api/v1/users/${frank.body.id}`, { token })).status).toBe(403);
    expect((await s.request('GET', '/api/v1/users', { token })).status).toBe(403);
    expect(
      (
        await s.request('POST', '/api/v1/users', {
          token,
          body: { email: 'x@example.test', name: 'x', password: 'Correct-Horse-9' },
        })
      ).status,
    ).toBe(403);
    expect((await s.request('DELETE', `/api/v1/users/${eve.body.id}`, { token })).status).toBe(403);
    const other = await s.request('PATCH', `/api/v1/users/${frank.body.id}`, {
      token,
      headers: { 'if-match': '"1"' },
      body: { name: 'hacked' },
    });
    expect(other.status).toBe(403);

    const self = await s.request<UserBody>('PATCH', `/api/v1/users/${eve.body.id}`, {
      token,
      headers: { 'if-match': '"1"' },
      body: { name: 'Eve E' },
    });
    expect(self.status).toBe(200);
    const raise = await s.request('PATCH', `/api/v1/users/${eve.body.id}`, {
      token,
      headers: { 'if-match': '"2"' },
      body: { role: 'admin' },
    });
    expect(raise.status).toBe(422);
    expect(raise.body).toMatchObject({ rule: 'role-change-by-admin-only' });
    const sameRole = await s.request('PATCH', `/api/v1/users/${eve.body.id}`, {
      token,
      headers: { 'if-match': '"2"' },
      body: { role: 'user', name: 'Eve' },
    });
    expect(sameRole.status).toBe(200);

    // A role change ends the user's sessions; the next login carries the new role.
    await s.request('PATCH', `/api/v1/users/${eve.body.id}`, {
      token: admin,
      headers: { 'if-match': '"3"' },
      body: { role: 'admin' },
    });
    expect((await s.request('GET', '/api/v1/users', { token })).status).toBe(401);
    const promoted = await s.login('eve@example.test', 'Correct-Horse-9');
    expect((await s.request('GET', '/api/v1/users', { token: promoted })).status).toBe(200);
    // A disabled user is locked out at once.
    await s.request('PATCH', `/api/v1/users/${eve.body.id}`, {
      token: admin,
      headers: { 'if-match': '"4"' },
      body: { status: 'disabled' },
    });
    expect((await s.request('GET', `/api/v1/users/${eve.body.id}`, { token: promoted })).status).toBe(401);
  });

  it('counts lengths in characters, as the OpenAPI document does: an emoji is one', async () => {
    // 200 emoji are 400 UTF-16 code units, and 200 characters in JSON Schema and in PostgreSQL.
    const name = '\u{1F642}'.repeat(200);
    const ok = await create('emoji@example.test', { name });
    expect([ok.status, ok.body.name]).toEqual([201, name]);
    expect((await create('emoji2@example.test', { name: `${name}x` })).status).toBe(400);
  });

  it('applies business rules as 422 naming the rule', async () => {
    // The policy's length is in the schema (and the OpenAPI document): a short password is invalid.
    const short = await create('short@example.test', { password: 'Sh0rt-pw' });
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ type: 'https://platform.sqlize.dev/problems/validation-error' });
    expect(JSON.stringify(short.body)).toContain('body.password');
    const weak = await create('weak@example.test', { password: 'alllowercase' });
    expect(weak.status).toBe(422);
    expect(weak.body).toMatchObject({
      rule: 'password-policy',
      type: 'https://platform.sqlize.dev/problems/rule-violation',
    });
    expect((await create('classes@example.test', { password: 'alllowercaseletters' })).body).toMatchObject({
      rule: 'password-policy',
    });
    expect((await create('mallory@example.test', { password: 'Mallory-is-here-1' })).body).toMatchObject({
      rule: 'password-policy',
    });
    const domain = await create('gina@elsewhere.com');
    expect(domain.status).toBe(422);
    expect(domain.body).toMatchObject({ rule: 'email-domain-allowlist' });

    const me = await s.request<UserBody>('GET', '/api/v1/auth/me', { token: admin });
    const demote = await s.request('PATCH', `/api/v1/users/${me.body.id}`, {
      token: admin,
      headers: { etag: '', 'if-match': `"${me.body.version}"` },
      body: { role: 'user' },
    });
    expect(demote.status).toBe(422);
    expect(demote.body).toMatchObject({ rule: 'last-admin' });
    const disable = await s.request('PATCH', `/api/v1/users/${me.body.id}`, {
      token: admin,
      headers: { 'if-match': `"${me.body.version}"` },
      body: { status: 'disabled' },
    });
    expect(disable.body).toMatchObject({ rule: 'last-admin' });
    const remove = await s.request('DELETE', `/api/v1/users/${me.body.id}`, { token: admin });
    expect(remove.status).toBe(422);
    expect(remove.body).toMatchObject({ rule: 'last-admin' });
  });

  it('stores markup in names as given and only ever returns it as JSON', async () => {
    const name = '<img src=x onerror=alert(1)> & "quotes"';
    const created = await create('markup@example.test', { name });
    expect(created.status).toBe(201);
    const got = await s.request<UserBody>('GET', `/api/v1/users/${created.body.id}`, { token: admin });
    expect(got.body.name).toBe(name);
    expect(got.headers.get('content-type')).toMatch(/^application\/json/);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('lets exactly one of two updates based on the same version win', async () => {
    const u = await create('race@example.test');
    const attempts = await Promise.all(
      ['one', 'two', 'three', 'four'].map((name) =>
        s.request('PATCH', `/api/v1/users/${u.body.id}`, {
          token: admin,
          headers: { 'if-match': '"1"' },
          body: { name },
        }),
      ),
    );
    const statuses = attempts.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 412, 412, 412]);
    const final = await s.request<UserBody>('GET', `/api/v1/users/${u.body.id}`, { token: admin });
    expect(final.body.version).toBe(2);
  });
});
