// The Logger for adapters built without one (the benchmark harness, test workers).
import type { Logger } from '../../domain/shared/ports.js';

export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  isDebugEnabled: () => false,
};
