import { ApiProperty } from '@nestjs/swagger';

/** Which ways of signing in are open, for a sign-in page. */
export class LoginMethodsDto {
  /** `all`: every user may sign in with a password; `admins-only`: administrators only (IAM_PASSWORD_LOGIN). */
  @ApiProperty({ enum: ['all', 'admins-only'], example: 'all' })
  password: 'all' | 'admins-only';
  /** Single sign-on with OIDC (GET /api/v1/login/oidc) is configured. @example true */
  oidc: boolean;
  /** Single sign-on with SAML is configured. @example false */
  saml: boolean;
}
