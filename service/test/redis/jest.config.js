// Jest for the Redis-backed tier (make test-redis): real Redis and PostgreSQL from hack/with-deps.sh.
// Child-process workers import the compiled service from dist/, so the target builds first.
export default {
  rootDir: '../..',
  roots: ['<rootDir>/test/redis'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/test/redis/tsconfig.json' }],
  },
  testEnvironment: 'node',
  // Suites share one Redis and stop/start it: one at a time.
  maxWorkers: 1,
  testTimeout: 120_000,
  // Suites start child processes and reconnecting clients; a leftover handle must not hang make test.
  forceExit: true,
  // The adapters this tier exists for and the parts of the service built on them; the rest of src
  // is covered by test-unit/test-integration.
  collectCoverage: true,
  collectCoverageFrom: [
    'src/infrastructure/redis/**/*.ts',
    'src/infrastructure/resilience/**/*.ts',
    'src/infrastructure/cache/**/*.ts',
    'src/infrastructure/flags/**/*.ts',
    'src/infrastructure/db/outbox.ts',
    'src/infrastructure/db/unit-of-work.ts',
    'src/runtime/distributed*.ts',
    'src/http/routes/distributed.ts',
    'src/http/middleware/rate-limit.ts',
  ],
  coverageDirectory: '<rootDir>/coverage/redis',
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { lines: 80 } },
};
