import { Inject, Injectable } from '@nestjs/common';
import { nameKey } from '../common/names.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';

/**
 * The built-in administrator service account's name. It is this account's alone: users may not take it
 * (users and service accounts share one namespace), even while the account is deleted, since the next
 * start-up may create it again.
 */
export const BUILTIN_ADMIN_NAME = 'admin';

/**
 * Who holds root access: the principals named in IAM_ADMINISTRATORS (matched without regard to
 * case), and the built-in `admin` service account.
 */
@Injectable()
export class AdministratorsService {
  private readonly names: ReadonlySet<string>;

  constructor(@Inject(IAM_AUTH_CONFIG) config: AuthConfig) {
    // Configured names in their canonical form; stored names are compared as stored (a name from before the
    // name rules that only looks like an administrator's is not one).
    this.names = new Set(config.administrators.map((name) => nameKey(name)));
  }

  isAdministrator(name: string, isBuiltinAdmin = false): boolean {
    return isBuiltinAdmin || this.names.has(name.toLowerCase());
  }

  /** Configured administrator names (canonical, lower-cased). */
  configuredNames(): string[] {
    return [...this.names];
  }
}
