// PasswordHasher with bcrypt at the configured cost.
import bcrypt from 'bcrypt';
import { ServiceUnavailableError } from '../../domain/shared/errors.js';
import type { PasswordHasher, VerificationLane } from '../../domain/shared/ports.js';

// bcrypt reads only the first 72 bytes of its input: anything longer would be silently truncated.
export const BCRYPT_MAX_BYTES = 72;

export class BcryptPasswordHasher implements PasswordHasher {
  private readonly inFlight: Record<VerificationLane, number> = { anyone: 0, 'known-device': 0 };

  constructor(
    private readonly cost: number,
    // Verifications run on libuv's thread pool; past this many at once in a lane a new one is
    // refused at once instead of queueing behind the others (so a flood cannot make a real login
    // wait). Each lane has this bound.
    private readonly maxConcurrentVerifications = Number.POSITIVE_INFINITY,
  ) {}

  hash(plain: string): Promise<string> {
    if (Buffer.byteLength(plain, 'utf8') > BCRYPT_MAX_BYTES) {
      return Promise.reject(new RangeError(`a password is at most ${BCRYPT_MAX_BYTES} bytes`));
    }
    return bcrypt.hash(plain, this.cost);
  }

  assertCapacity(lane: VerificationLane = 'anyone'): void {
    if (this.inFlight[lane] >= this.maxConcurrentVerifications) {
      throw new ServiceUnavailableError('too many logins are being checked right now; retry shortly', 1);
    }
  }

  async verify(plain: string, hash: string, lane: VerificationLane = 'anyone'): Promise<boolean> {
    this.assertCapacity(lane);
    this.inFlight[lane] += 1;
    try {
      const matches = await bcrypt.compare(plain, hash);
      // A longer string shares its first 72 bytes with the password that was set; it is not that password.
      return matches && Buffer.byteLength(plain, 'utf8') <= BCRYPT_MAX_BYTES;
    } finally {
      this.inFlight[lane] -= 1;
    }
  }
}
