import { createRequire } from 'node:module';
import { JSON_OPTION, type CommandDef } from '../command.js';
import { formatJson, formatKeyValues } from '../output.js';

/** virtkit's own version, read from the CLI package. */
export function cliVersion(): string {
  const req = createRequire(import.meta.url);
  try {
    return (req('../package.json') as { version: string }).version;
  } catch {
    return (req('../../package.json') as { version: string }).version;
  }
}

const capabilities: CommandDef = {
  name: 'capabilities',
  group: 'Host and Hypervisor',
  summary: 'capabilities',
  description: 'Returns capabilities of hypervisor/driver.',
  options: [{ name: 'xpath', type: 'string', help: 'xpath expression to filter the XML document' }, { name: 'wrap', type: 'bool', help: 'wrap xpath results in an common root element' }],
  async run(ctx) {
    const xml = await (await ctx.conn()).getCapabilities();
    const { printXmlWithXpath } = await import('./xml.js');
    // virsh prints the capabilities document followed by an empty line.
    printXmlWithXpath(ctx, ctx.opts.str('xpath') ? xml : `${xml}\n`);
  },
};

const nodeinfo: CommandDef = {
  name: 'nodeinfo',
  group: 'Host and Hypervisor',
  summary: 'node information',
  description: 'Returns basic information about the node.',
  options: [JSON_OPTION],
  async run(ctx) {
    const n = await (await ctx.conn()).getNodeInfo();
    if (ctx.json) {
      ctx.out.write(formatJson({ cpuModel: n.model, cpus: n.cpus, cpuFrequency: n.mhz, cpuSockets: n.sockets, coresPerSocket: n.cores, threadsPerCore: n.threads, numaCells: n.nodes, memorySize: n.memoryKiB }));
      return;
    }
    ctx.out.write(
      formatKeyValues(
        [
          ['CPU model', n.model],
          ['CPU(s)', String(n.cpus)],
          ['CPU frequency', `${n.mhz} MHz`],
          ['CPU socket(s)', String(n.sockets)],
          ['Core(s) per socket', String(n.cores)],
          ['Thread(s) per core', String(n.threads)],
          ['NUMA cell(s)', String(n.nodes)],
          ['Memory size', `${n.memoryKiB} KiB`],
        ],
        20,
      ),
    );
  },
};

const version: CommandDef = {
  name: 'version',
  group: 'Host and Hypervisor',
  summary: 'show version',
  description: 'Display the system version information.',
  options: [{ name: 'daemon', type: 'bool', help: 'report daemon version too' }, JSON_OPTION],
  async run(ctx) {
    const v = cliVersion();
    const hv = await (await ctx.conn()).getVersion();
    const type = hv.hypervisor.toUpperCase();
    if (ctx.json) {
      ctx.out.write(formatJson({ library: v, api: v, hypervisor: type, hypervisorVersion: hv.version }));
      return;
    }
    ctx.out.write(`Compiled against library: virtkit ${v}\nUsing library: virtkit ${v}\nUsing API: ${type} ${v}\nRunning hypervisor: ${type} ${hv.version}\n`);
  },
};

const uri: CommandDef = {
  name: 'uri',
  group: 'Host and Hypervisor',
  summary: 'print the hypervisor canonical URI',
  options: [],
  async run(ctx) {
    ctx.out.write(`${(await ctx.conn()).getUri()}\n`);
  },
};

const hostname: CommandDef = {
  name: 'hostname',
  group: 'Host and Hypervisor',
  summary: 'print the hypervisor hostname',
  options: [],
  async run(ctx) {
    ctx.out.write(`${await (await ctx.conn()).getHostname()}\n`);
  },
};

const freemem: CommandDef = {
  name: 'freecell',
  aliases: ['freemem'],
  group: 'Host and Hypervisor',
  summary: 'NUMA free memory',
  options: [JSON_OPTION],
  async run(ctx) {
    const bytes = await (await ctx.conn()).getFreeMemory();
    if (ctx.json) ctx.out.write(formatJson({ total: Math.floor(bytes / 1024) }));
    else ctx.out.write(`Total: ${Math.floor(bytes / 1024)} KiB\n`);
  },
};

export const hostCommands: CommandDef[] = [capabilities, nodeinfo, version, uri, hostname, freemem];
