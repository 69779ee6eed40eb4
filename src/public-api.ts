// PROVISIONAL (helper "package"): the package root, written to the contract of issue 9 so that the example host
// app and test/package.e2e-spec.ts can run before the lead's own public-api.ts lands. The lead's file replaces it.
export { IamModule } from './iam.module.js';
export type {
  IamDatabaseOptions,
  IamModuleAsyncOptions,
  IamModuleDeclaration,
  IamModuleOptions,
  IamPasswordHashOptions,
  IamSessionOptions,
  IamSignInOptions,
} from './iam.options.js';
export { IamOptionsError } from './iam.options.js';
export { IamAuthGuard } from './auth/iam-auth.guard.js';
export { CurrentPrincipal, Public, RequireAction } from './auth/access.decorators.js';
export { AuthorizationService } from './auth/authorization.service.js';
export type { Principal } from './auth/principal.js';
