import { constants, openSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadStream } from 'node:tty';
import { VirtError } from '@virtkit/core';
import type { QemuDomains } from './domains.js';
import type { ConsoleEndpoint } from './record.js';
import { isActive } from './views.js';

/** A pty opened raw, as libvirt's virFDStreamOpenPTY does: bytes pass unchanged both ways. */
function openPty(path: string): Duplex {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  const s = new ReadStream(fd);
  s.setRawMode(true);
  return s;
}

function openUnix(path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * virDomainOpenConsole: a byte stream to the guest's serial console (or
 * another serial/console/channel by alias): its pty, or its listening unix
 * socket. `virtkit console NAME` uses it.
 */
export async function openDomainConsole(d: QemuDomains, uuid: string, opts: { device?: string; force?: boolean }): Promise<Duplex> {
  const v = await d.views.byUuid(uuid);
  if (!isActive(v)) throw new VirtError('OPERATION_INVALID', `Requested operation is not valid: domain '${v.name}' is not running`, { origin: 'qemu' });
  const eps: ConsoleEndpoint[] = v.record.consoles ?? [];
  const live = v.live;
  let ep: ConsoleEndpoint | undefined;
  if (opts.device) {
    // virsh accepts the alias or the device's name (serial0, console0, a channel name).
    const byName = live.devices.channels.find((c) => c.name === opts.device)?.info.alias;
    ep = eps.find((e) => e.alias === opts.device || e.alias === byName);
    if (!ep) throw new VirtError('NO_DEVICE', `cannot find character device ${opts.device} of domain '${v.name}'`, { origin: 'qemu' });
  } else {
    const first = live.devices.consoles[0]?.info.alias ?? live.devices.serials[0]?.info.alias;
    ep = eps.find((e) => e.alias === first) ?? eps[0];
    if (!ep) throw new VirtError('OPERATION_FAILED', `domain '${v.name}' has no console with a pty or unix socket to open`, { origin: 'qemu' });
  }
  try {
    return ep.kind === 'pty' ? openPty(ep.path) : await openUnix(ep.path);
  } catch (err) {
    throw new VirtError('OPERATION_FAILED', `cannot open the console ${ep.alias} of domain '${v.name}' (${ep.path}): ${(err as Error).message}`, { origin: 'qemu', cause: err });
  }
}
