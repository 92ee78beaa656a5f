/**
 * The LXC userspace tools for one lxcpath: start a container detached
 * (its `[lxc monitor]` process outlives us), stop, freeze, thaw, ask its
 * state, and read why its init ended from the container's log.
 */
import { readFile } from 'node:fs/promises';
import { runCommand, type CommandResult } from './command.js';

export type LxcState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

export interface LxcInfo {
  state: LxcState;
  /** Init pid (host view) while running. */
  pid?: number;
}

/** How a container's init ended, from the LXC log. */
export type InitExit = { kind: 'exited'; status: number } | { kind: 'signaled'; signal: string; number: number } | { kind: 'unknown' };

export class LxcTools {
  constructor(readonly lxcpath: string) {}

  private base(tool: string, name: string): string[] {
    return [tool, '-n', name, '-P', this.lxcpath];
  }

  /**
   * `lxc-start -d` of `<lxcpath>/<name>/config` with an explicit command
   * (lxc.init.cmd is split on blanks, so it cannot hold such arguments):
   * returns once the container runs.
   */
  async start(name: string, argv: readonly string[], logFile: string): Promise<void> {
    await runCommand([...this.base('lxc-start', name), '-d', '-o', logFile, '-l', 'INFO', '--', ...argv], {
      what: `start container '${name}'`,
      timeoutMs: 120_000,
    });
  }

  /** `lxc-stop -k`: SIGKILL to init, waits for the container to stop. */
  async kill(name: string): Promise<CommandResult> {
    return runCommand([...this.base('lxc-stop', name), '-k'], { what: `stop container '${name}'`, allowFailure: true, timeoutMs: 60_000 });
  }

  async freeze(name: string): Promise<void> {
    await runCommand(this.base('lxc-freeze', name), { what: `freeze container '${name}'` });
  }

  async unfreeze(name: string): Promise<void> {
    await runCommand(this.base('lxc-unfreeze', name), { what: `thaw container '${name}'` });
  }

  async info(name: string): Promise<LxcInfo> {
    const r = await runCommand([...this.base('lxc-info', name), '-s', '-p'], { what: `query container '${name}'`, allowFailure: true, timeoutMs: 30_000 });
    const state = /^State:\s*(\S+)/m.exec(r.stdout)?.[1] as LxcState | undefined;
    const pid = /^PID:\s*([0-9]+)/m.exec(r.stdout)?.[1];
    if (!state) {
      if (r.code !== 0 && /does not exist|is not running|not defined/i.test(r.stderr + r.stdout)) return { state: 'STOPPED' };
      return { state: 'STOPPED' };
    }
    return { state, ...(pid ? { pid: Number(pid) } : {}) };
  }

  /** `lxc-attach` argv that runs a command inside a running container. */
  attachArgv(name: string, command: readonly string[], opts: { clearEnv?: boolean } = {}): string[] {
    return [...this.base('lxc-attach', name), ...(opts.clearEnv ? ['--clear-env'] : []), '--', ...command];
  }

  /** `lxc-console` argv for a tty (0 = /dev/console); the escape key is never reached (we close the stream instead). */
  consoleArgv(name: string, tty = 0): string[] {
    return [...this.base('lxc-console', name), '-t', String(tty)];
  }
}

/** The last "Child <pid> ended on …" line of an LXC log: how the container's init ended. */
export function parseInitExit(log: string): InitExit {
  let last: InitExit = { kind: 'unknown' };
  let found = false;
  for (const line of log.split('\n')) {
    const err = /Child <[0-9]+> ended on error \(([0-9]+)\)/.exec(line);
    if (err) {
      last = { kind: 'exited', status: Number(err[1]) };
      found = true;
      continue;
    }
    const sig = /Child <[0-9]+> ended on signal ([^(]*)\(([0-9]+)\)/.exec(line);
    if (sig) {
      last = { kind: 'signaled', signal: sig[1]!.trim(), number: Number(sig[2]) };
      found = true;
    }
  }
  // LXC logs nothing for a clean exit(0).
  return found ? last : { kind: 'exited', status: 0 };
}

export async function readInitExit(logFile: string): Promise<InitExit> {
  try {
    return parseInitExit(await readFile(logFile, 'utf8'));
  } catch {
    return { kind: 'unknown' };
  }
}

/** The first error lines of an LXC log (the cause; later ones are consequences), for a start failure's message. */
export async function lxcLogErrors(logFile: string, max = 2): Promise<string> {
  try {
    const lines = (await readFile(logFile, 'utf8')).split('\n').filter((l) => / ERROR /.test(l));
    return lines
      .slice(0, max)
      .map((l) => l.replace(/^.*? ERROR\s+\S+ - /, '').trim())
      .join('; ');
  } catch {
    return '';
  }
}
