/** Where progress goes: stderr, so that stdout carries only results. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Nothing is shown for what ends sooner than this. */
  delayMs?: number;
  /** How often the line is redrawn on a terminal, or repeated elsewhere. */
  intervalMs?: number;
  now?: () => number;
}

/** Show nothing for the first second: most commands end within it. */
export const PROGRESS_DELAY_MS = 1000;
const TERMINAL_INTERVAL_MS = 250;
const PIPE_INTERVAL_MS = 5000;

/**
 * The progress of something that may take a while (paging through users, migrating), on stderr: nothing if it ends
 * within PROGRESS_DELAY_MS; past that, what it is doing and for how long, as one line redrawn in place on a
 * terminal, or as a line every few seconds in a log or a pipe.
 */
export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private readonly timer: NodeJS.Timeout;
  private repeat: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private text: string,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    const interval = options.intervalMs ?? (this.stream.isTTY ? TERMINAL_INTERVAL_MS : PIPE_INTERVAL_MS);
    this.timer = setTimeout(() => {
      this.render();
      this.repeat = setInterval(() => this.render(), interval).unref();
    }, options.delayMs ?? PROGRESS_DELAY_MS).unref();
  }

  /** What it is doing now (shown at the next redraw). */
  update(text: string): void {
    this.text = text;
  }

  /** Stops; when progress was shown, clears its line (terminal) and says how it ended. */
  done(summary?: string): void {
    clearTimeout(this.timer);
    clearInterval(this.repeat);
    if (!this.shown) {
      return;
    }
    if (this.stream.isTTY) {
      this.stream.write('\r\x1b[K');
    }
    if (summary !== undefined) {
      this.stream.write(`${summary} (${this.elapsed()})\n`);
    }
  }

  private render(): void {
    this.shown = true;
    const line = `${this.text} (${this.elapsed()})`;
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
  }

  private elapsed(): string {
    return `${((this.now() - this.started) / 1000).toFixed(1)} s`;
  }
}
