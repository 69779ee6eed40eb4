import { Inject, Injectable } from '@nestjs/common';
import { authConfig, type AuthConfig } from '../config/auth.config.js';

/**
 * Who holds root access: the principals named in IAM_ADMINISTRATORS (matched without regard to
 * case), and the built-in `admin` service account.
 */
@Injectable()
export class AdministratorsService {
  private readonly names: ReadonlySet<string>;

  constructor(@Inject(authConfig.KEY) config: AuthConfig) {
    this.names = new Set(config.administrators.map((name) => name.toLowerCase()));
  }

  isAdministrator(name: string, isBuiltinAdmin = false): boolean {
    return isBuiltinAdmin || this.names.has(name.toLowerCase());
  }

  /** Configured administrator names (lower-cased). */
  configuredNames(): string[] {
    return [...this.names];
  }
}
