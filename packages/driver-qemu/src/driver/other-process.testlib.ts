/**
 * Test helper: scripts run in another Node process against the same state
 * folders, as a second `virtkit` would (it needs the package built: the
 * plugin loader imports dist/). A script can be made to die at a chosen
 * QMP command, to leave the state a killed process leaves.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where a script kills itself (SIGKILL): just before sending a QMP command, or once QEMU answered it. */
export interface DieAt {
  before?: string;
  after?: string;
}

export interface OtherProcessResult {
  stdout: string;
  /** The signal that ended it (SIGKILL when it died at `dieAt`). */
  signal: string | null;
}

export class OtherProcess {
  constructor(
    private readonly uri: string,
    private readonly pkgDir: string,
  ) {}

  private script(body: string, dieAt?: DieAt): string {
    // The plugin loader imports dist/index.js by this URL: the same module, so the patch below reaches the driver.
    const dist = pathToFileURL(join(this.pkgDir, 'dist/index.js')).href;
    const patch = dieAt
      ? `
const { QmpClient } = await import(${JSON.stringify(dist)});
const execute = QmpClient.prototype.execute;
QmpClient.prototype.execute = function (command, ...rest) {
  if (command === ${JSON.stringify(dieAt.before ?? null)}) process.kill(process.pid, 'SIGKILL');
  const answer = execute.call(this, command, ...rest);
  return command === ${JSON.stringify(dieAt.after ?? null)} ? answer.then(() => process.kill(process.pid, 'SIGKILL')) : answer;
};`
      : '';
    return `
import { Connection, PluginLoader } from '@virtkit/core';
const conn = await Connection.open(${JSON.stringify(this.uri)}, { loader: new PluginLoader({ roots: [], pluginPath: ${JSON.stringify(this.pkgDir)} }) });
const out = [];
conn.on('*', (e) => out.push(e.kind + ':' + (e.type ?? e.event) + ':' + (e.detail ?? '')));
${patch}
${body}
await conn.close();
console.log(JSON.stringify(out));
`;
  }

  /** Runs `body` (with `conn` open); its output ends with the events it saw, as `kind:type:detail`. */
  async run(body: string): Promise<string> {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', this.script(body)], { cwd: this.pkgDir, timeout: 60_000 });
    return stdout;
  }

  /** Runs `body` in a process that kills itself at `dieAt`. */
  async runUntilKilled(body: string, dieAt: DieAt): Promise<OtherProcessResult> {
    try {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', this.script(body, dieAt)], { cwd: this.pkgDir, timeout: 60_000 });
      return { stdout, signal: null };
    } catch (err) {
      const e = err as { stdout?: string; signal?: string | null; stderr?: string };
      if (e.signal !== 'SIGKILL') throw err;
      return { stdout: e.stdout ?? '', signal: e.signal };
    }
  }
}
