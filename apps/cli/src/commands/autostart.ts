import { failingAs, type CommandContext, type CommandDef, type OptionDef } from '../command.js';

/**
 * `autostart`, `net-autostart`, `pool-autostart`: one shape, three objects.
 * `label` prints the object as virsh does in its message ("Domain 'x'", "Network x"),
 * `failed` its failure ("Failed to mark domain 'x' as autostarted").
 */
export function autostartCommand(o: {
  name: string;
  group: string;
  summary: string;
  option: OptionDef;
  lookup: (ctx: CommandContext) => Promise<{ name: string; setAutostart(on: boolean): Promise<void> }>;
  label: (name: string) => string;
  failed: (name: string, on: boolean) => string;
}): CommandDef {
  return {
    name: o.name,
    group: o.group,
    summary: o.summary,
    options: [o.option, { name: 'disable', type: 'bool', help: 'disable autostarting' }],
    async run(ctx) {
      const obj = await o.lookup(ctx);
      const on = !ctx.opts.flag('disable');
      await failingAs(o.failed(obj.name, on), obj.setAutostart(on));
      ctx.out.write(`${o.label(obj.name)} ${on ? 'marked as autostarted' : 'unmarked as autostarted'}\n`);
    },
  };
}
