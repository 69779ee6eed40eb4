import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { appConfig, type AppConfig } from '../config/app.config.js';
import { ApiError } from './api-error.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

/**
 * Keys that Nest's ValidationPipe deletes without a word (prototype-pollution guard). We refuse them
 * instead, so that nothing a client sends is silently dropped.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function forbiddenKeyIn(body: unknown): string | null {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    for (const [key, value] of Object.entries(current)) {
      if (FORBIDDEN_KEYS.has(key)) {
        return key;
      }
      stack.push(value);
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
  if (error.type === 'entity.parse.failed') {
    return ApiError.badRequest('Request body is not valid JSON');
  }
  // request.aborted, request.size.invalid, stream.encoding.set, …
  return ApiError.badRequest('Request body could not be read');
}

/**
 * Parses JSON request bodies (Nest's own parser is switched off) so that every failure is one of
 * our errors: malformed JSON 400, over BODY_LIMIT 413, a body that is not JSON 415, and a JSON
 * value that is not an object 400. A request without a body gets `{}`.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    this.parse = express.json({ limit: config.bodyLimit, strict: true, type: () => true });
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
    const forbidden = forbiddenKeyIn(body);
    if (forbidden !== null) {
      throw ApiError.badRequest(`Request body may not use the key "${forbidden}", at any depth`);
    }
    next();
  }
}
