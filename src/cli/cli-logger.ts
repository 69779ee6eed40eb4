import { inspect } from 'node:util';
import { Injectable, type LoggerService, type LogLevel } from '@nestjs/common';
import { validateEnvironment } from '../config/env.validation.js';

/** Which of Nest's levels LOG_LEVEL (a pino level) shows in the CLI: warnings and errors unless asked for more. */
export function cliLogLevels(logLevel: string): LogLevel[] {
  switch (logLevel) {
    case 'silent':
      return [];
    case 'fatal':
      return ['fatal'];
    case 'error':
      return ['fatal', 'error'];
    case 'debug':
      return ['fatal', 'error', 'warn', 'log', 'debug'];
    case 'trace':
      return ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
    default:
      // `info`, the service's default, would show Nest's start-up chatter with every command.
      return ['fatal', 'error', 'warn'];
  }
}

/**
 * The log of the IAM's modules inside the CLI: one line per message on stderr, so that stdout carries only a
 * command's result (`list-users --json` stays parseable), at the levels cliLogLevels() gives LOG_LEVEL. Nest's
 * ExceptionHandler is left out: the CLI reports every failure itself, once, and an expected one without a stack.
 */
@Injectable()
export class CliLogger implements LoggerService {
  private readonly levels: ReadonlySet<LogLevel>;

  constructor() {
    this.levels = new Set(cliLogLevels(validateEnvironment(process.env).LOG_LEVEL));
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.print('fatal', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.print('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.print('warn', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.print('log', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.print('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.print('verbose', message, params);
  }

  /**
   * Nest's Logger passes the context last; the IAM's services log pino-style, an object and then the message
   * (`warn({ reason }, 'Could not …')`), and errors come with a stack (shown from LOG_LEVEL=debug on).
   */
  private print(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.levels.has(level)) {
      return;
    }
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (context === 'ExceptionHandler') {
      return;
    }
    let text: string;
    if (message instanceof Error) {
      text = this.levels.has('debug') ? (message.stack ?? message.message) : message.message;
    } else if (typeof message === 'object' && message !== null && typeof rest[0] === 'string') {
      text = `${rest.shift() as string} ${inspect(message, { depth: 4, breakLength: Infinity })}`;
    } else {
      text = typeof message === 'string' ? message : inspect(message, { depth: 4, breakLength: Infinity });
    }
    const stack = rest.find((param): param is string => typeof param === 'string' && param.includes('\n    at '));
    if (stack && this.levels.has('debug')) {
      text += `\n${stack}`;
    }
    process.stderr.write(`${level}${context ? ` [${context}]` : ''}: ${text}\n`);
  }
}
