/**
 * How the CLI prints: virsh's table and key/value layouts, JSON documents,
 * sizes as virsh's vshPrettyCapacity, and progress bars on stderr.
 */
export interface Output {
  /** Writes text to stdout as is. */
  write(text: string): void;
  /** Writes an error line (`error: …`) to stderr. */
  error(text: string): void;
  /** Progress output goes to stderr, and only when it is a terminal or forced. */
  readonly progressEnabled: boolean;
  progress(text: string): void;
}

export class ProcessOutput implements Output {
  constructor(private readonly quiet = false, readonly progressEnabled = !!process.stderr.isTTY) {}
  write(text: string): void {
    process.stdout.write(text);
  }
  error(text: string): void {
    process.stderr.write(`error: ${text}\n`);
  }
  progress(text: string): void {
    if (!this.quiet) process.stderr.write(text);
  }
}

/** Collects output in memory (tests, the daemon's command runner). */
export class BufferOutput implements Output {
  stdout = '';
  stderr = '';
  readonly progressEnabled = false;
  write(text: string): void {
    this.stdout += text;
  }
  error(text: string): void {
    this.stderr += `error: ${text}\n`;
  }
  progress(): void {}
}

/** A cell's display width: characters, with control characters shown escaped as virsh does. */
function safeCell(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * virsh's vshTable: a header row, a dashed line as wide as the columns
 * plus three per column, rows with each cell after one blank and padded
 * by two more, the last cell unpadded.
 */
export function formatTable(header: string[], rows: string[][], withHeader = true): string {
  const all = [header, ...rows].map((r) => r.map((c) => safeCell(c)));
  // Without the header (-q) its cells do not count for the widths, as in vshTable.
  const counted = withHeader ? all : all.slice(1);
  const widths = header.map((_, i) => Math.max(0, ...counted.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < r.length - 1 ? ` ${c}${' '.repeat(widths[i]! - [...c].length + 2)}` : ` ${c}`))
      .join('') + '\n';
  let out = '';
  if (withHeader) {
    out += line(all[0]!);
    out += '-'.repeat(widths.reduce((a, w) => a + w + 3, 0)) + '\n';
  }
  for (const r of all.slice(1)) out += line(r);
  return out;
}

/** `Key:           value` lines as virsh's info commands print them (`%-15s %s`). */
export function formatKeyValues(pairs: Array<[string, string]>, width = 15): string {
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}\n`).join('');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** virsh's vshPrettyCapacity: `100.00 GiB` (domblkinfo --human prints 3 decimals). */
export function prettyCapacity(bytes: number, decimals = 2): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(decimals)} ${UNITS[u]}`;
}

/** Camel-cases a table header for JSON keys (`MAC Address` → `macAddress`). */
export function camelKey(header: string): string {
  const words = header.replace(/[^A-Za-z0-9 ]/g, ' ').trim().split(/\s+/);
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase())).join('');
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/**
 * A progress bar on stderr, redrawn at most every 100 ms:
 * `Save: [ 45 %] ███████░░░░░░░░`.
 */
export class ProgressBar {
  private last = 0;
  private shown = false;
  constructor(private readonly out: Output, private readonly label: string) {}

  update(processed: number, total: number): void {
    if (!this.out.progressEnabled) return;
    const now = Date.now();
    if (now - this.last < 100 && processed < total) return;
    this.last = now;
    const pct = total > 0 ? Math.min(100, Math.floor((processed / total) * 100)) : 0;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    this.out.progress(`\r${this.label}: [${String(pct).padStart(3)} %] ${'#'.repeat(filled)}${'.'.repeat(width - filled)}`);
    this.shown = true;
  }

  finish(): void {
    if (this.shown) this.out.progress('\n');
    this.shown = false;
  }
}
