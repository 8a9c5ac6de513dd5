// Each suite is a jest project over the same workspace: `--selectProjects smoke` runs only the
// cluster smoke checks; the chart and operator e2e suite adds its own project beside it.
/** @type {import('jest').Config} */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
};

export default {
  // Real clusters converge in seconds, not milliseconds; each test still waits with its own deadline.
  // (A global option: jest ignores testTimeout inside a project.)
  testTimeout: 180_000,
  projects: [
    { ...shared, displayName: 'smoke', testMatch: ['<rootDir>/smoke/**/*.test.ts'] },
    { ...shared, displayName: 'chart', testMatch: ['<rootDir>/chart/**/*.test.ts'] },
  ],
};
