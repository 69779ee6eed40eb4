import { InitialSchema1795888637621 } from './1795888637621-InitialSchema.js';
import { RolesAndServiceAccountGroups1795890075934 } from './1795890075934-RolesAndServiceAccountGroups.js';
import { AccountLockout1795975615255 } from './1795975615255-AccountLockout.js';
import { BootstrapTokenFlag1795975828043 } from './1795975828043-BootstrapTokenFlag.js';
import { AuthorityVersion1795995200000 } from './1795995200000-AuthorityVersion.js';
import { IamKeys1796100000000 } from './1796100000000-IamKeys.js';
import { SessionDetails1796180000000 } from './1796180000000-SessionDetails.js';
import { AuditEvents1796200000000 } from './1796200000000-AuditEvents.js';
import { UserIdentities1796300000000 } from './1796300000000-UserIdentities.js';
import { SamlAssertions1796400000000 } from './1796400000000-SamlAssertions.js';
import { SsoNameNotDefaulted1796450000000 } from './1796450000000-SsoNameNotDefaulted.js';
import { ScimProvisioning1796500000000 } from './1796500000000-ScimProvisioning.js';

/** PostgreSQL migrations, oldest first. Generate new ones with `npm run migration:generate:postgres`. */
export const postgresMigrations = [
  InitialSchema1795888637621,
  RolesAndServiceAccountGroups1795890075934,
  AccountLockout1795975615255,
  BootstrapTokenFlag1795975828043,
  AuthorityVersion1795995200000,
  IamKeys1796100000000,
  SessionDetails1796180000000,
  AuditEvents1796200000000,
  UserIdentities1796300000000,
  SamlAssertions1796400000000,
  SsoNameNotDefaulted1796450000000,
  ScimProvisioning1796500000000,
];
