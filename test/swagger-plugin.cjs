// ts-jest AST transformer: applies the @nestjs/swagger CLI plugin in tests, as `nest build` does.
const plugin = require('@nestjs/swagger/plugin');
module.exports = {
  name: 'nestjs-swagger-transformer',
  version: 1,
  factory(tsCompiler) {
    return plugin.before(
      { classValidatorShim: true, introspectComments: true, esmCompatible: true },
      tsCompiler.program,
    );
  },
};
