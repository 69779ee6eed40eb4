import { isUtf8 } from 'node:buffer';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { IAM_HTTP_CONFIG, type IamHttpConfig } from '../iam.options.js';
import { ApiError } from './api-error.js';
import { UNSTORABLE_TEXT, UNSTORABLE_TEXT_MESSAGE } from './validators.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Our `type` for a body whose bytes are not UTF-8 (the parser would decode them to U+FFFD silently). */
const INVALID_UTF8 = 'entity.utf8.invalid';

/** express.json's `verify` hook: runs on the raw bytes, before they are decoded. */
function requireUtf8(_req: unknown, _res: unknown, bytes: Buffer): void {
  if (!isUtf8(bytes)) {
    throw Object.assign(new Error('Request body is not valid UTF-8'), { type: INVALID_UTF8, status: 400 });
  }
}

/**
 * Keys that Nest's ValidationPipe deletes without a word (prototype-pollution guard). We refuse them
 * instead, so that nothing a client sends is silently dropped.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper than any request of this API; a bound that keeps every later recursive walk of the body safe. */
export const MAX_BODY_DEPTH = 32;

const fieldPath = (path: string[]) => (path.length > 0 ? path.join('.') : 'body');

/**
 * The first thing in a parsed body that no handler should see: a key Nest would drop, nesting deeper than
 * MAX_BODY_DEPTH, or a key or string no database can store (see UNSTORABLE_TEXT).
 */
export function bodyProblem(value: unknown, path: string[] = []): ApiError | null {
  if (typeof value === 'string') {
    return UNSTORABLE_TEXT.test(value)
      ? ApiError.invalidField(fieldPath(path), 'invalid_value', `${fieldPath(path)} ${UNSTORABLE_TEXT_MESSAGE}`)
      : null;
  }
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  if (path.length >= MAX_BODY_DEPTH) {
    const name = fieldPath(path.slice(0, 1));
    return ApiError.invalidField(name, 'invalid_value', `${name} is nested more than ${MAX_BODY_DEPTH} levels deep`);
  }
  for (const [key, entry] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      return ApiError.badRequest(`Request body may not use the key "${key}", at any depth`);
    }
    if (UNSTORABLE_TEXT.test(key)) {
      return ApiError.invalidField(
        fieldPath(path),
        'invalid_value',
        `${fieldPath(path)} has a key that ${UNSTORABLE_TEXT_MESSAGE}`,
      );
    }
    const problem = bodyProblem(entry, [...path, key]);
    if (problem !== null) {
      return problem;
    }
  }
  return null;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function toApiError(cause: unknown, limit: string): ApiError {
  const error = (cause ?? {}) as BodyParserError;
  if (error.type === 'entity.too.large') {
    return ApiError.payloadTooLarge(`Request body is larger than ${limit}`);
  }
  if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
    return ApiError.unsupportedMediaType('Request body must be UTF-8 encoded JSON');
  }
  if (error.type === INVALID_UTF8) {
    return ApiError.invalidField('body', 'invalid_format', 'Request body is not valid UTF-8');
  }
  if (error.type === 'entity.parse.failed') {
    return ApiError.badRequest('Request body is not valid JSON');
  }
  // request.aborted, request.size.invalid, stream.encoding.set, …
  return ApiError.badRequest('Request body could not be read');
}

/**
 * Parses JSON request bodies (Nest's own parser is switched off) so that every failure is one of
 * our errors: malformed JSON or bytes that are not UTF-8 400, over BODY_LIMIT 413, a body that is not JSON 415, a JSON value
 * that is not an object 400, and anything bodyProblem() finds 400. A request without a body gets `{}`.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(@Inject(IAM_HTTP_CONFIG) private readonly config: IamHttpConfig) {
    this.parse = express.json({ limit: config.bodyLimit, strict: false, type: () => true, verify: requireUtf8 });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (!hasBody(req)) {
      req.body = {};
      next();
      return;
    }
    if (!req.is(['application/json', 'application/*+json'])) {
      throw ApiError.unsupportedMediaType('Request body must be JSON (Content-Type: application/json)');
    }
    await new Promise<void>((resolve, reject) => {
      this.parse(req, res, (error?: unknown) => (error ? reject(toApiError(error, this.config.bodyLimit)) : resolve()));
    });
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.badRequest('Request body must be a JSON object');
    }
    const problem = bodyProblem(body);
    if (problem !== null) {
      throw problem;
    }
    next();
  }
}

/**
 * Parses an `application/x-www-form-urlencoded` body (flat: `extended: false`), for the one route that takes an HTML
 * form (IamFormHttpMiddleware): bytes that are not UTF-8 400, over BODY_LIMIT 413, any other type 415, a repeated
 * field (an array) 400, and anything bodyProblem() finds 400. A request without a body gets `{}`.
 */
@Injectable()
export class FormBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(@Inject(IAM_HTTP_CONFIG) private readonly config: IamHttpConfig) {
    this.parse = express.urlencoded({
      extended: false,
      limit: config.bodyLimit,
      parameterLimit: 20,
      type: () => true,
      verify: requireUtf8,
    });
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (!hasBody(req)) {
      req.body = {};
      next();
      return;
    }
    if (!req.is('application/x-www-form-urlencoded')) {
      throw ApiError.unsupportedMediaType(
        'Request body must be a form (Content-Type: application/x-www-form-urlencoded)',
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.parse(req, res, (error?: unknown) =>
        error
          ? reject(
              (error as BodyParserError).type === 'parameters.too.many'
                ? ApiError.badRequest('Request body has too many fields')
                : toApiError(error, this.config.bodyLimit),
            )
          : resolve(),
      );
    });
    const body = req.body as Record<string, unknown>;
    const repeated = Object.keys(body).find((key) => typeof body[key] !== 'string');
    if (repeated !== undefined) {
      throw ApiError.invalidField(repeated, 'invalid_value', `${repeated} must be given once`);
    }
    const problem = bodyProblem(body);
    if (problem !== null) {
      throw problem;
    }
    next();
  }
}
