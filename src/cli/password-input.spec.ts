import { PassThrough } from 'node:stream';
import { CliError, EXIT } from './cli-error.js';
import { readNewPassword } from './password-input.js';

/** A terminal: stdin whose raw mode is recorded with what was shown at the time, and the prompts shown. */
function terminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, rawMode: false, rawWhenPrompted: [] as boolean[] });
  const shown: string[] = [];
  const prompts = {
    write: (text: string) => {
      shown.push(text);
      if (text.endsWith(': ')) {
        stdin.rawWhenPrompted.push(stdin.rawMode);
      }
    },
  };
  Object.assign(stdin, {
    setRawMode: (raw: boolean) => {
      stdin.rawMode = raw;
      return stdin;
    },
  });
  return { stdin, prompts, shown };
}

/** Stdin that is not a terminal (a pipe), holding `input`. */
function piped(input: string | Buffer) {
  const stdin = new PassThrough();
  stdin.end(input);
  return { stdin, prompts: { write: () => undefined } };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as CliError,
  );

describe('readNewPassword', () => {
  it('at a terminal: two prompts, raw (no echo) before each shows, one chunk or several', async () => {
    const io = terminal();
    const read = readNewPassword('alice', io);
    io.stdin.write('correct horse\rcorrect');
    io.stdin.write(' horse\r');
    await expect(read).resolves.toBe('correct horse');
    expect(io.shown).toEqual(['New password for user "alice": ', '\n', 'Type it again: ', '\n']);
    expect(io.stdin.rawWhenPrompted).toEqual([true, true]);
    expect(io.stdin.rawMode).toBe(false); // restored
  });

  it('at a terminal: backspace and Ctrl-U edit, escape sequences and control characters are dropped', async () => {
    const io = terminal();
    const read = readNewPassword('alice', io);
    io.stdin.write('wrong\u0015secrex\u007ft\u001b[A\u0007 pass\n');
    io.stdin.write('secret pass\n');
    await expect(read).resolves.toBe('secret pass');
  });

  it('at a terminal: refuses two different passwords, and stops at Ctrl-C', async () => {
    const differ = terminal();
    const read = readNewPassword('alice', differ);
    differ.stdin.write('one password\rother password\r');
    expect(await failure(read)).toEqual(new CliError('the two passwords typed differ: nothing changed', EXIT.invalid));

    const interrupted = terminal();
    const stopped = readNewPassword('alice', interrupted);
    interrupted.stdin.write('half\u0003');
    expect((await failure(stopped)).exitStatus).toBe(EXIT.interrupted);
    expect(interrupted.stdin.rawMode).toBe(false);
  });

  it('from a pipe: the one line, its final newline dropped', async () => {
    await expect(readNewPassword('alice', piped('from a pipe\n'))).resolves.toBe('from a pipe');
    await expect(readNewPassword('alice', piped('no newline'))).resolves.toBe('no newline');
    await expect(readNewPassword('alice', piped('crlf line\r\n'))).resolves.toBe('crlf line');
  });

  it('from a pipe: refuses nothing, two lines, bytes that are not UTF-8, and more than a password', async () => {
    for (const [input, message] of [
      ['', /^no password/],
      ['\n', /^no password/],
      ['one\ntwo\n', /one line/],
      [Buffer.from([0x61, 0xff, 0x62]), /not UTF-8/],
      ['x'.repeat(5000), /more than a password/],
    ] as const) {
      const error = await failure(readNewPassword('alice', piped(input)));
      expect(error.exitStatus).toBe(EXIT.invalid);
      expect(error.message).toMatch(message);
    }
  });
});
