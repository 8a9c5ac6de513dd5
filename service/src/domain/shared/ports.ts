// Ports the domain needs from infrastructure; adapters live in src/infrastructure.
export interface PasswordHasher {
  hash(plain: string): Promise<string>;
  // May refuse with ServiceUnavailableError (and a Retry-After) when at capacity.
  verify(plain: string, hash: string): Promise<boolean>;
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

// Run-time switches (FEATURE_FLAGS_FILE); the file-backed adapter is in infrastructure/flags.
export interface FeatureFlags {
  isEnabled(name: string): boolean;
  all(): Record<string, boolean>;
}
