import {
  formatDomainXml,
  parseDomainXml,
  VirtError,
  type DomainDef,
  type DomainParserConfig,
} from '@virtkit/core';

/**
 * The test driver's view of a domain definition: core's typed model with
 * the defaults libvirt's test driver applies (i686 guests, Xen video for
 * PV guests, cirrus otherwise).
 */
export const TEST_PARSER_CONFIG: DomainParserConfig = {
  defaultArch: 'i686',
  defaultEmulator: '/usr/bin/test-hv',
  features: { userAliases: true, individualVcpus: true, netModelString: true, memoryHotplug: true, offlineVcpuPin: true },
  devicePostParse(dev, def) {
    if (dev.kind === 'video' && !dev.model) {
      dev.model = def.os.type === 'xen' || def.os.type === 'linux' ? 'xen' : 'cirrus';
    }
  },
};

export function parseTestDomain(xml: string, what = 'domain XML'): DomainDef {
  const def = parseDomainXml(xml, { inactive: true, config: TEST_PARSER_CONFIG, what });
  if (def.type !== 'test') {
    throw new VirtError('CONFIG_UNSUPPORTED', `domain '${def.name}': unsupported domain type '${def.type}' for the test driver (expected 'test')`, { origin: 'test' });
  }
  return def;
}

export function formatTestDomain(def: DomainDef, opts: { id?: number; inactive?: boolean; secure?: boolean; migratable?: boolean } = {}): string {
  return formatDomainXml(def, {
    inactive: !!opts.inactive || opts.id === undefined || opts.id < 0,
    secure: !!opts.secure,
    migratable: !!opts.migratable,
    ...(opts.id !== undefined && opts.id >= 0 && !opts.inactive ? { id: opts.id } : {}),
  });
}

// Field access goes through these few functions so the driver logic does not depend on the model's layout.
export const domainFacts = {
  name: (d: DomainDef): string => d.name,
  uuid: (d: DomainDef): string => d.uuid,
  maxMemKiB: (d: DomainDef): number => d.memory.totalKiB,
  currentMemKiB: (d: DomainDef): number => d.memory.currentKiB ?? d.memory.totalKiB,
  setCurrentMemKiB: (d: DomainDef, kib: number): void => {
    d.memory.currentKiB = kib;
  },
  setMaxMemKiB: (d: DomainDef, kib: number): void => {
    d.memory.totalKiB = kib;
  },
  vcpus: (d: DomainDef): number => d.vcpu.current ?? d.vcpu.max,
  maxVcpus: (d: DomainDef): number => d.vcpu.max,
  setVcpus: (d: DomainDef, n: number): void => {
    d.vcpu.current = n;
  },
  osType: (d: DomainDef): string => d.os.type,
  onReboot: (d: DomainDef): string => d.lifecycle?.onReboot ?? 'restart',
};
