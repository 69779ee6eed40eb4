/**
 * The package's front door (`import { IamModule } from 'iam-service'`): everything a host may use, and nothing
 * else. The service's own code imports each symbol from the file that defines it, never from here.
 */
export { IamModule, IAM_FEATURE_MODULES } from './iam.module.js';
export { IamCoreModule } from './iam-core.module.js';
export {
  IamOptionsError,
  type IamDatabaseOptions,
  type IamAuditOptions,
  type IamModuleAsyncOptions,
  type IamModuleDeclaration,
  type IamModuleOptions,
  type IamPasswordHashOptions,
  type IamSessionOptions,
  type IamSignInOptions,
  type IamSsoOptions,
} from './iam.options.js';
export { IamAuthGuard } from './auth/iam-auth.guard.js';
export { CurrentPrincipal, Public, RequireAction } from './auth/access.decorators.js';
export type { Principal } from './auth/principal.js';
export { AuthorizationService } from './auth/authorization.service.js';
export { IAM_DATA_SOURCE } from './database/iam-data-source.js';
export {
  buildDataSourceOptions as iamDataSourceOptions,
  ENTITIES as IAM_ENTITIES,
} from './database/data-source-options.js';
export { runMigrations as runIamMigrations } from './database/run-migrations.js';
export { postgresMigrations as IAM_POSTGRES_MIGRATIONS } from './database/migrations/postgres/postgres-migrations.js';
export { sqliteMigrations as IAM_SQLITE_MIGRATIONS } from './database/migrations/sqlite/sqlite-migrations.js';
export { UsersModule } from './users/users.module.js';
export { ProfilesModule } from './profiles/profiles.module.js';
export { GroupsModule } from './groups/groups.module.js';
export { RolesModule } from './roles/roles.module.js';
export { SettingsModule } from './settings/settings.module.js';
export { SessionsModule } from './sessions/sessions.module.js';
export { ServiceAccountsModule } from './service-accounts/service-accounts.module.js';
export { AuditEventsModule } from './audit/audit-events.module.js';
export { SsoModule } from './sso/sso.module.js';
export { ScimModule } from './scim/scim.module.js';
export { setupIamSwagger } from './openapi/swagger-ui.js';
export { createIamDocument } from './openapi/openapi-document.js';
