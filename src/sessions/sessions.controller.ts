import { Delete, Get, HttpCode, HttpStatus, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNoContentResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditedAs } from '../audit/audit-route.js';
import { CurrentPrincipal, RequirePermission, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import type { AuthConfig } from '../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../iam.options.js';
import { SessionListQueryDto } from './dto/session-list-query.dto.js';
import { SessionListDto } from './dto/session-response.dto.js';
import { DEFAULT_SESSION_COOKIE, sessionCookieOptions } from './session-cookie.js';
import { SessionIdPipe } from './session-id.pipe.js';
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

const INVALID_PAGE = {
  description: 'Invalid limit or page_token (altered, or issued for another list or another user)',
  type: ErrorResponseDto,
};

const USER = { from: 'param', kind: 'user', param: 'name' } as const;

// Cookies are set with @Res({ passthrough: true }): Nest still serialises the return value and runs
// interceptors and filters as usual. The `users/me/…` routes are declared before `users/:name/…`, so that "me" is
// never taken for a user name.
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

  @Get('users/me/sessions')
  @SelfService("The signed-in user's sessions, newest first; `current` marks this one")
  @AuditedAs('iam:ListUserSessions', { from: 'self' })
  @ApiBadRequestResponse(INVALID_PAGE)
  listOwn(@CurrentPrincipal() principal: Principal, @Query() query: SessionListQueryDto): Promise<SessionListDto> {
    return this.sessions.listOwn(principal, query);
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

  @Delete('users/me/sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService('End one session of the signed-in user (the cookie is cleared when it is this one)')
  @AuditedAs('iam:EndUserSessions', { from: 'self' })
  @ApiNoContentResponse({ description: 'Ended; when it was this session, the cookie is cleared too' })
  @ApiNotFoundResponse({ description: 'Not one of your sessions (or already ended)', type: ErrorResponseDto })
  async endOwn(
    @CurrentPrincipal() principal: Principal,
    @Param('id', SessionIdPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    await this.sessions.endOwn(principal, id);
    if (id === principal.sessionId) {
      res.clearCookie(this.config.sessionCookieName, sessionCookieOptions(this.config));
    }
  }

  @Get('users/:name/sessions')
  @RequirePermission(
    "A user's sessions, newest first (an administrator's for administrators only; anyone else's for callers " +
      'holding everything that user holds)',
    'iam:ListUserSessions',
    USER,
  )
  @ApiBadRequestResponse(INVALID_PAGE)
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  listOfUser(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Query() query: SessionListQueryDto,
  ): Promise<SessionListDto> {
    return this.sessions.listOf(principal, name, query);
  }

  @Delete('users/:name/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('End every session of a user (the same rule as for listing them)', 'iam:EndUserSessions', USER)
  @ApiNoContentResponse({ description: 'Ended' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  endAllOfUser(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.sessions.endOf(principal, name);
  }

  @Delete('users/:name/sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('End one session of a user (the same rule as for listing them)', 'iam:EndUserSessions', USER)
  @ApiNoContentResponse({ description: 'Ended' })
  @ApiNotFoundResponse({ description: 'No such user, or not one of their sessions', type: ErrorResponseDto })
  endOneOfUser(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Param('id', SessionIdPipe) id: string,
  ): Promise<void> {
    return this.sessions.endOf(principal, name, id);
  }
}
