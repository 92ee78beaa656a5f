import { mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { libvirtErrorText, VirtError, type JobContext } from '@virtkit/core';
import { CommandFailure, type CommandContext, type CommandDef } from './command.js';
import { COMMANDS, findCommand } from './commands/index.js';
import { cliVersion } from './commands/host.js';
import { bindOptions, splitCommandArgv, splitCommandString, type RawCommand } from './parse.js';
import { ProcessOutput, ProgressBar, type Output } from './output.js';
import { Session, type SessionOptions } from './session.js';

const USAGE = `
virtkit [options]... [<command_string>]
virtkit [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -d | --debug=NUM        debug level [0-4]
    -h | --help             this help
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)

  commands (non interactive mode):

`;

interface GlobalOptions extends SessionOptions {
  debug: boolean;
}

/** Reads virsh's global options up to the first command word. */
export function parseGlobalOptions(argv: string[]): { opts: GlobalOptions; rest: string[]; exit?: { code: number; text: string } } {
  const opts: GlobalOptions = { readonly: false, quiet: false, debug: false };
  let i = 0;
  const value = (name: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    if (i + 1 >= argv.length) throw new VirtError('INVALID_ARG', `option '${name}' requires an argument`);
    return argv[++i]!;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    switch (name) {
      case '-c':
      case '--connect':
        opts.uri = value(name, inline);
        break;
      case '-r':
      case '--readonly':
        opts.readonly = true;
        break;
      case '-q':
      case '--quiet':
        opts.quiet = true;
        break;
      case '-d':
      case '--debug':
        value(name, inline);
        opts.debug = true;
        break;
      case '-t':
      case '--timing':
        break;
      case '-k':
      case '--keepalive-interval':
      case '-K':
      case '--keepalive-count':
      case '-l':
      case '--log':
      case '-e':
      case '--escape':
        value(name, inline);
        break;
      case '-h':
      case '--help':
        return { opts, rest: [], exit: { code: 0, text: usage() } };
      case '-v':
        return { opts, rest: [], exit: { code: 0, text: `${cliVersion()}\n` } };
      case '-V':
      case '--version':
        return { opts, rest: [], exit: { code: 0, text: inline === 'long' || name === '-V' ? `Virtkit shell, version ${cliVersion()}\n` : `${cliVersion()}\n` } };
      default:
        if (/^-c./.test(a)) {
          opts.uri = a.slice(2);
          break;
        }
        throw new VirtError('INVALID_ARG', `unsupported option '${a}'. See --help.`);
    }
  }
  return { opts, rest: argv.slice(i) };
}

function usage(): string {
  let s = USAGE;
  for (const c of COMMANDS) s += `    ${c.name.padEnd(30)} ${c.summary}\n`;
  return `${s}\n  (specify help <command> for details about the command)\n\n`;
}

/** A failed lookup as virsh reports it: `failed to get pool 'x'`, then the reason (for domains, that line alone). */
function notFound(kind: string, name: string, extra = ''): (err: unknown) => never {
  return (err: unknown) => {
    const codes = ['NO_DOMAIN', 'NO_NETWORK', 'NO_STORAGE_POOL', 'NO_STORAGE_VOL', 'NO_INTERFACE', 'INVALID_ARG'] as const;
    if (err instanceof VirtError && (codes as readonly string[]).includes(err.code)) {
      const what = `failed to get ${kind} '${name}'${extra}`;
      if (kind === 'domain') throw new VirtError(err.code, what, { origin: err.origin, cause: err });
      throw new CommandFailure(what, err);
    }
    throw err;
  };
}

function makeContext(cmd: CommandDef, raw: RawCommand, session: Session, out: Output): CommandContext {
  const opts = bindOptions(cmd, raw.words);
  const conn = () => session.conn();
  return {
    cmd,
    opts,
    session,
    out,
    json: opts.flag('json'),
    conn,
    async domain(option = 'domain') {
      const name = opts.req(option);
      return (await conn()).resolveDomain(name).catch(notFound('domain', name));
    },
    async network(option = 'network') {
      const name = opts.req(option);
      return (await conn()).lookupNetwork(name).catch(notFound('network', name));
    },
    async pool(option = 'pool') {
      const name = opts.req(option);
      return (await conn()).lookupStoragePool(name).catch(notFound('pool', name));
    },
    async volume(option = 'vol', poolOption = 'pool') {
      const name = opts.req(option);
      const poolName = opts.str(poolOption);
      const c = await conn();
      if (poolName) {
        const pool = await c.lookupStoragePool(poolName).catch(notFound('pool', poolName));
        return pool.lookupVolume(name).catch(notFound('vol', name));
      }
      return c.lookupStorageVolume(name).catch(notFound('vol', name, ', specifying --pool might help'));
    },
    job(label: string): JobContext & { done(): void } {
      const ac = new AbortController();
      const bar = new ProgressBar(out, label);
      const onSigint = () => ac.abort(new VirtError('OPERATION_ABORTED', `${label} cancelled by the user`));
      process.on('SIGINT', onSigint);
      return {
        signal: ac.signal,
        onProgress: (p) => bar.update(p.processed, p.total),
        done: () => {
          process.off('SIGINT', onSigint);
          bar.finish();
        },
      };
    },
  };
}

function errorMessage(err: unknown, debug: boolean): string {
  if (err instanceof VirtError) return err.message;
  const e = err as Error;
  return `internal error: ${e?.message ?? String(err)}${debug && e?.stack ? `\n${e.stack}` : ''}`;
}

/**
 * Runs commands in order as virsh does: each one's failure is reported and
 * the next still runs; the result is the last command's. A blank line
 * follows each command's output unless quiet. `quit` stops the run.
 */
export async function runCommands(cmds: RawCommand[], session: Session, out: Output, debug = false): Promise<{ ok: boolean; quit: boolean }> {
  let ok = true;
  for (const raw of cmds) {
    const cmd = findCommand(raw.name);
    try {
      if (!cmd) throw new VirtError('INVALID_ARG', `unknown command: '${raw.name}'`);
      if (cmd.name === 'quit') return { ok, quit: true };
      const ctx = makeContext(cmd, raw, session, out);
      ok = (await cmd.run(ctx)) !== false;
    } catch (err) {
      ok = false;
      if (err instanceof CommandFailure) {
        out.error(err.what);
        // The reason comes from the API: worded as libvirt words errors of its code.
        out.error(err.reason instanceof VirtError ? libvirtErrorText(err.reason) : errorMessage(err.reason, debug));
      } else out.error(errorMessage(err, debug));
    }
    if (!session.options.quiet && !cmd?.noBlankAfter) out.write('\n');
  }
  return { ok, quit: false };
}

function historyFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virtkit', 'history');
}

/** The interactive shell: prompt `virtkit # `, `;`-separated commands, history kept between runs. */
async function interactive(session: Session, out: Output, debug: boolean): Promise<number> {
  const tty = !!process.stdin.isTTY;
  let history: string[] = [];
  try {
    history = readFileSync(historyFile(), 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500);
  } catch {
    /* no history yet */
  }
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, history, historySize: 500 });
  if (tty) {
    out.write("Welcome to virtkit, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n");
    rl.setPrompt('virtkit # ');
    rl.prompt();
  }
  let ok = true;
  for await (const line of rl) {
    if (line.trim()) {
      if (tty) {
        try {
          mkdirSync(dirname(historyFile()), { recursive: true });
          appendFileSync(historyFile(), `${line}\n`);
        } catch {
          /* history is best effort */
        }
      }
      let cmds: RawCommand[];
      try {
        cmds = splitCommandString(line);
      } catch (err) {
        out.error(errorMessage(err, debug));
        ok = false;
        if (tty) rl.prompt();
        continue;
      }
      const r = await runCommands(cmds, session, out, debug);
      ok = r.ok;
      if (r.quit) break;
    }
    if (tty) rl.prompt();
  }
  rl.close();
  return ok ? 0 : 1;
}

/** The `virtkit` program: returns the exit status. */
export async function main(argv: string[], out: Output = new ProcessOutput()): Promise<number> {
  let parsed: ReturnType<typeof parseGlobalOptions>;
  try {
    parsed = parseGlobalOptions(argv);
  } catch (err) {
    out.error(errorMessage(err, false));
    return 1;
  }
  if (parsed.exit) {
    out.write(parsed.exit.text);
    return parsed.exit.code;
  }
  const { opts, rest } = parsed;
  const session = new Session(opts);
  const output = opts.quiet && out instanceof ProcessOutput ? new ProcessOutput(true) : out;
  try {
    if (rest.length === 0) return await interactive(session, output, opts.debug);
    let cmds: RawCommand[];
    try {
      // One word is a command string (`virtkit 'list; dominfo x'`); several are argv (`virtkit list --all`).
      cmds = rest.length === 1 ? splitCommandString(rest[0]!) : splitCommandArgv(rest);
    } catch (err) {
      output.error(errorMessage(err, opts.debug));
      return 1;
    }
    const r = await runCommands(cmds, session, output, opts.debug);
    return r.ok ? 0 : 1;
  } finally {
    await session.close().catch(() => {});
  }
}
