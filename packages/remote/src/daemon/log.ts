import { createWriteStream, type WriteStream } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The daemon's structured log: one JSON object per line
 * (`{"time":…,"level":…,"msg":…, …fields}`), to stderr or a file, so
 * journald and log shippers can read it without parsing prose.
 */
export class JsonLogger {
  private readonly out: NodeJS.WritableStream;
  private file?: WriteStream;
  /** Lines kept in memory (tests read refusals from here). */
  readonly recent: Record<string, unknown>[] = [];
  keepRecent = 0;

  constructor(
    public level: LogLevel = 'info',
    target?: string,
  ) {
    if (target && target !== '-' && target !== 'stderr') {
      this.file = createWriteStream(target, { flags: 'a', mode: 0o600 });
      this.out = this.file;
    } else this.out = process.stderr;
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    if (RANK[level] < RANK[this.level]) return;
    const line = { time: new Date().toISOString(), level, msg, ...fields };
    if (this.keepRecent > 0) {
      this.recent.push(line);
      if (this.recent.length > this.keepRecent) this.recent.shift();
    }
    this.out.write(`${JSON.stringify(line)}\n`);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }

  close(): Promise<void> {
    const f = this.file;
    if (!f) return Promise.resolve();
    return new Promise((r) => f.end(r));
  }
}
