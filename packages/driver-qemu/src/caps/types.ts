/** One command sent while probing and what QEMU answered: the unit both live probes and libvirt's .replies dumps are made of. */
export interface QmpExchange {
  command: string;
  args?: Record<string, unknown>;
  return?: unknown;
  error?: { class: string; desc: string };
}

/** A machine type (query-machines), as libvirt's virQEMUCapsMachineType. */
export interface QemuMachineType {
  name: string;
  alias?: string;
  maxCpus: number;
  hotplugCpus: boolean;
  isDefault: boolean;
  /** QOM type of the default CPU (`qemu64-x86_64-cpu`). */
  defaultCpu?: string;
  defaultRamId?: string;
  numaMemSupported: boolean;
  deprecated: boolean;
  /** Has an `acpi` machine property (known only from live probes of newer QEMU). */
  acpi?: boolean;
}

/** A CPU model (query-cpu-definitions). */
export interface QemuCpuModel {
  name: string;
  typename?: string;
  usable: 'yes' | 'no' | 'unknown';
  /** Features missing on this host, when not usable. */
  blockers: string[];
  deprecated: boolean;
  alias?: string;
}

export interface QemuHostCpuProperty {
  name: string;
  type: 'boolean' | 'number' | 'string';
  value: boolean | number | string;
  migratable?: boolean;
}

/** The host CPU as QEMU expands it (query-cpu-model-expansion of host/max). */
export interface QemuHostCpu {
  model: string;
  migratability: boolean;
  props: QemuHostCpuProperty[];
}

/** What QEMU offers under one accelerator. */
export interface QemuAccelCaps {
  machines: QemuMachineType[];
  cpuModels: QemuCpuModel[];
  hostCpu?: QemuHostCpu;
}

export interface QemuDeviceProperty {
  name: string;
  type: string;
  defaultValue?: unknown;
  description?: string;
}

/** The serialisable form of QemuCapabilities (what the disk cache holds). */
export interface QemuCapsData {
  /** Format version of this object. */
  format: 1;
  binary: string;
  /** libvirt's encoding: major * 1000000 + minor * 1000 + micro. */
  version: number;
  package: string;
  arch: string;
  kvmVersion: number;
  microcodeVersion: number;
  /** libvirt QEMU_CAPS_* names ("blockdev", "virtio-net", …). */
  flags: string[];
  kvm: QemuAccelCaps;
  tcg: QemuAccelCaps;
  /** QOM types (qom-list-types), when probed. */
  types: string[];
  /** Properties of the devices the flags look at (device-list-properties). */
  deviceProps: Record<string, QemuDeviceProperty[]>;
  /** Properties of objects (qom-list-properties). */
  objectProps: Record<string, QemuDeviceProperty[]>;
  commands: string[];
  events: string[];
  tpmModels: string[];
  tpmTypes: string[];
  migrationCapabilities: string[];
  /** Hyper-V enlightenments KVM supports (from a libvirt dump; empty from live probes). */
  hypervCapabilities: string[];
  /** query-qmp-schema, when probed: validates generated -blockdev/-netdev/-object/-device JSON. */
  schema?: unknown[];
}
