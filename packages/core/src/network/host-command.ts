/**
 * Runs host networking tools (ip, nft, dnsmasq, sysctl) with argv arrays,
 * never through a shell, optionally inside a named network namespace
 * (`ip netns exec NS …`; `ip -n NS …` for ip itself). The namespace is how
 * tests and containers keep virtkit's networks off the host's own stack.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { VirtError } from '../errors.js';

export interface HostCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostCommandOptions {
  /** Written to the child's stdin (nft -f -). */
  input?: string;
  /** Kill the child after this long (default 30 s). */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Extra environment (PATH and LC_ALL=C are always set). */
  env?: Record<string, string>;
  /** What the command is for, in error messages ("network 'default': create bridge"). */
  what?: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Namespace names as `ip netns` accepts them (a file name under /run/netns). */
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class HostCommandRunner {
  readonly netns?: string;

  constructor(netns?: string) {
    if (netns !== undefined) {
      if (!NETNS_NAME.test(netns) || netns === '.' || netns === '..') {
        throw new VirtError('INVALID_ARG', `invalid network namespace name '${netns}'`, { origin: 'network' });
      }
      this.netns = netns;
    }
  }

  /** The argv that runs `cmd` in this runner's namespace. */
  wrap(cmd: readonly string[]): string[] {
    if (!this.netns) return [...cmd];
    if (cmd[0] === 'ip') return ['ip', '-n', this.netns, ...cmd.slice(1)];
    return ['ip', 'netns', 'exec', this.netns, ...cmd];
  }

  /** Runs a command; throws SYSTEM_ERROR naming `what` and the tool's own message on failure. */
  run(cmd: readonly string[], opts: HostCommandOptions = {}): Promise<HostCommandResult> {
    const argv = this.wrap(cmd);
    const what = opts.what ?? argv.join(' ');
    return new Promise((resolve, reject) => {
      let child;
      try {
        child = spawn(argv[0]!, argv.slice(1), {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${DEFAULT_PATH}`, LC_ALL: 'C', ...(opts.env ?? {}) },
        });
      } catch (err) {
        reject(new VirtError('SYSTEM_ERROR', `${what}: cannot run '${argv[0]}': ${(err as Error).message}`, { origin: 'network', cause: err }));
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let settled = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 30_000);
      timer.unref?.();
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => errOut.push(b));
      child.on('error', (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new VirtError('SYSTEM_ERROR', `${what}: cannot run '${argv[0]}': ${err.message}`, { origin: 'network', cause: err }));
      });
      child.on('close', (code, signal) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const result = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') };
        if (result.code !== 0 && !opts.allowFailure) {
          const msg = result.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || `exit status ${result.code}${signal ? ` (${signal})` : ''}`;
          reject(new VirtError('SYSTEM_ERROR', `${what}: ${msg}`, { origin: 'network' }));
          return;
        }
        resolve(result);
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Runs `ip -j …` and parses its JSON (an empty output is an empty list). */
  async ipJson<T = unknown>(args: readonly string[], what?: string): Promise<T[]> {
    const r = await this.run(['ip', '-j', ...args], { what });
    const text = r.stdout.trim();
    if (!text) return [];
    try {
      const v = JSON.parse(text) as unknown;
      return Array.isArray(v) ? (v as T[]) : [];
    } catch (err) {
      throw new VirtError('INTERNAL_ERROR', `${what ?? `ip -j ${args.join(' ')}`}: cannot parse the JSON output of ip`, { origin: 'network', cause: err });
    }
  }

  /**
   * Sets a sysctl in this runner's namespace. `key` uses '/' separators
   * (`net/ipv6/conf/virbr0/disable_ipv6`), so device names with dots work.
   * Outside a namespace the /proc/sys file is written directly.
   */
  async setSysctl(key: string, value: string, what?: string): Promise<void> {
    checkSysctlKey(key);
    if (!this.netns) {
      try {
        await writeFile(`/proc/sys/${key}`, `${value}\n`);
        return;
      } catch (err) {
        throw new VirtError('SYSTEM_ERROR', `${what ?? `set ${key}`}: cannot write /proc/sys/${key}: ${(err as Error).message}`, { origin: 'network', cause: err });
      }
    }
    await this.run(['sysctl', '-q', '-w', `${key}=${value}`], { what: what ?? `set ${key}` });
  }

  /** Reads a sysctl ('/' separators); undefined when it does not exist. */
  async getSysctl(key: string): Promise<string | undefined> {
    checkSysctlKey(key);
    if (!this.netns) return (await readFile(`/proc/sys/${key}`, 'utf8').catch(() => undefined))?.trim();
    const r = await this.run(['sysctl', '-n', key], { allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  }
}

function checkSysctlKey(key: string): void {
  if (!/^[A-Za-z0-9_.\-/]+$/.test(key) || key.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new VirtError('INVALID_ARG', `invalid sysctl name '${key}'`, { origin: 'network' });
  }
}
