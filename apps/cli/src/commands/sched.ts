import { VirtError } from '@virtkit/core';
import { domainOption, JSON_OPTION, type CommandDef } from '../command.js';
import { formatJson } from '../output.js';

/** `schedinfo DOMAIN [--set name=value]… [--live|--config|--current]`: CPU scheduler parameters (cpu_shares, vcpu_quota, …). */
const schedinfo: CommandDef = {
  name: 'schedinfo',
  group: 'Domain Management',
  summary: 'show/set scheduler parameters',
  options: [
    domainOption(),
    { name: 'set', type: 'string', help: 'parameter=value (comma-separated for several)' },
    { name: 'weight', type: 'int', help: 'weight for XEN_CREDIT' },
    { name: 'cap', type: 'int', help: 'cap for XEN_CREDIT' },
    { name: 'current', type: 'bool', help: 'get/set current scheduler info' },
    { name: 'config', type: 'bool', help: 'get/set value to be used on next boot' },
    { name: 'live', type: 'bool', help: 'get/set value from running domain' },
    JSON_OPTION,
  ],
  exclusive: [['current', 'config'], ['current', 'live']],
  async run(ctx) {
    const d = await ctx.domain();
    const impact = { live: ctx.opts.flag('live'), config: ctx.opts.flag('config'), current: ctx.opts.flag('current') };
    const params: Record<string, number> = {};
    for (const item of (ctx.opts.str('set') ?? '').split(',').filter(Boolean)) {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)=(-?[0-9]+)$/.exec(item.trim());
      if (!m) throw new VirtError('INVALID_ARG', `invalid scheduler parameter '${item}' (expecting name=integer)`);
      params[m[1]!] = Number(m[2]);
    }
    const weight = ctx.opts.int('weight');
    const cap = ctx.opts.int('cap');
    if (weight !== undefined) params.weight = weight;
    if (cap !== undefined) params.cap = cap;
    if (Object.keys(params).length) await d.setSchedulerParams(params, impact);
    const now = await d.getSchedulerParams(impact);
    if (ctx.json) return void ctx.out.write(formatJson({ scheduler: 'posix', ...now }));
    ctx.out.write(`${'Scheduler'.padEnd(15)}: posix\n`);
    for (const [k, v] of Object.entries(now)) ctx.out.write(`${k.padEnd(15)}: ${v}\n`);
    ctx.out.write('\n');
  },
};

export const schedCommands: CommandDef[] = [schedinfo];
