/**
 * Running a network's dnsmasq: it daemonizes after writing its pid file
 * (the parent waits for that, so the pid is known once the command
 * returns), re-reads the hosts files on SIGHUP, and is stopped with
 * SIGTERM (then SIGKILL). A pid is only signalled while /proc says it is
 * a dnsmasq started with this network's configuration file, so a reused
 * pid never hits someone else's process.
 */
import { readFile, unlink } from 'node:fs/promises';
import { VirtError, type HostCommandRunner } from '@virtkit/core';

const ORIGIN = { origin: 'network.dnsmasq' };

export interface DnsmasqLaunch {
  binary?: string;
  confFile: string;
  pidFile: string;
  leaseFile: string;
  /** `--user=`: the account dnsmasq switches to (it must be able to read the hosts files). */
  user?: string;
  what?: string;
}

/** The argv libvirt-style: configuration in a file, leases in our own file. */
export function dnsmasqArgv(o: DnsmasqLaunch): string[] {
  const argv = [o.binary ?? 'dnsmasq', `--conf-file=${o.confFile}`, `--dhcp-leasefile=${o.leaseFile}`];
  if (o.user) argv.push(`--user=${o.user}`);
  return argv;
}

export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether `pid` is a live (not zombie) process whose command line holds `marker`. */
export async function processRunsWith(pid: number, marker: string): Promise<boolean> {
  const [cmdline, stat] = await Promise.all([
    readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined),
    readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined),
  ]);
  if (!cmdline || !stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return cmdline.split('\0').some((a) => a.includes(marker));
}

/** Starts dnsmasq; returns its pid. */
export async function startDnsmasq(runner: HostCommandRunner, o: DnsmasqLaunch): Promise<number> {
  await unlink(o.pidFile).catch(() => {});
  await runner.run(dnsmasqArgv(o), { what: `${o.what ? `${o.what}: ` : ''}start dnsmasq` });
  const pid = await readPidFile(o.pidFile);
  if (!pid) throw new VirtError('SYSTEM_ERROR', `${o.what ? `${o.what}: ` : ''}dnsmasq started but wrote no pid file ${o.pidFile}`, ORIGIN);
  return pid;
}

/** Whether the dnsmasq of this configuration file runs (by pid, else by its pid file). */
export async function dnsmasqRunning(confFile: string, pid: number | undefined, pidFile?: string): Promise<number | undefined> {
  for (const p of [pid, pidFile ? await readPidFile(pidFile) : undefined]) {
    if (p && (await processRunsWith(p, confFile))) return p;
  }
  return undefined;
}

/** Asks a running dnsmasq to re-read its hosts files. Returns false when it is not running. */
export async function reloadDnsmasq(confFile: string, pid: number | undefined, pidFile?: string): Promise<boolean> {
  const p = await dnsmasqRunning(confFile, pid, pidFile);
  if (!p) return false;
  process.kill(p, 'SIGHUP');
  return true;
}

/**
 * Whether a process has finished exiting. Its command line empties early
 * in exit, before its sockets are closed, so only a missing /proc entry
 * or a zombie counts.
 */
async function processGone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return true;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let delay = 2; Date.now() < end; delay = Math.min(delay * 2, 50)) {
    if (await processGone(pid)) return true;
    await new Promise((r) => setTimeout(r, delay));
  }
  return processGone(pid);
}

/** Stops the dnsmasq of this configuration file (SIGTERM, then SIGKILL) and removes its pid file. */
export async function stopDnsmasq(confFile: string, pid: number | undefined, pidFile?: string): Promise<void> {
  const p = await dnsmasqRunning(confFile, pid, pidFile);
  if (p) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* already gone */
    }
    if (!(await waitGone(p, 3000))) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
      if (!(await waitGone(p, 3000))) {
        throw new VirtError('OPERATION_FAILED', `dnsmasq (pid ${p}) of ${confFile} does not stop`, ORIGIN);
      }
    }
  }
  if (pidFile) await unlink(pidFile).catch(() => {});
}
