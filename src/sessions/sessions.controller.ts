import { Body, Controller, Delete, HttpCode, HttpStatus, Inject, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Public, SelfService } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { authConfig, type AuthConfig } from '../config/auth.config.js';
import { UserDto } from '../users/dto/user-response.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { SESSION_COOKIE, sessionCookieOptions } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';

// Cookies are set with @Res({ passthrough: true }): Nest still serialises the return value and runs
// interceptors and filters as usual.
@ApiTags('sessions')
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Public()
  @ApiOperation({
    summary: 'Sign in with a user name and password',
    description: 'Public. Sets the `session_id` cookie (HttpOnly, SameSite=Lax). Rate-limited per client address.',
  })
  @ApiOkResponse({ type: UserDto, description: 'Signed in; the body is the user' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiUnauthorizedResponse({ description: 'Unknown user or wrong password (the same answer)', type: ErrorResponseDto })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address', type: ErrorResponseDto })
  async login(@Body() dto: LoginDto, @Res({ passthrough: true }) res: Response): Promise<UserDto> {
    const session = await this.sessions.login(dto.username, dto.password);
    res.cookie(SESSION_COOKIE, session.sessionId, sessionCookieOptions(this.config, session.expiresAt));
    return session.user;
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService('End the current session and clear the cookie')
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (principal.sessionId) {
      await this.sessions.end(principal.sessionId);
    }
    res.clearCookie(SESSION_COOKIE, sessionCookieOptions(this.config));
  }

  @Delete('users/me/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @SelfService('End every session of the signed-in user, this one included, and clear the cookie')
  async endAll(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.endAll(principal.id);
    res.clearCookie(SESSION_COOKIE, sessionCookieOptions(this.config));
  }
}
