import { VirtError } from '@virtkit/core';
import { shellQuote } from '../command/argv.js';
import { runtimeCommandLine } from './command-line.js';
import type { QemuDomains } from './domains.js';

/**
 * virConnectDomainXMLToNative for `qemu-argv`: the command line a start of
 * this XML would run, as one shell line (environment, binary, arguments),
 * like `virsh domxml-to-native qemu-argv`.
 */
export async function xmlToNative(d: QemuDomains, format: string, xml: string): Promise<string> {
  if (format !== 'qemu-argv') throw new VirtError('INVALID_ARG', `unsupported config type ${format} (the QEMU driver converts to 'qemu-argv')`, { origin: 'qemu' });
  const def = await d.parse(xml);
  const binary = await d.ctx.binaryFor(def);
  const caps = await d.ctx.caps(binary);
  const cmd = runtimeCommandLine(d.ctx, def, caps, { id: -1, accel: def.type === 'kvm' ? 'kvm' : 'tcg' });
  const words = [...Object.entries(cmd.env).map(([k, v]) => `${k}=${shellQuote(v)}`), shellQuote(binary), ...cmd.args.map(shellQuote)];
  return `${words.join(' ')}\n`;
}

/**
 * `domxml-to-native qemu-argv` without an open connection (the CLI's
 * offline conversion): the command line for `qemu:///session`'s folders.
 */
export async function domainXmlToQemuArgvLine(xml: string): Promise<string> {
  const { EventBus, parseUri } = await import('@virtkit/core');
  const { QemuDriverContext } = await import('./context.js');
  const { QemuDomains } = await import('./domains.js');
  const ctx = new QemuDriverContext(parseUri('qemu:///session'), new EventBus(), {
    storageBackend: async () => undefined,
    networkMode: async () => undefined,
    list: () => [],
  });
  return xmlToNative(new QemuDomains(ctx), 'qemu-argv', xml);
}
