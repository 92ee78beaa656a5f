import type { CommandContext, CommandDef, OptionDef } from '../command.js';

/**
 * `autostart`, `net-autostart`, `pool-autostart`: one shape, three objects.
 * `label` prints the object as virsh does in its message ("Domain 'x'", "Network x").
 */
export function autostartCommand(o: {
  name: string;
  group: string;
  summary: string;
  option: OptionDef;
  lookup: (ctx: CommandContext) => Promise<{ name: string; setAutostart(on: boolean): Promise<void> }>;
  label: (name: string) => string;
}): CommandDef {
  return {
    name: o.name,
    group: o.group,
    summary: o.summary,
    options: [o.option, { name: 'disable', type: 'bool', help: 'disable autostarting' }],
    async run(ctx) {
      const obj = await o.lookup(ctx);
      const on = !ctx.opts.flag('disable');
      await obj.setAutostart(on);
      ctx.out.write(`${o.label(obj.name)} ${on ? 'marked as autostarted' : 'unmarked as autostarted'}\n`);
    },
  };
}
