// The ES-module-only packages that CommonJS dependencies require() (see test/require-esm.cjs): registered
// before each test file so that such a require() gets the very modules the application imports.
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';

const registry = ((globalThis as Record<symbol, unknown>)[Symbol.for('iam.jest.requireEsm')] ??= {}) as Record<
  string,
  unknown
>;
registry['@nestjs/common'] = nestCommon;
registry['@nestjs/core'] = nestCore;
