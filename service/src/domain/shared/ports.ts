// Ports the domain needs from infrastructure; adapters live in src/infrastructure.
export type VerificationLane = 'anyone' | 'known-device';

export interface PasswordHasher {
  hash(plain: string): Promise<string>;
  // May refuse with ServiceUnavailableError (and a Retry-After) when the lane is at capacity;
  // logins from a known device have a lane of their own, so a flood of anonymous ones cannot
  // keep them out.
  verify(plain: string, hash: string, lane?: VerificationLane): Promise<boolean>;
  // The same refusal, checked before any other work of a login: over capacity, a request is
  // answered without a database read or a throttle reservation, so a flood costs little besides.
  assertCapacity(lane?: VerificationLane): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

// The logging port; the winston adapter is in infrastructure/logging.
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  isDebugEnabled(): boolean;
}

export interface LoggerProvider {
  get(category: string): Logger;
}

// Run-time switches (FEATURE_FLAGS_FILE, carried faster by the FEATURE_FLAGS_CONFIGMAP watch); the
// adapters are in infrastructure/flags.
export interface FeatureFlags {
  isEnabled(name: string): boolean;
  all(): Record<string, boolean>;
}
