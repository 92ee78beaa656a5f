/**
 * The libiscsi command-line tools (libiscsi-bin) the `iscsi-direct` pool
 * runs: `iscsi-ls` for discovery and LUN listing, `iscsi-readcapacity16`
 * for exact sizes. They speak iSCSI in user space; no kernel initiator.
 */

/** An iSCSI URL as libiscsi and QEMU read it: `iscsi://host:port[/target/lun]`. */
export function iscsiUrl(portal: string, target?: string, lun?: number): string {
  return `iscsi://${portal}${target !== undefined ? `/${target}${lun !== undefined ? `/${lun}` : ''}` : ''}`;
}

/** `iscsi-ls -i INITIATOR [-s] iscsi://portal`: targets (and with -s, LUNs and sizes). */
export function buildIscsiLsCommand(initiator: string, portal: string, o: { luns?: boolean; tool?: string } = {}): string[] {
  return [o.tool ?? 'iscsi-ls', '-i', initiator, ...(o.luns ? ['-s'] : []), iscsiUrl(portal)];
}

export function buildReadCapacityCommand(initiator: string, portal: string, target: string, lun: number, tool = 'iscsi-readcapacity16'): string[] {
  return [tool, '-i', initiator, iscsiUrl(portal, target, lun)];
}

export interface IscsiLsTarget {
  target: string;
  portal: string;
  luns: Array<{ lun: number; type: string }>;
}

/** Reads iscsi-ls output ("Target:T Portal:P" then "Lun:N Type:T …" lines). */
export function parseIscsiLs(output: string): IscsiLsTarget[] {
  const out: IscsiLsTarget[] = [];
  let cur: IscsiLsTarget | undefined;
  for (const line of output.split('\n')) {
    const t = /^Target:(\S+)\s+Portal:(\S+)/.exec(line.trim());
    if (t) {
      cur = { target: t[1]!, portal: t[2]!, luns: [] };
      out.push(cur);
      continue;
    }
    const l = /^Lun:([0-9]+)\s+Type:(\S+)/.exec(line.trim());
    if (l && cur) cur.luns.push({ lun: Number(l[1]), type: l[2]! });
  }
  return out;
}

/** `Total size:N` (bytes) of iscsi-readcapacity16. */
export function parseReadCapacity(output: string): bigint | undefined {
  const m = /Total size:\s*([0-9]+)/.exec(output);
  if (m) return BigInt(m[1]!);
  const lba = /RETURNED LOGICAL BLOCK ADDRESS:\s*([0-9]+)/.exec(output);
  const len = /LOGICAL BLOCK LENGTH IN BYTES:\s*([0-9]+)/.exec(output);
  return lba && len ? (BigInt(lba[1]!) + 1n) * BigInt(len[1]!) : undefined;
}
