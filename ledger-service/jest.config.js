/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // jose (and otplib's @scure/@noble plugins) ship only ES modules, which Jest under Node 20 cannot require: compile it like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@otplib|@scure|@noble)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 120_000,
  // Two cores: two workers keep both busy without starving the database.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
