import { Body, Get, HttpCode, HttpStatus, Inject, Ip, Post, Query, Redirect, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
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
import { SamlAcsBodyDto } from '../dto/saml-acs-body.dto.js';
import { SAML_FLOW_MINUTES, SamlService } from './saml.service.js';

/** The cookie that keeps a SAML sign-in's sealed flow (request id, redirect_to) between the redirect and the answer. */
export const SAML_FLOW_COOKIE = 'iam_saml_flow';

/**
 * HttpOnly, Secure, SameSite=None: the provider's answer is a form POSTed from its site, which a Lax cookie would
 * miss; nothing of it is readable (sealed) and it only names the request this browser started.
 */
function flowCookieOptions(): CookieOptions {
  return { httpOnly: true, secure: true, sameSite: 'none', path: '/' };
}

/** Single sign-on with SAML 2.0: the redirect to the identity provider and its answer (assertion consumer service). */
@IamController('login/saml', 'sessions')
export class SamlController {
  constructor(
    private readonly saml: SamlService,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Get()
  @Public()
  @NoStore()
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @RateLimit('login-address')
  @Redirect()
  @ApiOperation({
    summary: 'Sign in with the SAML identity provider',
    description:
      'Public. Redirects (302) to the provider’s single sign-on URL with a new AuthnRequest (HTTP-Redirect binding); ' +
      `its id and redirect_to are kept sealed in the HttpOnly \`${SAML_FLOW_COOKIE}\` cookie for ${SAML_FLOW_MINUTES} ` +
      'minutes. Rate-limited per client address like /login.',
  })
  @ApiFoundResponse({ description: 'To the identity provider' })
  @ApiBadRequestResponse({ description: 'A redirect_to that is not allowed', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'SAML is not configured', type: ErrorResponseDto })
  async start(@Query() query: OidcStartQueryDto, @Res({ passthrough: true }) res: Response): Promise<{ url: string }> {
    const start = await this.saml.start(query.redirect_to);
    res.cookie(SAML_FLOW_COOKIE, start.flow, { ...flowCookieOptions(), expires: start.expiresAt });
    return { url: start.url };
  }
}

/**
 * The assertion consumer service: apart from SamlController because the provider's page POSTs a form to it from its
 * site, which only this route takes (SsoModule binds IamFormHttpMiddleware to it).
 */
@IamController('login/saml', 'sessions')
export class SamlAcsController {
  constructor(
    private readonly saml: SamlService,
    @Inject(IAM_AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Post('acs')
  @Public()
  @NoStore()
  @HttpCode(HttpStatus.SEE_OTHER)
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @RateLimit('login-address')
  @Redirect(undefined, HttpStatus.SEE_OTHER)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: SamlAcsBodyDto })
  @ApiOperation({
    summary: 'The SAML identity provider’s answer (the assertion consumer service to register)',
    description:
      'Public: the provider’s page POSTs the form here (HTTP-POST binding, `application/x-www-form-urlencoded`, the ' +
      'only form this API takes). Checks the response against the sign-in started in this browser (InResponseTo), the ' +
      'signature of the response or its assertion, audience, recipient and destination, NotBefore/NotOnOrAfter and ' +
      'that the assertion was never used before; signs the user in (created on first sign-in, profile and groups from ' +
      'the attributes), sets the `session_id` cookie as POST /login does and redirects (303) to the sign-in’s ' +
      'redirect_to (default `/`). Every sign-in and refusal is in the audit trail (`iam:Login`).',
  })
  @ApiResponse({ status: HttpStatus.SEE_OTHER, description: 'Signed in: to redirect_to, with the session cookie' })
  @ApiBadRequestResponse({
    description: 'No sign-in started in this browser, no SAMLResponse, or a user name not valid here',
    type: ErrorResponseDto,
  })
  @ApiUnauthorizedResponse({
    description: 'The provider refused, or its answer failed a check (signature, audience, recipient, time, replay)',
    type: ErrorResponseDto,
  })
  @ApiForbiddenResponse({
    description: 'The user exists and may not be bound to this identity (see the README, "Single sign-on")',
    type: ErrorResponseDto,
  })
  @ApiNotFoundResponse({ description: 'SAML is not configured', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The user name is taken by a service account', type: ErrorResponseDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'A body that is not a form', type: ErrorResponseDto })
  async acs(
    @Body() body: SamlAcsBodyDto,
    @Ip() clientAddress: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ url: string }> {
    const flow = (req.cookies as Record<string, unknown> | undefined)?.[SAML_FLOW_COOKIE];
    // One answer per sign-in: the flow goes whatever happens next.
    res.clearCookie(SAML_FLOW_COOKIE, flowCookieOptions());
    const { session, redirectTo } = await this.saml.finish(
      body.SAMLResponse,
      typeof flow === 'string' ? flow : undefined,
      { address: clientAddress, userAgent: req.headers['user-agent'] },
      presentedSessionId(req, this.config),
    );
    res.cookie(this.config.sessionCookieName, session.sessionId, sessionCookieOptions(this.config, session.expiresAt));
    return { url: redirectTo };
  }
}

/** The service provider's metadata, for the identity provider's configuration. */
@IamController('saml', 'sessions')
export class SamlMetadataController {
  constructor(private readonly saml: SamlService) {}

  @Get('metadata')
  @Public()
  // Refused by nothing it records (no 403, no 429): named for the inventory, as the sign-in it serves.
  @AuditedAs('iam:Login', { from: 'all', kind: 'user' })
  @ApiProduces('application/samlmetadata+xml')
  @ApiOperation({
    summary: 'This service provider’s SAML metadata',
    description:
      'Public: the XML to give the identity provider (entity id, the assertion consumer service, signed assertions ' +
      'wanted).',
  })
  @ApiOkResponse({ description: 'SAML 2.0 metadata (EntityDescriptor)', schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'SAML is not configured', type: ErrorResponseDto })
  metadata(@Res({ passthrough: true }) res: Response): string {
    const xml = this.saml.metadata();
    // Set once there is XML to send: an error (404) keeps the JSON error body's type.
    res.type('application/samlmetadata+xml; charset=utf-8');
    return xml;
  }
}
