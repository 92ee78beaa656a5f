import { VirtError, type Connection } from '@virtkit/core';
import type { CommandContext, CommandDef } from '../command.js';
import { readXmlFile } from './domain.js';

/**
 * Native formats that convert without their hypervisor (virsh needs a
 * connection to the driver; these work offline too): xl.cfg through the
 * Xen driver's converters, LXC configs through the LXC driver's, QEMU
 * command lines through the QEMU driver's builder.
 */
interface OfflineConverter {
  /** The driver whose connection converts this format itself. */
  driver: string;
  fromNative(config: string): Promise<string>;
  toNative(xml: string): Promise<string>;
}

const OFFLINE: Record<string, OfflineConverter> = {
  'xen-xl': {
    driver: 'xen',
    fromNative: async (cfg) => (await import('@virtkit/driver-xen')).xlToDomainXml(cfg),
    toNative: async (xml) => (await import('@virtkit/driver-xen')).domainXmlToXl(xml),
  },
  'qemu-argv': {
    driver: 'qemu',
    fromNative: async () => {
      throw new VirtError('NO_SUPPORT', 'converting a QEMU command line to domain XML is not supported');
    },
    toNative: async (xml) => (await import('@virtkit/driver-qemu')).domainXmlToQemuArgvLine(xml),
  },
  'lxc-tools': {
    driver: 'lxc',
    fromNative: async (cfg) => (await import('@virtkit/driver-lxc')).lxcConfigToDomainXml(cfg),
    toNative: async (xml) => (await import('@virtkit/driver-lxc')).lxcDomainXmlToConfig(xml),
  },
};

/**
 * Converts through the connection's driver when it is the format's own (or
 * the format has no offline converter), else offline; a connection that
 * cannot be opened or does not convert falls back to offline as well.
 */
async function convert(ctx: CommandContext, format: string, viaConnection: (c: Connection) => Promise<string>, offline: (o: OfflineConverter) => Promise<string>): Promise<string> {
  const off = OFFLINE[format];
  let conn: Connection | undefined;
  try {
    conn = await ctx.conn();
  } catch (err) {
    if (!off) throw err;
  }
  if (conn && (!off || conn.driver.name === off.driver)) {
    try {
      return await viaConnection(conn);
    } catch (err) {
      if (!off || !VirtError.is(err, 'NO_SUPPORT')) throw err;
    }
  }
  return offline(off!);
}

/** `domxml-from-native FORMAT CONFIG`: a native config (`xen-xl`, `lxc-tools`) to domain XML. */
const domxmlFromNative: CommandDef = {
  name: 'domxml-from-native',
  group: 'Domain Management',
  summary: 'Convert native config to domain XML',
  description: 'Convert a native guest configuration format (xen-xl for xl.cfg, lxc-tools for LXC config files) to domain XML.',
  options: [
    { name: 'format', type: 'string', required: true, positional: true, help: 'source config data format' },
    { name: 'config', type: 'string', required: true, positional: true, help: 'config data file to import from' },
  ],
  async run(ctx) {
    const format = ctx.opts.req('format');
    const config = await readXmlFile(ctx.opts.req('config'));
    const xml = await convert(ctx, format, (c) => c.domainXmlFromNative(format, config), (o) => o.fromNative(config));
    ctx.out.write(xml.endsWith('\n') ? xml : `${xml}\n`);
  },
};

/** `domxml-to-native FORMAT [--xml FILE] [--domain DOMAIN]`: domain XML to a native config. */
const domxmlToNative: CommandDef = {
  name: 'domxml-to-native',
  group: 'Domain Management',
  summary: 'Convert domain XML to native config',
  description: 'Convert a domain XML file, or the definition of a domain, to a native guest configuration format.',
  options: [
    { name: 'format', type: 'string', required: true, positional: true, help: 'target config data type format' },
    { name: 'xml', type: 'string', positional: true, help: 'xml data file to export from' },
    { name: 'domain', type: 'string', help: 'domain name, id or uuid' },
  ],
  exclusive: [['xml', 'domain']],
  async run(ctx) {
    const format = ctx.opts.req('format');
    const file = ctx.opts.str('xml');
    let xml: string;
    if (file !== undefined) xml = await readXmlFile(file);
    else if (ctx.opts.str('domain') !== undefined) xml = await (await ctx.domain('domain')).getXmlDesc({ inactive: true });
    else throw new VirtError('INVALID_ARG', 'either --domain or --xml must be specified');
    const native = await convert(ctx, format, (c) => c.domainXmlToNative(format, xml), (o) => o.toNative(xml));
    ctx.out.write(native.endsWith('\n') ? native : `${native}\n`);
  },
};

export const nativeCommands: CommandDef[] = [domxmlFromNative, domxmlToNative];
