#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { VirtError } from '@virtkit/core';
import { defaultDaemonConfig, loadDaemonConfig, type DaemonConfig } from './daemon/config.js';
import { Daemon } from './daemon/daemon.js';
import { JsonLogger, type LogLevel } from './daemon/log.js';

const USAGE = `usage: virtkitd [options]

Serves this host's virtkit drivers to remote clients. Stays in the foreground.

  --root DIR              keep all state under DIR (as qemu:///embed?root=DIR does)
  --listen-unix PATH      read-write socket (default <runtime>/virtkit-sock)
  --listen-unix-ro PATH   read-only socket (default <runtime>/virtkit-sock-ro)
  --listen-tls HOST:PORT  TLS with client certificates (default port 16514)
  --listen-tcp HOST:PORT  plain TCP, unencrypted (read-only unless tcp_readonly = 0)
  --config FILE           settings file (default /etc/virtkit/virtkitd.conf,
                          ~/.config/virtkit/virtkitd.conf for a user)
  --stdio                 serve one client on stdin/stdout, then exit
  --log-level LEVEL       debug, info, warn or error
  --log-file FILE         JSON-lines log to FILE instead of stderr
  -h, --help              this text
  -V, --version           print the version
`;

interface Flags {
  config?: string;
  stdio: boolean;
  set: Partial<DaemonConfig>;
}

function parseFlags(argv: string[]): Flags | 'help' | 'version' {
  const f: Flags = { stdio: false, set: {} };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new VirtError('INVALID_ARG', `option ${a} needs a value`, { origin: 'virtkitd' });
      return v;
    };
    switch (a) {
      case '-h':
      case '--help':
        return 'help';
      case '-V':
      case '--version':
        return 'version';
      case '--root':
        f.set.root = next();
        break;
      case '--listen-unix':
        f.set.listenUnix = next();
        break;
      case '--listen-unix-ro':
        f.set.listenUnixRo = next();
        break;
      case '--listen-tls':
        f.set.listenTls = next();
        break;
      case '--listen-tcp':
        f.set.listenTcp = next();
        break;
      case '--config':
        f.config = next();
        break;
      case '--stdio':
        f.stdio = true;
        break;
      case '--log-level': {
        const l = next();
        if (!['debug', 'info', 'warn', 'error'].includes(l)) throw new VirtError('INVALID_ARG', `--log-level must be debug, info, warn or error`, { origin: 'virtkitd' });
        f.set.logLevel = l as LogLevel;
        break;
      }
      case '--log-file':
        f.set.logFile = next();
        break;
      default:
        throw new VirtError('INVALID_ARG', `unknown option '${a}' (see virtkitd --help)`, { origin: 'virtkitd' });
    }
  }
  return f;
}

function defaultConfigFile(): string | undefined {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const file = root ? '/etc/virtkit/virtkitd.conf' : join(process.env.XDG_CONFIG_HOME || join(process.env.HOME || homedir(), '.config'), 'virtkit', 'virtkitd.conf');
  return existsSync(file) ? file : undefined;
}

async function main(argv: string[]): Promise<number> {
  process.title = 'virtkitd';
  const flags = parseFlags(argv);
  if (flags === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags === 'version') {
    process.stdout.write('virtkitd 0.1.0 (protocol 1)\n');
    return 0;
  }
  const file = flags.config ?? defaultConfigFile();
  const config: DaemonConfig = { ...(file ? loadDaemonConfig(file) : defaultDaemonConfig()) };
  for (const [k, v] of Object.entries(flags.set)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;

  const log = new JsonLogger(config.logLevel, config.logFile);
  const daemon = new Daemon({ config, log });
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info('stopping', { reason: why });
      await daemon.stop();
      await log.close();
    })();
    return stopping;
  };

  if (flags.stdio) {
    // One client on stdin/stdout (for `ssh host virtkitd --stdio`); logs stay on stderr.
    const io = Duplex.from({ readable: process.stdin, writable: process.stdout });
    const session = daemon.accept(io, { access: 'stdio', peer: 'stdio', readonly: false });
    await new Promise<void>((resolve) => {
      if (!session) return resolve();
      session.peer.onClose(() => resolve());
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await stop('stdio client gone');
    return 0;
  }

  await daemon.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => void stop('SIGTERM').then(resolve));
    process.once('SIGINT', () => void stop('SIGINT').then(resolve));
    // Nothing to reload yet: keep running on SIGHUP instead of dying.
    process.on('SIGHUP', () => log.info('SIGHUP ignored: restart virtkitd to apply config changes'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    const ve = err instanceof VirtError ? err : new VirtError('INTERNAL_ERROR', String((err as Error)?.message ?? err));
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'virtkitd failed to start', code: ve.code, error: ve.message })}\n`);
    process.exit(1);
  },
);
