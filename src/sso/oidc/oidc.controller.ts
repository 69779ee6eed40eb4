import { Get, Inject, Ip, Query, Redirect, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiFoundResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiConflictResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { CookieOptions, Request, Response } from 'express';
import { AuditedAs } from '../../audit/audit-route.js';
import { Public } from '../../auth/access.decorators.js';
import { IamController } from '../../auth/iam-controller.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { NoStore } from '../../common/no-store.decorator.js';
import type { AuthConfig } from '../../config/auth.config.js';
import { IAM_AUTH_CONFIG } from '../../iam.options.js';
import { RateLimit } from '../../rate-limit/rate-limits.js';
import { presentedSessionId, sessionCookieOptions } from '../../sessions/session-cookie.js';
import { OidcStartQueryDto } from '../dto/oidc-start-query.dto.js';
import { OIDC_FLOW_MINUTES, OidcService } from './oidc.service.js';

/** The cookie that keeps a sign-in's sealed state (SsoStateService) between the redirect and the callback. */
export const OIDC_FLOW_COOKIE = 'iam_oidc_flow';

const unavailable = {
  description: 'The identity provider cannot be reached (discovery, token endpoint): try again later',
  type: ErrorResponseDto,
};

/** Single sign-on with OIDC: the redirect to the provider and its answer. */
@IamController('login/oidc', 'sessions')
export class OidcController {
  constructor(
    private readonly oidc: OidcService,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** HttpOnly, SameSite=Lax (the provider's redirect back is a top-level navigation), Secure as the session's. */
  private flowCookieOptions(): CookieOptions {
    return { ...sessionCookieOptions(this.config), sameSite: 'lax' };
  }

  @Get()
  @Public()
  @NoStore()
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @RateLimit('login-address')
  @Redirect()
  @ApiOperation({
    summary: 'Sign in with the OIDC identity provider',
    description:
      'Public. Redirects (302) to the provider with a new `state`, `nonce` and PKCE (S256) challenge, kept sealed ' +
      `in the HttpOnly \`${OIDC_FLOW_COOKIE}\` cookie for ${OIDC_FLOW_MINUTES} minutes. Rate-limited per client ` +
      'address like /login.',
  })
  @ApiFoundResponse({ description: 'To the identity provider' })
  @ApiBadRequestResponse({ description: 'A redirect_to that is not allowed', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'OIDC is not configured', type: ErrorResponseDto })
  @ApiServiceUnavailableResponse(unavailable)
  async start(@Query() query: OidcStartQueryDto, @Res({ passthrough: true }) res: Response): Promise<{ url: string }> {
    const start = await this.oidc.start(query.redirect_to);
    res.cookie(OIDC_FLOW_COOKIE, start.flow, { ...this.flowCookieOptions(), expires: start.expiresAt });
    return { url: start.url };
  }

  @Get('callback')
  @Public()
  @NoStore()
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @RateLimit('login-address')
  @Redirect()
  @ApiOperation({
    summary: 'The OIDC identity provider’s answer (the redirect URI to register)',
    description:
      'Public: the provider sends the browser here. Checks the answer against the sign-in started in this browser ' +
      '(state; nonce, issuer, audience, signature and expiry of the ID token; the code exchanged with the PKCE ' +
      'verifier), signs the user in (created on first sign-in, profile and groups from the provider), sets the ' +
      '`session_id` cookie as POST /login does and redirects (302) to the sign-in’s redirect_to (default `/`). ' +
      'Every sign-in and refusal is in the audit trail (`iam:Login`).',
  })
  @ApiFoundResponse({ description: 'Signed in: to redirect_to, with the session cookie' })
  @ApiBadRequestResponse({
    description: 'No sign-in started in this browser, another state, or a user name not valid here',
    type: ErrorResponseDto,
  })
  @ApiUnauthorizedResponse({
    description: 'The provider refused, or its answer failed a check (code replayed, ID token)',
    type: ErrorResponseDto,
  })
  @ApiForbiddenResponse({
    description: 'The user exists and may not be bound to this identity (see the README, "Single sign-on")',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({ description: 'OIDC is not configured', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The user name is taken by a service account', type: ErrorResponseDto })
  @ApiServiceUnavailableResponse(unavailable)
  async callback(
    @Ip() clientAddress: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ url: string }> {
    const flow = (req.cookies as Record<string, unknown> | undefined)?.[OIDC_FLOW_COOKIE];
    // One answer per sign-in: the flow goes whatever happens next.
    res.clearCookie(OIDC_FLOW_COOKIE, this.flowCookieOptions());
    const search = new URL(req.originalUrl, 'http://callback.invalid').search;
    const { session, redirectTo } = await this.oidc.finish(
      search,
      typeof flow === 'string' ? flow : undefined,
      { address: clientAddress, userAgent: req.headers['user-agent'] },
      presentedSessionId(req, this.config),
    );
    res.cookie(this.config.sessionCookieName, session.sessionId, sessionCookieOptions(this.config, session.expiresAt));
    return { url: redirectTo };
  }
}
