/**
 * Machine-type and architecture predicates (qemu_domain.c's
 * qemuDomainIsQ35 & co.): what family a domain's machine belongs to.
 */
import type { DomainDef } from '@virtkit/core';

function machineOf(def: DomainDef): string {
  return def.os.machine ?? '';
}

export function isX86(arch: string | undefined): boolean {
  return arch === 'x86_64' || arch === 'i686';
}

export function isQ35Machine(machine: string): boolean {
  return machine === 'q35' || machine.startsWith('pc-q35');
}

export function isI440FXMachine(machine: string): boolean {
  return machine === 'pc' || machine.startsWith('pc-0.') || machine.startsWith('pc-1.') || machine.startsWith('pc-i440fx-') || machine.startsWith('rhel');
}

export function isQ35(def: DomainDef): boolean {
  return isX86(def.os.arch) && isQ35Machine(machineOf(def));
}

export function isI440FX(def: DomainDef): boolean {
  return isX86(def.os.arch) && isI440FXMachine(machineOf(def));
}

export function isMicrovm(def: DomainDef): boolean {
  return isX86(def.os.arch) && machineOf(def) === 'microvm';
}

export function isXenFV(def: DomainDef): boolean {
  return isX86(def.os.arch) && machineOf(def) === 'xenfv';
}

export function isPSeries(def: DomainDef): boolean {
  return (def.os.arch === 'ppc64' || def.os.arch === 'ppc64le') && machineOf(def).startsWith('pseries');
}

export function isARMVirt(def: DomainDef): boolean {
  const a = def.os.arch;
  return (a === 'armv6l' || a === 'armv7l' || a === 'aarch64') && (machineOf(def) === 'virt' || machineOf(def).startsWith('virt-'));
}

export function isS390CCW(def: DomainDef): boolean {
  return (def.os.arch === 's390' || def.os.arch === 's390x') && machineOf(def).startsWith('s390-ccw');
}

/** The machine has a PCI bus at all (qemuDomainSupportsPCI). */
export function supportsPCI(def: DomainDef): boolean {
  if (isX86(def.os.arch)) return machineOf(def) !== 'isapc' && machineOf(def) !== 'microvm';
  return true;
}

export function hasPCIeRoot(def: DomainDef): boolean {
  return def.devices.controllers.some((c) => c.type === 'pci' && c.index === 0 && c.model === 'pcie-root');
}

export function hasPCIRoot(def: DomainDef): boolean {
  return def.devices.controllers.some((c) => c.type === 'pci' && c.index === 0 && c.model === 'pci-root');
}

/** x86 guests with more vCPUs than this need x2APIC (and an IOMMU with EIM on q35). */
export const QEMU_MAX_VCPUS_WITHOUT_X2APIC = 255;
