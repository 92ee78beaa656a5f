import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSocketPaths } from '../daemon/daemon.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The package folder (src/test-support → ..). */
export const PACKAGE_DIR = join(here, '..', '..');
export const VIRTKITD = join(PACKAGE_DIR, 'dist', 'virtkitd.js');
/** Holds the stub driver the protocol tests use (stub:///default). */
export const FIXTURE_PLUGINS = join(PACKAGE_DIR, 'test-fixtures');

/** A short per-run temp folder (unix socket paths must stay under 108 bytes). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningDaemon {
  dir: string;
  rw: string;
  ro: string;
  proc: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Waits for a log line matching pred. */
  waitLog(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
  /** Starts it again with the same settings. */
  restart(): Promise<void>;
}

export interface DaemonStartOptions {
  /** Folder for sockets, state and config (default: a new temp folder). */
  dir?: string;
  /** virtkitd.conf text. */
  config?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Listen on the default sockets of --root (what the CLI looks for) instead of DIR/s and DIR/s-ro. */
  defaultSockets?: boolean;
}

/** All daemons started by this test process, stopped by `stopAllDaemons` (afterAll) even when a test failed. */
const running = new Set<RunningDaemon>();

/** Starts `virtkitd --root DIR --listen-unix DIR/s --listen-unix-ro DIR/s-ro` and waits until it listens. */
export async function startDaemon(o: DaemonStartOptions = {}): Promise<RunningDaemon> {
  const dir = o.dir ?? tempDir('vkd');
  const root = join(dir, 'root');
  const sockets = o.defaultSockets ? defaultSocketPaths({ root }) : { rw: join(dir, 's'), ro: join(dir, 's-ro') };
  const { rw, ro } = sockets;
  const listen = o.defaultSockets ? [] : ['--listen-unix', rw, '--listen-unix-ro', ro];
  const args = [VIRTKITD, '--root', root, ...listen, ...(o.args ?? [])];
  if (o.config !== undefined) {
    writeFileSync(join(dir, 'virtkitd.conf'), o.config);
    args.push('--config', join(dir, 'virtkitd.conf'));
  }
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let proc!: ChildProcess;
  let stderrTail = '';

  const launch = async () => {
    proc = spawn(process.execPath, args, {
      env: { ...process.env, VIRTKIT_PLUGIN_PATH: FIXTURE_PLUGINS, ...o.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buf = '';
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        stderrTail = (stderrTail + line + '\n').slice(-4000);
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not a log line */
        }
        for (const w of [...waiters]) w();
      }
    });
    const started = logs.length;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (logs.slice(started).some((l) => l.msg === 'virtkitd started')) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`virtkitd exited (${code}) before listening:\n${stderrTail}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`virtkitd did not start within 15 s:\n${stderrTail}`));
      }, 15000);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        proc.off('exit', onExit);
      };
      waiters.add(check);
      proc.once('exit', onExit);
    });
  };

  const exited = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
    });

  const d: RunningDaemon = {
    dir,
    rw,
    ro,
    get proc() {
      return proc;
    },
    logs,
    waitLog(pred, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = logs.find(pred);
          if (hit) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line within ${ms} ms; last lines:\n${stderrTail}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited();
        clearTimeout(t);
      }
      running.delete(d);
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited();
    },
    async restart() {
      await launch();
    },
  } as RunningDaemon;
  await launch();
  running.add(d);
  return d;
}

export async function stopAllDaemons(): Promise<void> {
  for (const d of [...running]) await d.stop().catch(() => {});
}
