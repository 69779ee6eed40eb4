/**
 * The framework ceiling: the same @nestjs/core, @nestjs/common and @nestjs/platform-express as the service, one
 * global guard that finds the caller in a Map (a bearer token, or the session cookie for /users/me), and a
 * controller that returns a user's JSON from memory. Whatever the service does beyond this is its own cost.
 *
 * Env: CEILING_PORT, CEILING_FIXTURE (a JSON file: { tokens: {token: user name}, sessions: {cookie value: user
 * name}, users: {name: UserDto body} }), written by the bench.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Request } from 'express';

export interface CeilingFixture {
  tokens: Record<string, string>;
  sessions: Record<string, string>;
  users: Record<string, unknown>;
}

const fixture = JSON.parse(readFileSync(process.env.CEILING_FIXTURE ?? '', 'utf8')) as CeilingFixture;
const tokens = new Map(Object.entries(fixture.tokens));
const sessions = new Map(Object.entries(fixture.sessions));
const users = new Map(Object.entries(fixture.users));

type CeilingRequest = Request & { principal?: string };

const SESSION_COOKIE = 'session_id=';

function sessionOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) {
    return undefined;
  }
  for (const part of cookieHeader.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(SESSION_COOKIE)) {
      return sessions.get(trimmed.slice(SESSION_COOKIE.length));
    }
  }
  return undefined;
}

@Injectable()
class MapGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<CeilingRequest>();
    const authorization = request.headers.authorization;
    const principal = authorization?.startsWith('Bearer ')
      ? tokens.get(authorization.slice(7))
      : sessionOf(request.headers.cookie);
    if (principal === undefined) {
      throw new UnauthorizedException();
    }
    request.principal = principal;
    return true;
  }
}

@Controller('api/v1/users')
class CeilingUsersController {
  @Get('me')
  me(@Req() request: CeilingRequest): unknown {
    return users.get(request.principal ?? '');
  }

  @Get(':name')
  get(@Param('name') name: string): unknown {
    const user = users.get(name.toLowerCase());
    if (user === undefined) {
      throw new NotFoundException();
    }
    return user;
  }
}

@Module({ controllers: [CeilingUsersController], providers: [{ provide: APP_GUARD, useClass: MapGuard }] })
class CeilingModule {}

const app = await NestFactory.create(CeilingModule, { logger: ['error', 'warn'] });
await app.listen(Number(process.env.CEILING_PORT ?? 3999), '127.0.0.1');
