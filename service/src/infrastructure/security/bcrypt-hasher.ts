// PasswordHasher with bcrypt at the configured cost.
import bcrypt from 'bcrypt';
import type { PasswordHasher } from '../../domain/shared/ports.js';

export class BcryptPasswordHasher implements PasswordHasher {
  constructor(private readonly cost: number) {}

  hash(plain: string): Promise<string> {
    return bcrypt.hash(plain, this.cost);
  }

  verify(plain: string, hash: string): Promise<boolean> {
    return bcrypt.compare(plain, hash);
  }
}
