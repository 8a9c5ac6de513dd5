// Each suite is a jest project over the same workspace: `--selectProjects smoke` runs only the
// cluster smoke checks, `chart` the chart alone, `platform` the operator and the chart together.
// platform/kind/ holds what only a cluster with real pods can show (E2E_CLUSTER=kind); elsewhere it
// is left out of the run, never skipped silently: platform/not-run.js lists it on every run.
import process from 'node:process';

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
    {
      ...shared,
      displayName: 'platform',
      testMatch: ['<rootDir>/platform/**/*.test.ts'],
      testPathIgnorePatterns: process.env.E2E_CLUSTER === 'kind' ? [] : ['/platform/kind/'],
      globalSetup: '<rootDir>/platform/not-run.js',
    },
  ],
};
