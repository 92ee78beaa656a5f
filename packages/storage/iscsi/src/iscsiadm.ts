import type { StoragePoolSource, StoragePoolSourceList } from '@virtkit/core';

/**
 * iscsiadm(8) command lines and output of the kernel-initiator `iscsi`
 * pool, as libvirt's src/util/viriscsi.c runs them.
 */

/** `iscsiadm --mode session`: the sessions, as `{ id, portal, target }`. */
export function buildSessionListCommand(iscsiadm = 'iscsiadm'): string[] {
  return [iscsiadm, '--mode', 'session'];
}

export function parseSessions(output: string): Array<{ id: string; portal: string; target: string }> {
  const out: Array<{ id: string; portal: string; target: string }> = [];
  for (const line of output.split('\n')) {
    const m = /^tcp:\s+\[(\S+)\]\s+(\S+)\s+(\S+).*$/.exec(line);
    if (m) out.push({ id: m[1]!, portal: m[2]!, target: m[3]! });
  }
  return out;
}

/** `iscsiadm --mode discovery --type sendtargets --portal P` (`--op nonpersistent` unless the records are kept for a login). */
export function buildSendTargetsCommand(portal: string, o: { persist?: boolean; iface?: string; iscsiadm?: string } = {}): string[] {
  const cmd = [o.iscsiadm ?? 'iscsiadm', '--mode', 'discovery', '--type', 'sendtargets', '--portal', portal];
  if (!o.persist) cmd.push('--op', 'nonpersistent');
  if (o.iface) cmd.push('--interface', o.iface);
  return cmd;
}

/** sendtargets output: `portal,tpgt target` per line → target names. */
export function parseSendTargets(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(line);
    if (m) out.push(m[2]!);
  }
  return out;
}

/** `iscsiadm --mode node --portal P --targetname T --login|--logout [--interface I]`. */
export function buildNodeCommand(portal: string, target: string, op: 'login' | 'logout', o: { iface?: string; iscsiadm?: string } = {}): string[] {
  const cmd = [o.iscsiadm ?? 'iscsiadm', '--mode', 'node', '--portal', portal, '--targetname', target, `--${op}`];
  if (o.iface) cmd.push('--interface', o.iface);
  return cmd;
}

/** `iscsiadm --mode session -r ID -R`: rescan a session's LUNs. */
export function buildRescanCommand(session: string, iscsiadm = 'iscsiadm'): string[] {
  return [iscsiadm, '--mode', 'session', '-r', session, '-R'];
}

/** `iscsiadm --mode iface`: interfaces, to find the one carrying an initiator IQN. */
export function buildIfaceListCommand(iscsiadm = 'iscsiadm'): string[] {
  return [iscsiadm, '--mode', 'iface'];
}

/** The interface whose line ends in `,IQN` (virStorageBackendIQNFound). */
export function findIfaceForIqn(output: string, iqn: string): string | undefined {
  for (const line of output.split('\n')) {
    const comma = line.lastIndexOf(',');
    if (comma < 0 || line.slice(comma + 1).trim() !== iqn) continue;
    const space = line.indexOf(' ');
    if (space > 0) return line.slice(0, space);
  }
  return undefined;
}

/** The two commands that make an interface for an initiator IQN (virStorageBackendCreateIfaceIQN). */
export function buildIfaceCreateCommands(iface: string, iqn: string, iscsiadm = 'iscsiadm'): string[][] {
  return [
    [iscsiadm, '--mode', 'iface', '--interface', iface, '--op', 'new'],
    [iscsiadm, '--mode', 'iface', '--interface', iface, '--op', 'update', '--name', 'iface.initiatorname', '--value', iqn],
  ];
}

/** `iscsiadm --mode node --portal P --target T --op update --name N --value V` (CHAP settings). */
export function buildNodeUpdateCommand(portal: string, target: string, name: string, value: string, iscsiadm = 'iscsiadm'): string[] {
  return [iscsiadm, '--mode', 'node', '--portal', portal, '--target', target, '--op', 'update', '--name', name, '--value', value];
}

/** find-storage-pool-sources iscsi: one source per target found at the portal. */
export function sourcesFromTargets(targets: string[], spec: StoragePoolSource, type: 'iscsi' | 'iscsi-direct'): StoragePoolSourceList {
  return {
    type,
    sources: targets.map((t) => ({
      hosts: [{ name: spec.hosts[0]!.name, ...(spec.hosts[0]!.port ? { port: spec.hosts[0]!.port } : {}) }],
      devices: [{ path: t }],
      ...(spec.initiatorIqn ? { initiatorIqn: spec.initiatorIqn } : {}),
    })),
  };
}
