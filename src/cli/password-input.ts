import type { ReadStream } from 'node:tty';
import { PASSWORD_MAX_LENGTH } from '../sessions/dto/password.dto.js';
import { CliError, EXIT } from './cli-error.js';

/** More than any password the service takes (PASSWORD_MAX_LENGTH characters of up to 4 bytes): read no further. */
const STDIN_LIMIT_BYTES = PASSWORD_MAX_LENGTH * 4 + 2;

export interface PasswordInput {
  stdin: NodeJS.ReadableStream & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>;
  /** Where prompts go (never stdout, which carries results). */
  prompts: { write(text: string): unknown };
}

/**
 * A new password, never from the command line (it would be in the shell's history and in every process listing):
 * typed at a prompt that does not echo it, twice, when stdin is a terminal; otherwise all of stdin, one line (a
 * final newline is dropped), e.g. `printf '%s' "$PASSWORD" | npm run iam -- set-password alice`.
 */
export async function readNewPassword(
  user: string,
  io: PasswordInput = { stdin: process.stdin, prompts: process.stderr },
): Promise<string> {
  if (io.stdin.isTTY && io.stdin.setRawMode) {
    const terminal = new HiddenInput(io.stdin as TerminalInput);
    try {
      const password = await terminal.prompt(`New password for user "${user}": `, io.prompts);
      const again = await terminal.prompt('Type it again: ', io.prompts);
      if (password !== again) {
        throw new CliError('the two passwords typed differ: nothing changed', EXIT.invalid);
      }
      return password;
    } finally {
      terminal.close();
    }
  }
  return readStdinLine(io.stdin);
}

async function readStdinLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > STDIN_LIMIT_BYTES) {
      throw new CliError(`stdin holds more than a password (at most ${PASSWORD_MAX_LENGTH} characters)`, EXIT.invalid);
    }
    chunks.push(buffer);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new CliError('the password on stdin is not UTF-8', EXIT.invalid);
  }
  text = text.replace(/\r?\n$/, '');
  if (text.length === 0) {
    throw new CliError('no password: type it at the prompt, or give it on stdin (not as an argument)', EXIT.invalid);
  }
  if (/[\r\n]/.test(text)) {
    throw new CliError('stdin must hold the password alone, on one line', EXIT.invalid);
  }
  return text;
}

type TerminalInput = NodeJS.ReadableStream & Pick<ReadStream, 'setRawMode'>;

/**
 * Lines typed at a terminal in raw mode, so that nothing is echoed. The terminal is raw from before the first prompt
 * shows until close(): nothing typed once a prompt shows is echoed, however fast it comes (a paste). Ctrl-C
 * interrupts, Ctrl-D on an empty line gives up, backspace and Ctrl-U edit.
 */
class HiddenInput {
  private readonly lines: string[] = [];
  private current = '';
  /** Inside an escape sequence (an arrow key: ESC [ A), which is dropped whole. */
  private escape: 'none' | 'start' | 'sequence' = 'none';
  private failure?: CliError;
  private waiting?: { resolve: (line: string) => void; reject: (error: CliError) => void };
  private readonly onData = (chunk: Buffer | string) => this.take(typeof chunk === 'string' ? chunk : chunk.toString());

  constructor(private readonly input: TerminalInput) {
    input.setRawMode(true);
    input.on('data', this.onData);
    input.resume();
  }

  /** Shows `question`, and resolves with the next line typed. */
  async prompt(question: string, output: PasswordInput['prompts']): Promise<string> {
    output.write(question);
    try {
      return await this.next();
    } finally {
      output.write('\n');
    }
  }

  close(): void {
    this.input.removeListener('data', this.onData);
    this.input.setRawMode(false);
    this.input.pause();
  }

  private next(): Promise<string> {
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    const line = this.lines.shift();
    if (line !== undefined) {
      return Promise.resolve(line);
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private take(text: string): void {
    for (const char of text) {
      if (this.escape === 'start') {
        // ESC [ or ESC O starts a sequence that runs to its final byte; ESC and any other character is all of it.
        this.escape = char === '[' || char === 'O' ? 'sequence' : 'none';
      } else if (this.escape === 'sequence') {
        if (char >= '@' && char <= '~') {
          this.escape = 'none';
        }
      } else if (char === '\u001b') {
        this.escape = 'start';
      } else if (char === '\r' || char === '\n') {
        this.lines.push(this.current);
        this.current = '';
      } else if (char === '\u0003') {
        this.failure = new CliError('interrupted: nothing changed', EXIT.interrupted);
      } else if (char === '\u0004' && this.current === '') {
        this.failure = new CliError('no password typed: nothing changed', EXIT.invalid);
      } else if (char === '\u007f' || char === '\b') {
        this.current = [...this.current].slice(0, -1).join('');
      } else if (char === '\u0015') {
        this.current = '';
      } else if (char >= ' ') {
        this.current += char;
      }
      if (this.failure) {
        break;
      }
    }
    const waiting = this.waiting;
    if (waiting && (this.failure || this.lines.length > 0)) {
      this.waiting = undefined;
      if (this.failure) {
        waiting.reject(this.failure);
      } else {
        waiting.resolve(this.lines.shift()!);
      }
    }
  }
}
