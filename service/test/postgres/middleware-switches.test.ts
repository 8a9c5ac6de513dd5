import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type TestService } from '../support/harness.js';

// make bench measures what each middleware costs by switching it off; the switch must really remove it.
describe('HTTP_DISABLED_MIDDLEWARE (SQLite)', () => {
  let s: TestService;

  beforeAll(async () => {
    s = await startService('sqlite', { HTTP_DISABLED_MIDDLEWARE: 'helmet,request-id' });
  });
  afterAll(async () => s.stop());

  it('answers without helmet headers and without a request id, and still serves', async () => {
    const res = await s.request('GET', '/live');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('x-request-id')).toBeNull();
  });
});
