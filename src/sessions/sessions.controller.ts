import { Delete, HttpCode, HttpStatus, Inject, Post, Res } from '@nestjs/common';
import { ApiNoContentResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditedAs } from '../audit/audit-route.js';
import { CurrentPrincipal, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { DEFAULT_SESSION_COOKIE, sessionCookieOptions } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';
import { IamController } from '../auth/iam-controller.decorator.js';

const CLEARS_COOKIE = {
  description: 'Ended; the cookie is cleared',
  headers: {
    'Set-Cookie': {
      description: `Clears the session cookie: \`${DEFAULT_SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; …\``,
      schema: { type: 'string' },
    },
  },
};

// Cookies are set with @Res({ passthrough: true }): Nest still serialises the return value and runs
// interceptors and filters as usual.
@IamController('', 'sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService('End the current session and clear the cookie')
  @AuditedAs('iam:Logout', { from: 'self' })
  @ApiNoContentResponse(CLEARS_COOKIE)
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.end(principal);
    res.clearCookie(this.config.sessionCookieName, sessionCookieOptions(this.config));
  }

  @Delete('users/me/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService('End every session of the signed-in user, this one included, and clear the cookie')
  @AuditedAs('iam:EndUserSessions', { from: 'self' })
  @ApiNoContentResponse(CLEARS_COOKIE)
  async endAll(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.endAll(principal);
    res.clearCookie(this.config.sessionCookieName, sessionCookieOptions(this.config));
  }
}
