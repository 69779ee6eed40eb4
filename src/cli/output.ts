/**
 * A command's result on stdout, waiting when a slow reader (a pipe into a pager, say) has not taken the last of it
 * yet, so that a long listing is never held in memory whole.
 */
export function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    process.stdout.once('error', onError);
    const done = () => {
      process.stdout.off('error', onError);
      resolve();
    };
    if (process.stdout.write(text)) {
      done();
    } else {
      process.stdout.once('drain', done);
    }
  });
}

/** A message for the person at the terminal (what was done, how to go on): stderr, beside the results. */
export function tell(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Control and format characters (a newline in a display name, a bidirectional override) as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Cf}]/gu,
    (char) => `\\u${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/** Rows as columns padded to their widest cell (in code points), with a header. */
export function table(header: string[], rows: string[][]): string {
  const width = (cell: string) => [...cell].length;
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column]))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - width(cell))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
