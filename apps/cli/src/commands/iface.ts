import { JSON_OPTION, type CommandDef } from '../command.js';
import { formatJson, formatTable } from '../output.js';
import { printXmlWithXpath, XPATH_OPTIONS } from './xml.js';

const ifaceOption = { name: 'interface', type: 'string', required: true, positional: true, help: 'interface name or MAC address' } as const;

const ifaceList: CommandDef = {
  name: 'iface-list',
  group: 'Interface',
  summary: 'list physical host interfaces',
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive interfaces' },
    { name: 'all', type: 'bool', help: 'list inactive & active interfaces' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const all = ctx.opts.flag('all');
    const inactive = ctx.opts.flag('inactive');
    const ifaces = await (await ctx.conn()).listAllInterfaces({ active: all || !inactive, inactive: all || inactive });
    ifaces.sort((a, b) => a.name.localeCompare(b.name));
    if (ctx.json) {
      ctx.out.write(formatJson(ifaces.map((i) => ({ name: i.name, state: i.isActive() ? 'active' : 'inactive', macAddress: i.mac }))));
      return;
    }
    ctx.out.write(formatTable(['Name', 'State', 'MAC Address'], ifaces.map((i) => [i.name, i.isActive() ? 'active' : 'inactive', i.mac]), !ctx.session.options.quiet));
  },
};

const ifaceDumpxml: CommandDef = {
  name: 'iface-dumpxml',
  group: 'Interface',
  summary: 'interface information in XML',
  options: [ifaceOption, { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }, ...XPATH_OPTIONS],
  async run(ctx) {
    const i = await (await ctx.conn()).lookupInterface(ctx.opts.req('interface'));
    printXmlWithXpath(ctx, await i.getXmlDesc({ inactive: ctx.opts.flag('inactive') }));
  },
};

const ifaceMac: CommandDef = {
  name: 'iface-mac',
  group: 'Interface',
  summary: 'convert an interface name to interface MAC address',
  options: [{ name: 'interface', type: 'string', required: true, positional: true, help: 'interface name' }],
  async run(ctx) {
    ctx.out.write(`${(await (await ctx.conn()).lookupInterface(ctx.opts.req('interface'))).mac}\n`);
  },
};

const ifaceName: CommandDef = {
  name: 'iface-name',
  group: 'Interface',
  summary: 'convert an interface MAC address to interface name',
  options: [{ name: 'interface', type: 'string', required: true, positional: true, help: 'interface mac' }],
  async run(ctx) {
    ctx.out.write(`${(await (await ctx.conn()).lookupInterface(ctx.opts.req('interface'))).name}\n`);
  },
};

export const ifaceCommands: CommandDef[] = [ifaceList, ifaceDumpxml, ifaceMac, ifaceName];
