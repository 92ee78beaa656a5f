/** Loading and deleting a network's nftables table (`nft -f -`, one transaction). */
import { VirtError, type HostCommandRunner } from '@virtkit/core';
import type { FirewallTable } from './rules.js';

/** Loads an nft script atomically (all or nothing). */
export async function applyFirewallScript(runner: HostCommandRunner, script: string, what?: string): Promise<void> {
  if (!script) return;
  await runner.run(['nft', '-f', '-'], { input: script, what: `${what ? `${what}: ` : ''}load nftables rules` });
}

/** Deletes a table; a table that is already gone is not an error. */
export async function deleteFirewallTable(runner: HostCommandRunner, table: FirewallTable, what?: string): Promise<void> {
  const r = await runner.run(['nft', 'delete', 'table', table.family, table.name], { allowFailure: true });
  if (r.code === 0 || /No such file or directory|does not exist/i.test(r.stderr)) return;
  throw new VirtError('SYSTEM_ERROR', `${what ? `${what}: ` : ''}delete nftables table ${table.family} ${table.name}: ${r.stderr.trim()}`, { origin: 'network.nftables' });
}

export async function firewallTableExists(runner: HostCommandRunner, table: FirewallTable): Promise<boolean> {
  return (await runner.run(['nft', 'list', 'table', table.family, table.name], { allowFailure: true })).code === 0;
}

/** Names of the tables of a family (e.g. to check that only ours went away). */
export async function listFirewallTables(runner: HostCommandRunner): Promise<Array<{ family: string; name: string }>> {
  const r = await runner.run(['nft', 'list', 'tables'], { allowFailure: true });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => /^table\s+(\S+)\s+(\S+)/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ family: m[1]!, name: m[2]! }));
}
