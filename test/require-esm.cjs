// Jest transformer: lets CommonJS packages require() the ES-module-only Nest packages, as Node 20.19+ does.
//
// @nestjs/throttler (and its Redis storage) are CommonJS and require('@nestjs/common'), which Nest 12 ships
// as ES modules only. Node itself runs that (require(esm)); Jest implements its own require(), which can
// load an ES module only on Node 24.9+ ("Must use import to load ES Module" below that). Transforming Nest to
// CommonJS would give the require()ing packages a second copy of Nest, whose Reflector and HttpException
// are other classes than the application's. So a require() of one of these packages is answered with the
// ES module the test already loaded (test/require-esm.setup.ts registers it): one copy, as in Node.
//
// The same file is loaded as ESM by import (options.supportsStaticESM): then it is left as it is.
const { createHash } = require('node:crypto');

const REGISTRY = 'iam.jest.requireEsm';

/** `@scope/name` (or `name`) of the package a file in node_modules belongs to. */
function packageOf(filename) {
  const match = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/][^\\/]*$/.exec(filename);
  return match ? match[1].replace(/\\/g, '/') : filename;
}

module.exports = {
  process(source, filename, options) {
    if (options.supportsStaticESM) {
      return { code: source };
    }
    const name = JSON.stringify(packageOf(filename));
    return {
      code:
        `const loaded = globalThis[Symbol.for(${JSON.stringify(REGISTRY)})]?.[${name}];\n` +
        `if (!loaded) { throw new Error('require(' + ${name} + '): list it in test/require-esm.setup.ts'); }\n` +
        'module.exports = loaded;\n',
    };
  },
  getCacheKey(source, filename, options) {
    return createHash('sha256')
      .update(`require-esm v1\0${filename}\0${String(options.supportsStaticESM)}\0${source}`)
      .digest('hex');
  },
};
