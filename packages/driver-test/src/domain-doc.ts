import { formatDomainXml, parseDomainXml, VirtError, type DomainDef, type DomainParserConfig } from '@virtkit/core';

/**
 * What libvirt's test driver plugs into the generic parser (testDriverNew):
 * i686 guests, its feature set, and Xen video for PV guests, cirrus
 * otherwise.
 */
export const TEST_PARSER_CONFIG: DomainParserConfig = {
  name: 'test',
  features: { userAlias: true, individualVcpus: true, netModelString: true, fwAutoselect: true, offlineVcpupin: true },
  domainPostParseBasic(def) {
    def.os.arch ??= 'i686';
  },
  devicePostParse(dev, def) {
    if (dev.kind === 'video' && !dev.def.type) {
      dev.def.type = def.os.type === 'xen' ? 'xen' : 'cirrus';
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

/** Formats a definition; `id` ≥ 0 marks it live (`<domain id=…>`). */
export function formatTestDomain(def: DomainDef, opts: { id?: number; inactive?: boolean; secure?: boolean; migratable?: boolean } = {}): string {
  const inactive = !!opts.inactive || opts.id === undefined || opts.id < 0;
  return formatDomainXml(inactive ? def : { ...def, id: opts.id! }, {
    inactive,
    secure: !!opts.secure,
    migratable: !!opts.migratable,
    config: TEST_PARSER_CONFIG,
  });
}

// Field access goes through these few functions so the driver logic reads like libvirt's.
export const domainFacts = {
  name: (d: DomainDef): string => d.name,
  uuid: (d: DomainDef): string => d.uuid,
  maxMemKiB: (d: DomainDef): number => d.memory.total,
  currentMemKiB: (d: DomainDef): number => d.memory.current,
  setCurrentMemKiB: (d: DomainDef, kib: number): void => {
    d.memory.current = kib;
  },
  setMaxMemKiB: (d: DomainDef, kib: number): void => {
    d.memory.total = kib;
  },
  vcpus: (d: DomainDef): number => d.vcpu.current,
  maxVcpus: (d: DomainDef): number => d.vcpu.max,
  setVcpus: (d: DomainDef, n: number): void => {
    d.vcpu.current = n;
  },
  osType: (d: DomainDef): string => d.os.type,
  onReboot: (d: DomainDef): string => d.lifecycle.onReboot,
};
