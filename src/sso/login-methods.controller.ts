import { Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuditedAs } from '../audit/audit-route.js';
import { Public } from '../auth/access.decorators.js';
import { IamController } from '../auth/iam-controller.decorator.js';
import type { SsoConfig } from '../config/sso.config.js';
import { IAM_SSO_CONFIG } from '../iam.options.js';
import { LoginMethodsDto } from './dto/login-methods.dto.js';

/** What a sign-in page needs to know. */
@IamController('login', 'sessions')
export class LoginMethodsController {
  constructor(@Inject(IAM_SSO_CONFIG) private readonly config: SsoConfig) {}

  @Get('methods')
  @Public()
  // Refused by nothing it records (no 403, no 429): named for the inventory, as the sign-in it serves.
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @ApiOperation({
    summary: 'The ways of signing in that are open',
    description: 'Public: password sign-in for everyone or administrators only, and which single sign-on is on.',
  })
  @ApiOkResponse({ type: LoginMethodsDto })
  methods(): LoginMethodsDto {
    return {
      password: this.config.passwordLogin,
      oidc: this.config.oidc !== undefined,
      saml: this.config.saml !== undefined,
    };
  }
}
