import { VirtError } from '@virtkit/core';
import { domainOption, failingAs, type CommandDef } from '../command.js';

/** virsh's qemu-monitor-command: QMP (or HMP with --hmp) passed to a running QEMU guest as is. */
const qemuMonitorCommand: CommandDef = {
  name: 'qemu-monitor-command',
  group: 'Domain Management',
  summary: 'QEMU Monitor Command',
  options: [
    domainOption(),
    { name: 'hmp', type: 'bool', help: 'command is in human monitor protocol' },
    { name: 'pretty', type: 'bool', help: 'pretty-print any qemu monitor protocol output' },
    { name: 'return-value', type: 'bool', help: 'extract the value of the \'return\' key from the returned string' },
    { name: 'cmd', type: 'argv', required: true, help: 'command' },
  ],
  exclusive: [['hmp', 'pretty'], ['hmp', 'return-value']],
  async run(ctx) {
    const d = await ctx.domain();
    const command = ctx.opts.list('cmd').join(' ');
    const reply = await failingAs(`Failed to run the monitor command on domain '${d.name}'`, d.qemuMonitorCommand(command, { hmp: ctx.opts.flag('hmp') }));
    if (ctx.opts.flag('hmp')) return void ctx.out.write(`${reply}\n`);
    let value: unknown = JSON.parse(reply);
    if (ctx.opts.flag('return-value')) {
      const r = value as { return?: unknown; error?: { desc?: string } };
      if (!('return' in r)) throw new VirtError('OPERATION_FAILED', `domain '${d.name}': the monitor answered without 'return': ${r.error?.desc ?? reply}`);
      value = r.return;
    }
    ctx.out.write(`${ctx.opts.flag('pretty') ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
  },
};

export const qemuMonitorCommands: CommandDef[] = [qemuMonitorCommand];
