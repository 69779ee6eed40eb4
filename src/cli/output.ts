import { Progress } from './progress.js';

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

/** One page of a list, as the services' list methods answer it. */
export interface ListPage<T> {
  items: T[];
  next_page_token?: string;
}

/** What printList() prints, and how it reads it. */
export interface ListOutput<T> {
  /** Singular and plural of what is listed (`user`, `users`), for the progress, the summary and the table's foot. */
  noun: [string, string];
  /** JSON: an array of the items as the API answers them, streamed; otherwise a table of `header` and `row`. */
  json?: boolean;
  header: string[];
  row: (item: T) => string[];
  /** The page after `pageToken` (the first page without one). */
  page: (pageToken: string | undefined) => Promise<ListPage<T>>;
}

/**
 * Prints every item of a paged list: page after page (never the whole list in one read), with progress on stderr
 * for a list that takes more than a second. JSON is streamed item by item; a table holds its cells until the end,
 * to size its columns.
 */
export async function printList<T>(output: ListOutput<T>): Promise<void> {
  const [one, many] = output.noun;
  const progress = new Progress(`Listing ${many}`);
  const rows: string[][] = [];
  let count = 0;
  let pages = 0;
  let pageToken: string | undefined;
  try {
    if (output.json) {
      await print('[');
    }
    do {
      const page = await output.page(pageToken);
      pages++;
      for (const item of page.items) {
        if (output.json) {
          await print(`${count === 0 ? '' : ','}\n${JSON.stringify(item)}`);
        } else {
          rows.push(output.row(item).map(printable));
        }
        count++;
      }
      pageToken = page.next_page_token;
      progress.update(`Listing ${many}: ${count} so far (page ${pages})`);
    } while (pageToken !== undefined);
  } finally {
    progress.done(`Listed ${count} ${count === 1 ? one : many} in ${pages} page${pages === 1 ? '' : 's'}`);
  }
  if (output.json) {
    await print(count === 0 ? ']\n' : '\n]\n');
  } else if (count === 0) {
    await print(`No ${many}\n`);
  } else {
    await print(table(output.header, rows) + `(${count} ${count === 1 ? one : many})\n`);
  }
}
