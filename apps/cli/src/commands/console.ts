import type { DomainHandle } from '@virtkit/core';
import { domainOption, type CommandContext, type CommandDef } from '../command.js';

/**
 * Joins the terminal to a domain's console until ^] or the console closes,
 * as virsh does (`console`, and `start --console` / `create --console`).
 */
export async function attachConsole(ctx: CommandContext, d: DomainHandle, opts: { device?: string; force?: boolean } = {}): Promise<void> {
  const stream = await d.openConsole({ ...(opts.device ? { device: opts.device } : {}), force: !!opts.force });
  ctx.out.write(`Connected to domain '${d.name}'\nEscape character is ^] (Ctrl + ])\n`);
  const stdin = process.stdin;
  const tty = stdin.isTTY;
  await new Promise<void>((resolve) => {
    const done = () => {
      stdin.off('data', onData);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      // A paused pipe still keeps Node running until EOF: let it go (virsh leaves on ^] at once).
      (stdin as { unref?: () => void }).unref?.();
      stream.destroy();
      resolve();
    };
    const onData = (chunk: Buffer) => {
      const esc = chunk.indexOf(0x1d);
      if (esc >= 0) {
        if (esc > 0) stream.write(chunk.subarray(0, esc));
        done();
        return;
      }
      stream.write(chunk);
    };
    if (tty) stdin.setRawMode(true);
    (stdin as { ref?: () => void }).ref?.();
    stdin.on('data', onData);
    stdin.resume();
    stream.on('data', (b: Buffer) => ctx.out.write(b.toString('latin1')));
    stream.on('close', done);
    stream.on('error', done);
    stdin.on('end', done);
  });
  ctx.out.write('\n');
}

export const consoleCmd: CommandDef = {
  name: 'console',
  group: 'Domain Management',
  summary: 'connect to the guest console',
  options: [domainOption(), { name: 'devname', type: 'string', help: 'character device name' }, { name: 'force', type: 'bool', help: 'force console connection (disconnect already connected sessions)' }, { name: 'safe', type: 'bool', help: 'only connect if safe console handling is supported' }],
  async run(ctx) {
    const dev = ctx.opts.str('devname');
    await attachConsole(ctx, await ctx.domain(), { ...(dev ? { device: dev } : {}), force: ctx.opts.flag('force') });
  },
};
