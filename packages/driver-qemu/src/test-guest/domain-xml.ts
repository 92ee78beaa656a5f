import { readdir, readFile, rm } from 'node:fs/promises';
import { escapeXml, type Connection } from '@virtkit/core';
import type { TestGuest } from './build.js';

export interface TestGuestXmlOptions {
  uuid?: string;
  /** MiB of boot memory (default 256: the guest's initramfs needs more than 128 once maxMemory is set). */
  memoryMiB?: number;
  /** `<maxMemory slots>` for DIMM hot-plug (MiB, slots). */
  maxMemory?: { mib: number; slots: number };
  /** vCPUs at boot and the maximum (for CPU hot-plug). */
  vcpus?: number;
  maxVcpus?: number;
  /** Extra XML inside <devices>. */
  devices?: string;
  /** `pty` (default, as libvirt) or a unix socket path the console listens on. */
  console?: 'pty' | { unix: string };
}

/** Domain XML that boots the test guest (direct kernel boot, serial console, balloon). */
export function testGuestDomainXml(guest: TestGuest, name: string, o: TestGuestXmlOptions = {}): string {
  const mem = o.memoryMiB ?? 256;
  const vcpus = o.vcpus ?? 1;
  const max = o.maxVcpus ?? vcpus;
  const serial = o.console && o.console !== 'pty'
    ? `<serial type='unix'><source mode='bind' path='${escapeXml(o.console.unix)}'/></serial>`
    : `<serial type='pty'/>`;
  return `<domain type='qemu'>
  <name>${escapeXml(name)}</name>${o.uuid ? `\n  <uuid>${o.uuid}</uuid>` : ''}
  <memory unit='MiB'>${mem}</memory>${o.maxMemory ? `\n  <maxMemory slots='${o.maxMemory.slots}' unit='MiB'>${o.maxMemory.mib}</maxMemory>` : ''}
  <vcpu placement='static'${max !== vcpus ? ` current='${vcpus}'` : ''}>${max}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${escapeXml(guest.kernel)}</kernel>
    <initrd>${escapeXml(guest.initrd)}</initrd>
    <cmdline>${escapeXml(guest.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    ${serial}
    <console type='${o.console && o.console !== 'pty' ? 'unix' : 'pty'}'>${o.console && o.console !== 'pty' ? `<source mode='bind' path='${escapeXml(o.console.unix)}'/>` : ''}<target type='serial'/></console>
    <memballoon model='virtio'/>${o.devices ? `\n    ${o.devices}` : ''}
  </devices>
</domain>
`;
}

/**
 * Kills (SIGKILL, by pid) every QEMU whose command line mentions `marker`
 * (an embed root, a name prefix): tests call it in afterAll so no QEMU is
 * left behind even when a test failed midway. Returns the pids killed.
 */
export async function killQemusMatching(marker: string): Promise<number[]> {
  const killed: number[] = [];
  for (const e of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.startsWith('/') && !cmd.startsWith('qemu')) continue;
    const argv = cmd.split('\0');
    if (!/qemu-system/.test(argv[0] ?? '') || !argv.some((a) => a.includes(marker))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

/**
 * A test file's afterAll on an embed root: every domain of the connection
 * destroyed and undefined, the connection closed, any QEMU still naming the
 * root killed, the root removed. Each step runs whatever failed before it.
 */
export async function tearDownEmbed(conn: Connection | undefined, root: string): Promise<void> {
  for (const d of (await conn?.listAllDomains().catch(() => [])) ?? []) {
    if (d.id >= 0) await d.destroy().catch(() => {});
    await d.undefine({ managedSave: true }).catch(() => {});
  }
  await conn?.close().catch(() => {});
  await killQemusMatching(root);
  await rm(root, { recursive: true, force: true });
}
