import { VirtError, type NetworkUpdateCommand, type NetworkUpdateSection } from '@virtkit/core';
import { failingAs, JSON_OPTION, type CommandDef } from '../command.js';
import { formatJson, formatKeyValues, formatTable } from '../output.js';
import { readXmlFile } from './domain.js';
import { editXml, printXmlWithXpath, XPATH_OPTIONS } from './xml.js';
import { autostartCommand } from './autostart.js';

const netOption = { name: 'network', type: 'string', required: true, positional: true, help: 'network name or uuid' } as const;
const yn = (b: boolean) => (b ? 'yes' : 'no');

const netList: CommandDef = {
  name: 'net-list',
  group: 'Networking',
  summary: 'list networks',
  description: 'Returns list of networks.',
  options: [
    { name: 'inactive', type: 'bool', help: 'list inactive networks' },
    { name: 'all', type: 'bool', help: 'list inactive & active networks' },
    { name: 'persistent', type: 'bool', help: 'list persistent networks' },
    { name: 'transient', type: 'bool', help: 'list transient networks' },
    { name: 'autostart', type: 'bool', help: 'list networks with autostart enabled' },
    { name: 'no-autostart', type: 'bool', help: 'list networks with autostart disabled' },
    { name: 'uuid', type: 'bool', help: 'list uuid\'s only' },
    { name: 'name', type: 'bool', help: 'list network names only' },
    { name: 'table', type: 'bool', help: 'list table (default)' },
    JSON_OPTION,
  ],
  async run(ctx) {
    const o = ctx.opts;
    const all = o.flag('all');
    const nets = await (await ctx.conn()).listAllNetworks({
      active: all || !o.flag('inactive'),
      inactive: all || o.flag('inactive'),
      persistent: o.flag('persistent'),
      transient: o.flag('transient'),
      autostart: o.flag('autostart'),
      noAutostart: o.flag('no-autostart'),
    });
    nets.sort((a, b) => a.name.localeCompare(b.name));
    if (ctx.json) {
      ctx.out.write(
        formatJson(
          nets.map((n) => ({
            name: n.name,
            ...(o.flag('uuid') ? { uuid: n.uuid } : {}),
            state: n.lastSummary.active ? 'active' : 'inactive',
            autostart: n.lastSummary.autostart,
            persistent: n.lastSummary.persistent,
          })),
        ),
      );
      return;
    }
    if (o.flag('name') || o.flag('uuid')) {
      for (const n of nets) ctx.out.write(`${[o.flag('uuid') ? n.uuid : '', o.flag('name') ? n.name : ''].filter(Boolean).join(' ')}\n`);
      return;
    }
    ctx.out.write(
      formatTable(
        ['Name', 'State', 'Autostart', 'Persistent'],
        nets.map((n) => [n.name, n.lastSummary.active ? 'active' : 'inactive', yn(n.lastSummary.autostart), yn(n.lastSummary.persistent)]),
        !ctx.session.options.quiet,
      ),
    );
  },
};

const netInfo: CommandDef = {
  name: 'net-info',
  group: 'Networking',
  summary: 'network information',
  options: [netOption, JSON_OPTION],
  async run(ctx) {
    const n = await ctx.network();
    const s = await n.refresh();
    if (ctx.json) {
      ctx.out.write(formatJson({ name: s.name, uuid: s.uuid, active: s.active, persistent: s.persistent, autostart: s.autostart, bridge: s.bridge ?? null }));
      return;
    }
    const pairs: Array<[string, string]> = [
      ['Name', s.name],
      ['UUID', s.uuid],
      ['Active', yn(s.active)],
      ['Persistent', yn(s.persistent)],
      ['Autostart', yn(s.autostart)],
    ];
    if (s.bridge) pairs.push(['Bridge', s.bridge]);
    ctx.out.write(formatKeyValues(pairs));
  },
};

const netDumpxml: CommandDef = {
  name: 'net-dumpxml',
  group: 'Networking',
  summary: 'network information in XML',
  options: [netOption, { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }, ...XPATH_OPTIONS],
  async run(ctx) {
    const n = await ctx.network();
    printXmlWithXpath(ctx, await n.getXmlDesc({ inactive: ctx.opts.flag('inactive') }));
  },
};

const fileOption = { name: 'file', type: 'string', required: true, positional: true, help: 'file containing an XML network description' } as const;

const netDefine: CommandDef = {
  name: 'net-define',
  group: 'Networking',
  summary: 'define an inactive persistent virtual network or modify an existing persistent one from an XML file',
  options: [fileOption, { name: 'validate', type: 'bool', help: 'validate the XML against the schema' }],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const n = await failingAs(`Failed to define network from ${file}`, (await ctx.conn()).defineNetworkXml(xml, { validate: ctx.opts.flag('validate') }));
    ctx.out.write(`Network ${n.name} defined from ${file}\n`);
  },
};

const netCreate: CommandDef = {
  name: 'net-create',
  group: 'Networking',
  summary: 'create a network from an XML file',
  options: [fileOption, { name: 'validate', type: 'bool', help: 'validate the XML against the schema' }],
  async run(ctx) {
    const file = ctx.opts.req('file');
    const xml = await readXmlFile(file);
    const n = await failingAs(`Failed to create network from ${file}`, (await ctx.conn()).createNetworkXml(xml, { validate: ctx.opts.flag('validate') }));
    ctx.out.write(`Network ${n.name} created from ${file}\n`);
  },
};

function simple(name: string, summary: string, verb: string, act: (n: Awaited<ReturnType<import('../command.js').CommandContext['network']>>) => Promise<void>): CommandDef {
  return {
    name,
    group: 'Networking',
    summary,
    options: [netOption],
    async run(ctx) {
      const n = await ctx.network();
      await failingAs(`Failed to ${name.slice('net-'.length)} network ${n.name}`, act(n));
      ctx.out.write(`Network ${n.name} ${verb}\n`);
    },
  };
}

const netStart = simple('net-start', 'start a (previously defined) inactive network', 'started', (n) => n.start());
const netDestroy = simple('net-destroy', 'destroy (stop) a network', 'destroyed', (n) => n.destroy());
const netUndefine = simple('net-undefine', 'undefine a persistent network', 'has been undefined', (n) => n.undefine());

const netAutostart = autostartCommand({
  name: 'net-autostart',
  group: 'Networking',
  summary: 'autostart a network',
  option: netOption,
  lookup: (ctx) => ctx.network(),
  label: (n) => `Network ${n}`,
  failed: (n, on) => `failed to ${on ? 'mark' : 'unmark'} network ${n} as autostarted`,
});

const netUuid: CommandDef = {
  name: 'net-uuid',
  group: 'Networking',
  summary: 'convert a network name to network UUID',
  options: [{ ...netOption, help: 'network name' }],
  async run(ctx) {
    ctx.out.write(`${(await ctx.network()).uuid}\n`);
  },
};

const netName: CommandDef = {
  name: 'net-name',
  group: 'Networking',
  summary: 'convert a network UUID to network name',
  options: [{ name: 'network', type: 'string', required: true, positional: true, help: 'network uuid' }],
  async run(ctx) {
    ctx.out.write(`${(await ctx.network()).name}\n`);
  },
};

const netEdit: CommandDef = {
  name: 'net-edit',
  group: 'Networking',
  summary: 'edit XML configuration for a network',
  options: [netOption],
  async run(ctx) {
    const n = await ctx.network();
    const conn = await ctx.conn();
    return editXml(ctx, 'Network', await n.getXmlDesc({ inactive: true }), async (xml) => (await conn.defineNetworkXml(xml)).name);
  },
};

const UPDATE_COMMANDS = ['add', 'add-last', 'add-first', 'delete', 'modify'];
const UPDATE_SECTIONS = ['bridge', 'domain', 'ip', 'ip-dhcp-host', 'ip-dhcp-range', 'forward', 'forward-interface', 'forward-pf', 'portgroup', 'dns-host', 'dns-txt', 'dns-srv'];

const netUpdate: CommandDef = {
  name: 'net-update',
  group: 'Networking',
  summary: 'update parts of an existing network\'s configuration',
  options: [
    netOption,
    { name: 'command', type: 'string', required: true, positional: true, help: 'type of update (add-first, add-last (add), delete, or modify)' },
    { name: 'section', type: 'string', required: true, positional: true, help: 'which section of network configuration to update' },
    { name: 'xml', type: 'string', required: true, positional: true, help: 'name of file containing xml (or, if it starts with \'<\', the complete text of the xml element to add/modify' },
    { name: 'parent-index', type: 'int', help: 'which parent object to search through' },
    { name: 'config', type: 'bool', help: 'affect next network startup' },
    { name: 'live', type: 'bool', help: 'affect running network' },
    { name: 'current', type: 'bool', help: 'affect current state of network' },
  ],
  exclusive: [['current', 'live'], ['current', 'config']],
  async run(ctx) {
    const command = ctx.opts.req('command');
    const section = ctx.opts.req('section');
    if (!UPDATE_COMMANDS.includes(command)) throw new VirtError('INVALID_ARG', `unrecognized command name '${command}'`);
    if (!UPDATE_SECTIONS.includes(section)) throw new VirtError('INVALID_ARG', `unrecognized section name '${section}'`);
    const arg = ctx.opts.req('xml');
    const xml = arg.trimStart().startsWith('<') ? arg : await readXmlFile(arg);
    const n = await ctx.network();
    const live = ctx.opts.flag('live');
    const config = ctx.opts.flag('config');
    const parentIndex = ctx.opts.int('parent-index', -1, 65535);
    await n.update((command === 'add' ? 'add-last' : command) as NetworkUpdateCommand, section as NetworkUpdateSection, xml, {
      live,
      config,
      current: ctx.opts.flag('current') || (!live && !config),
      ...(parentIndex !== undefined ? { parentIndex } : {}),
    });
    // As virsh: without --live/--config the update went to the live state of a running network, else to its config.
    const where = config ? (live ? 'persistent config and live state' : 'persistent config') : live || (await n.isActive()) ? 'live state' : 'persistent config';
    ctx.out.write(`Updated network ${n.name} ${where}\n`);
  },
};

const netDhcpLeases: CommandDef = {
  name: 'net-dhcp-leases',
  group: 'Networking',
  summary: 'print lease info for a given network',
  options: [netOption, { name: 'mac', type: 'string', help: 'MAC address' }, JSON_OPTION],
  async run(ctx) {
    const n = await ctx.network();
    const leases = await n.getDhcpLeases(ctx.opts.str('mac'));
    leases.sort((a, b) => a.mac.localeCompare(b.mac));
    const expiry = (t: number) => {
      const d = new Date(t * 1000);
      const p = (x: number) => String(x).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    if (ctx.json) {
      ctx.out.write(
        formatJson(
          leases.map((l) => ({ expiryTime: expiry(l.expiryTime), macAddress: l.mac, protocol: l.type, ipAddress: `${l.ipaddr}/${l.prefix}`, hostname: l.hostname ?? null, clientIdOrDuid: l.clientId ?? null })),
        ),
      );
      return;
    }
    ctx.out.write(
      formatTable(
        ['Expiry Time', 'MAC address', 'Protocol', 'IP address', 'Hostname', 'Client ID or DUID'],
        leases.map((l) => [expiry(l.expiryTime), l.mac, l.type, `${l.ipaddr}/${l.prefix}`, l.hostname ?? '-', l.clientId ?? '-']),
        !ctx.session.options.quiet,
      ),
    );
  },
};

export const networkCommands: CommandDef[] = [
  netList, netInfo, netDumpxml, netDefine, netCreate, netStart, netDestroy, netUndefine, netAutostart,
  netUuid, netName, netEdit, netUpdate, netDhcpLeases,
];
