import { Body, Controller, HttpCode, HttpStatus, Inject, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/access.decorators.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { NoStore } from '../common/no-store.decorator.js';
import { authConfig, type AuthConfig } from '../config/auth.config.js';
import { UserDto } from '../users/dto/user-response.dto.js';
import { LoginDto } from './dto/login.dto.js';
import { PresentedSessionId, SESSION_COOKIE, sessionCookieOptions } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';

/** Sign-in, in a controller of its own so that the rate limit (SessionsModule) applies to it alone. */
@ApiTags('sessions')
@Controller()
export class LoginController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(authConfig.KEY) private readonly config: AuthConfig,
  ) {}

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @Public()
  @ApiOperation({
    summary: 'Sign in with a user name and password',
    description: 'Public. Sets the `session_id` cookie (HttpOnly, SameSite=Lax). Rate-limited per client address.',
  })
  @ApiOkResponse({ type: UserDto, description: 'Signed in; the body is the user' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiForbiddenResponse({
    description: 'Sent by a page of another site (cross-site protection)',
    type: ErrorResponseDto,
  })
  @ApiUnauthorizedResponse({ description: 'Unknown user or wrong password (the same answer)', type: ErrorResponseDto })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address', type: ErrorResponseDto })
  async login(
    @Body() dto: LoginDto,
    @PresentedSessionId() presented: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UserDto> {
    const session = await this.sessions.login(dto.username, dto.password, presented);
    res.cookie(SESSION_COOKIE, session.sessionId, sessionCookieOptions(this.config, session.expiresAt));
    return session.user;
  }
}
