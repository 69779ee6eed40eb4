import { Body, HttpCode, HttpStatus, Inject, Ip, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditedAs } from '../audit/audit-route.js';
import { Public } from '../auth/access.decorators.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { NoStore } from '../common/no-store.decorator.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { RateLimit } from '../rate-limit/rate-limits.js';
import { UserDto } from '../users/dto/user-response.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { DEFAULT_SESSION_COOKIE, presentedSessionId, sessionCookieOptions } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

/** Sign-in. */
@IamController('', 'sessions')
export class LoginController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @Public()
  @AuditedAs('iam:Login', { from: 'body', kind: 'user', field: 'username' })
  @ApiOperation({
    summary: 'Sign in with a user name and password',
    description:
      'Public. Sets the `session_id` cookie (HttpOnly, SameSite=Lax); the session keeps the client address and ' +
      'user agent, for the session list. Ends the session of the cookie it was sent with, if any. Rate-limited ' +
      'per client address and per user name; after IAM_LOCKOUT_THRESHOLD wrong passwords the account is locked ' +
      'for IAM_LOCKOUT_MINUTES (answered like a wrong password).',
  })
  @RateLimit('login-address', 'login-user')
  @ApiOkResponse({
    type: UserDto,
    description: 'Signed in; the body is the user',
    headers: {
      'Set-Cookie': {
        description: `The session: \`${DEFAULT_SESSION_COOKIE}=<opaque id>; Path=/; Expires=…; HttpOnly; Secure; SameSite=Lax\``,
        schema: { type: 'string' },
      },
    },
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiForbiddenResponse({
    description:
      'Sent by a page of another site (cross-site protection); or, with IAM_PASSWORD_LOGIN=admins-only, the right ' +
      'password of a user who is not an administrator (they sign in with single sign-on)',
    type: ErrorResponseDto,
  })
  @ApiUnauthorizedResponse({
    description: 'Unknown user, wrong password or locked account (the same answer)',
    type: ErrorResponseDto,
  })
  async login(
    @Body() dto: LoginDto,
    @Ip() clientAddress: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UserDto> {
    const presented = presentedSessionId(req, this.config);
    const client = { address: clientAddress, userAgent: req.headers['user-agent'] };
    const session = await this.sessions.login(dto.username, dto.password, client, presented);
    res.cookie(this.config.sessionCookieName, session.sessionId, sessionCookieOptions(this.config, session.expiresAt));
    return session.user;
  }
}
