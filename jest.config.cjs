// ES-module-only packages that CommonJS dependencies require(): see test/require-esm.cjs.
const REQUIRED_ESM = ['@nestjs/common', '@nestjs/core'];
const requiredEsmEntry = `/node_modules/(?:${REQUIRED_ESM.join('|')})/index\\.js$`;

module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Sized for a loaded machine several times slower than a developer's (argon2, app start-up, PostgreSQL):
  // a test that needs longer is stuck, not slow. Hooks (beforeAll etc.) take the same default.
  testTimeout: 60_000,
  setupFiles: ['<rootDir>/test/require-esm.setup.ts'],
  transformIgnorePatterns: [`/node_modules/(?!(?:${REQUIRED_ESM.join('|')})/index\\.js$)`],
  transform: {
    [requiredEsmEntry]: '<rootDir>/test/require-esm.cjs',
    '^.+\\.ts$': [
      'ts-jest',
      {
        useESM: true,
        tsconfig: 'tsconfig.spec.json',
        // TS151002: ts-jest's note that NodeNext is "only supported" with isolatedModules. We need the
        // full program so that the @nestjs/swagger plugin sees types, exactly as `nest build` does.
        diagnostics: { ignoreCodes: [151002] },
        astTransformers: { before: ['<rootDir>/test/swagger-plugin.cjs'] },
      },
    ],
  },
};
