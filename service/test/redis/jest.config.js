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
  // The adapters this tier exists for; the rest of src is covered by test-unit/test-integration.
  collectCoverage: true,
  collectCoverageFrom: [
    'src/infrastructure/redis/**/*.ts',
    'src/infrastructure/resilience/**/*.ts',
    'src/distributed/**/*.ts',
  ],
  coverageDirectory: '<rootDir>/coverage/redis',
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { lines: 80 } },
};
