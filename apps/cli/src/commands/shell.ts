import { escapeXml, VirtError } from '@virtkit/core';
import type { CommandDef, OptionDef } from '../command.js';

/** Help groups and their keywords, in virsh's order. */
export const GROUPS: Array<[string, string]> = [
  ['Domain Management', 'domain'],
  ['Domain Monitoring', 'monitor'],
  ['Domain Events', 'events'],
  ['Host and Hypervisor', 'host'],
  ['Interface', 'interface'],
  ['Networking', 'network'],
  ['Storage Pool', 'pool'],
  ['Storage Volume', 'volume'],
  ['Virsh itself', 'virsh'],
];

function optionSynopsis(o: OptionDef): string {
  const arg = o.type === 'bool' ? '' : o.type === 'int' ? ' <number>' : o.type === 'argv' ? ' <string>...' : ' <string>';
  if (o.positional || o.type === 'argv') {
    const s = `<${o.name}>`;
    return o.required ? s : `[${s}]`;
  }
  const s = `--${o.name}${arg}`;
  return o.required ? s : `[${s}]`;
}

/** The per-command help page, laid out as virsh's. */
export function commandHelp(cmd: CommandDef): string {
  let s = `  NAME\n    ${cmd.name} - ${cmd.summary}\n\n  SYNOPSIS\n    ${[cmd.name, ...cmd.options.map(optionSynopsis)].join(' ')}\n`;
  if (cmd.description) s += `\n  DESCRIPTION\n    ${cmd.description}\n`;
  if (cmd.options.length) {
    s += '\n  OPTIONS\n';
    for (const o of cmd.options) {
      const arg = o.type === 'bool' ? '' : o.type === 'int' ? ' <number>' : ' <string>';
      // As virsh: an option that may be given by position has its name in brackets.
      const name = o.positional || o.type === 'argv' ? `[--${o.name}]${arg}` : `--${o.name}${arg}`;
      s += `    ${name.padEnd(15)}  ${o.help}\n`;
    }
  }
  return `${s}\n`;
}

export function makeShellCommands(all: () => CommandDef[]): CommandDef[] {
  const help: CommandDef = {
    name: 'help',
    group: 'Virsh itself',
    summary: 'print help',
    description: 'Prints global help, command specific help, or help for a group of related commands',
    options: [{ name: 'command', type: 'string', positional: true, help: 'Prints global help, command specific help, or help for a group of related commands' }],
    noConnect: true,
    async run(ctx) {
      const what = ctx.opts.str('command');
      const cmds = all();
      if (what) {
        const cmd = cmds.find((c) => c.name === what || c.aliases?.includes(what));
        if (cmd) return void ctx.out.write(commandHelp(cmd));
        const group = GROUPS.find(([g, kw]) => kw === what || g === what);
        if (!group) throw new VirtError('INVALID_ARG', `command or command group '${what}' doesn't exist`);
        ctx.out.write(` ${group[0]} (help keyword '${group[1]}'):\n`);
        for (const c of cmds.filter((c) => c.group === group[0])) ctx.out.write(`    ${c.name.padEnd(30)} ${c.summary}\n`);
        return;
      }
      ctx.out.write('Grouped commands:\n\n');
      for (const [g, kw] of GROUPS) {
        const inGroup = cmds.filter((c) => c.group === g);
        if (!inGroup.length) continue;
        ctx.out.write(` ${g} (help keyword '${kw}'):\n`);
        for (const c of inGroup) ctx.out.write(`    ${c.name.padEnd(30)} ${c.summary}\n`);
        ctx.out.write('\n');
      }
    },
  };
  const quit: CommandDef = {
    name: 'quit',
    aliases: ['exit'],
    group: 'Virsh itself',
    summary: 'quit this interactive terminal',
    options: [],
    noConnect: true,
    async run() {},
  };
  const connect: CommandDef = {
    name: 'connect',
    group: 'Virsh itself',
    summary: '(re)connect to hypervisor',
    options: [
      { name: 'name', type: 'string', positional: true, help: 'hypervisor connection URI' },
      { name: 'readonly', type: 'bool', help: 'read-only connection' },
    ],
    noConnect: true,
    async run(ctx) {
      await ctx.session.reconnect(ctx.opts.str('name') ?? ctx.session.options.uri, ctx.opts.flag('readonly'));
    },
  };
  const echo: CommandDef = {
    name: 'echo',
    group: 'Virsh itself',
    summary: 'echo arguments',
    options: [
      { name: 'shell', type: 'bool', help: 'escape for shell use' },
      { name: 'xml', type: 'bool', help: 'escape for XML use' },
      { name: 'string', type: 'argv', help: 'arguments to echo' },
    ],
    noConnect: true,
    noBlankAfter: true,
    async run(ctx) {
      const words = ctx.opts.list('string').map((w) => (ctx.opts.flag('shell') ? shellQuoted(w) : w)).map((w) => (ctx.opts.flag('xml') ? escapeXml(w) : w));
      ctx.out.write(`${words.join(' ')}\n`);
    },
  };
  return [help, quit, connect, echo];
}

/** A word as virsh's `echo --shell` quotes it: as is when nothing in it is special to a shell, else in single quotes. */
function shellQuoted(w: string): string {
  if (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, "'\\''")}'`;
}
