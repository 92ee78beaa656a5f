import type { CommandDef } from '../command.js';
import { deviceCommands } from './devices.js';
import { domainMonitorCommands } from './domain-monitor.js';
import { domainCommands } from './domain.js';
import { eventCommands } from './event.js';
import { hostCommands } from './host.js';
import { migrateCommands } from './migrate.js';
import { ifaceCommands } from './iface.js';
import { nativeCommands } from './native.js';
import { networkCommands } from './network.js';
import { qemuMonitorCommands } from './qemu-monitor.js';
import { schedCommands } from './sched.js';
import { makeShellCommands } from './shell.js';
import { storageCommands } from './storage.js';
import { xmlCommands } from './xml.js';

/** Every command of the CLI; groups add theirs here. */
export const COMMANDS: CommandDef[] = [
  ...domainCommands,
  ...deviceCommands,
  ...domainMonitorCommands,
  ...qemuMonitorCommands,
  ...migrateCommands,
  ...xmlCommands,
  ...nativeCommands,
  ...schedCommands,
  ...eventCommands,
  ...hostCommands,
  ...ifaceCommands,
  ...networkCommands,
  ...storageCommands,
];
COMMANDS.push(...makeShellCommands(() => COMMANDS));

const byName = new Map<string, CommandDef>();
for (const c of COMMANDS) {
  byName.set(c.name, c);
  for (const a of c.aliases ?? []) byName.set(a, c);
}

export function findCommand(name: string): CommandDef | undefined {
  return byName.get(name);
}
