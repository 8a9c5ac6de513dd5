// jest for the service: ts-jest ESM. Each folder under test/ is named by what its suites need
// running, and is a project of its own, so the make targets can run them apart (the project names
// are the tiers the hack/ scripts select); the coverage gate applies to a full run.
//   test/unit             nothing (make test-unit)
//   test/postgres         SQLite and a real PostgreSQL (make test-integration)
//   test/postgres-faults  a PostgreSQL they stop and restart, real processes (make test-integration)
//   test/prometheus       a real Prometheus, Redis and PostgreSQL (make test-observability)
//   test/redis            a real Redis and PostgreSQL: its own config, test/redis/jest.config.js
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }] },
};

export default {
  // Generous: the machine is shared, and a loaded one must not fail a correct test.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/postgres/**/*.test.ts'],
    },
    // make test-observability: Prometheus, Redis stopped and started, OTLP export (run alone).
    {
      ...common,
      displayName: 'observability',
      testMatch: ['<rootDir>/test/prometheus/**/*.test.ts'],
    },
    // Stops and restarts PostgreSQL and sends signals to real processes: run alone (--runInBand).
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/postgres-faults/**/*.test.ts'],
    },
  ],
  // Entry points only parse arguments and call into src; the tests start them as processes.
  // The Redis adapters and the breaker only run against a real Redis: make test-redis covers them
  // (service/test/redis/jest.config.js, with its own coverage gate).
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/main.ts',
    '!src/cli/**',
    // Started by main.ts before anything else; the observability tier tests it as a process.
    '!src/telemetry/tracing.ts',
    '!src/infrastructure/redis/**',
    '!src/infrastructure/resilience/**',
  ],
  coverageReporters: ['text-summary', 'json-summary', 'lcov'],
  coverageThreshold: { global: { lines: 85 } },
};
