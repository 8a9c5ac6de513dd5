import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { UnauthorizedError } from '../../src/domain/shared/errors.js';
import { JwtTokenService } from '../../src/infrastructure/security/jwt-token-service.js';
import { BcryptPasswordHasher } from '../../src/infrastructure/security/bcrypt-hasher.js';

const secret = 'unit-secret-unit-secret-unit-secret-42';
let now = new Date('2030-01-01T00:00:00Z');
const clock = { now: () => now };
const tokens = new JwtTokenService(
  {
    secret,
    issuer: 'iss',
    audience: 'aud',
    accessTtlSeconds: 900,
    refreshTtlSeconds: 604_800,
    deviceTtlSeconds: 2_592_000,
  },
  clock,
);

describe('JwtTokenService', () => {
  it('signs and verifies access and refresh tokens with their own purposes', () => {
    const access = tokens.signAccess({ sub: 'u1', sid: 's1', role: 'admin' });
    expect(tokens.verifyAccess(access.token)).toMatchObject({
      sub: 'u1',
      sid: 's1',
      role: 'admin',
      jti: access.jti,
    });
    expect(access.expiresAt.toISOString()).toBe('2030-01-01T00:15:00.000Z');
    const refresh = tokens.signRefresh({ sub: 'u1', sid: 's1' });
    expect(tokens.verifyRefresh(refresh.token)).toMatchObject({ sub: 'u1', sid: 's1', jti: refresh.jti });
    expect(() => tokens.verifyRefresh(access.token)).toThrow('not a valid refresh token');
    expect(() => tokens.verifyAccess(refresh.token)).toThrow('not a valid access token');
    expect(jwt.decode(access.token, { complete: true })?.header.alg).toBe('HS256');
  });

  it('rejects expired, foreign, unsigned and malformed tokens', () => {
    const access = tokens.signAccess({ sub: 'u1', sid: 's1', role: 'user' });
    now = new Date(now.getTime() + 16 * 60_000);
    expect(() => tokens.verifyAccess(access.token)).toThrow('the token has expired');
    now = new Date('2030-01-01T00:00:00Z');
    const iat = Math.floor(now.getTime() / 1000);
    const foreign = jwt.sign({ typ: 'access', sid: 's', role: 'admin', iat }, secret, {
      audience: 'other',
      issuer: 'iss',
      subject: 'u',
      jwtid: 'j',
      expiresIn: 60,
    });
    expect(() => tokens.verifyAccess(foreign)).toThrow(UnauthorizedError);
    const badRole = jwt.sign({ typ: 'access', sid: 's', role: 'root', iat }, secret, {
      audience: 'aud',
      issuer: 'iss',
      subject: 'u',
      jwtid: 'j',
      expiresIn: 60,
    });
    expect(() => tokens.verifyAccess(badRole)).toThrow('the token is invalid');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${access.token.split('.')[1]}.`;
    expect(() => tokens.verifyAccess(none)).toThrow('the token is invalid');
    expect(() => tokens.verifyAccess('garbage')).toThrow('the token is invalid');
  });
});

describe('BcryptPasswordHasher', () => {
  it('verifies the right password only', async () => {
    const hasher = new BcryptPasswordHasher(4);
    const hash = await hasher.hash('Correct-Horse-9');
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await hasher.verify('Correct-Horse-9', hash)).toBe(true);
    expect(await hasher.verify('correct-horse-9', hash)).toBe(false);
  });
});
