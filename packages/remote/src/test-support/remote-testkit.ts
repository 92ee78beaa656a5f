import { Connection } from '@virtkit/core';
import { runDriverTestkit } from '@virtkit/driver-testkit';
import type { RunningDaemon } from './daemon-process.js';
import type { TestSshd } from './sshd.js';

export interface RemoteTestkitOptions {
  /** Driver scheme on the daemon's side: `test`, `qemu`, … */
  driver: string;
  /** Path of the URI (`/default`, `/system`: a daemon started with --root serves /system under its root). */
  path: string;
  domainXml(name: string, uuid?: string): string;
  /** The running daemon and sshd (read when the suites open, after the file's beforeAll). */
  daemon(): RunningDaemon;
  sshd?(): TestSshd;
  timeoutMs?: number;
  /** The guest powers off by itself on `shutdown` (real guests: QEMU's test guest). */
  guestHandlesShutdown?: boolean;
  /** Runs after each suite (after the kit removed its domains). */
  cleanup?(): Promise<void>;
}

/**
 * Registers the shared driver testkit through the remote driver: once over
 * the unix socket and, when an sshd is given, once over +ssh. This is the
 * hook for every driver the daemon serves (the test driver in
 * testkit.test.ts, the QEMU driver in qemu-testkit.test.ts).
 */
export function runRemoteTestkit(o: RemoteTestkitOptions): void {
  const common = {
    domainXml: o.domainXml,
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.guestHandlesShutdown ? { guestHandlesShutdown: true } : {}),
    ...(o.cleanup ? { cleanup: o.cleanup } : {}),
  };
  const unix = (sock: string) => `${o.driver}+unix://${o.path}?socket=${sock}`;
  runDriverTestkit({
    name: `remote +unix → ${o.driver}://${o.path}`,
    prefix: `vkru${process.pid}`,
    open: () => Connection.open(unix(o.daemon().rw)),
    openReadonly: () => Connection.open(unix(o.daemon().ro), { readonly: true }),
    ...common,
  });
  if (!o.sshd) return;
  const getSshd = o.sshd;
  const ssh = (sock: string) => {
    const s = getSshd();
    return `${o.driver}+ssh://${s.user}@127.0.0.1:${s.port}${o.path}?socket=${sock}&keyfile=${s.userKey}&known_hosts=${s.knownHosts}`;
  };
  runDriverTestkit({
    name: `remote +ssh → ${o.driver}://${o.path}`,
    prefix: `vkrs${process.pid}`,
    open: () => Connection.open(ssh(o.daemon().rw)),
    openReadonly: () => Connection.open(ssh(o.daemon().ro), { readonly: true }),
    ...common,
  });
}
