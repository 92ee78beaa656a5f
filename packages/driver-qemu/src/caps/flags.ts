import type { QapiSchema } from './qapi-schema.js';
import type { QemuDeviceProperty } from './types.js';

/**
 * libvirt's capability flags (QEMU_CAPS_*, by their stable names) derived
 * from what QEMU reports, following qemu_capabilities.c as of libvirt 9.0:
 * QMP commands and events, QOM types, device and object properties, QAPI
 * schema queries, command-line options and a few rules of its own.
 */

export interface FlagInputs {
  arch: string;
  version: number;
  commands: ReadonlySet<string>;
  events: ReadonlySet<string>;
  types: ReadonlySet<string>;
  deviceProps: Readonly<Record<string, readonly QemuDeviceProperty[]>>;
  objectProps: Readonly<Record<string, readonly QemuDeviceProperty[]>>;
  schema?: QapiSchema;
  /** query-command-line-options: option name → its parameter names. */
  commandLine: ReadonlyMap<string, readonly string[]>;
  migrationCapabilities: ReadonlySet<string>;
  tpmModels: readonly string[];
  tpmTypes: readonly string[];
  kvm: { present: boolean; enabled: boolean };
  sevSupported: boolean;
  sgxSupported: boolean;
  /** query-machines reports cpu-max. */
  machineCpuMax: boolean;
}

const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['query-vnc', 'vnc'],
  ['query-spice', 'spice'],
  ['rtc-reset-reinjection', 'rtc-reset-reinjection'],
  ['query-hotpluggable-cpus', 'query-hotpluggable-cpus'],
  ['query-cpu-model-expansion', 'query-cpu-model-expansion'],
  ['query-cpu-definitions', 'query-cpu-definitions'],
  ['query-cpu-model-baseline', 'query-cpu-model-baseline'],
  ['query-cpu-model-comparison', 'query-cpu-model-comparison'],
  ['block-export-add', 'block-export-add'],
  ['blockdev-reopen', 'blockdev-reopen'],
  ['set-action', 'set-action'],
  ['query-dirty-rate', 'query-dirty-rate'],
  ['sev-inject-launch-secret', 'sev-inject-launch-secret'],
  ['calc-dirty-rate', 'calc-dirty-rate'],
  ['query-stats', 'query-stats'],
  ['query-stats-schemas', 'query-stats-schemas'],
];

// libvirt 9.0 derives no flag from events any more (all such flags were retired).
const EVENTS: ReadonlyArray<readonly [string, string]> = [];

const MIGRATION: ReadonlyArray<readonly [string, string]> = [['rdma-pin-all', 'migrate-rdma']];

/** QOM type → flag (virQEMUCapsObjectTypes). */
const OBJECT_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['hda-duplex', 'hda-duplex'], ['hda-micro', 'hda-micro'], ['ccid-card-emulated', 'ccid-emulated'], ['ccid-card-passthru', 'ccid-passthru'],
  ['piix3-usb-uhci', 'piix3-usb-uhci'], ['piix4-usb-uhci', 'piix4-usb-uhci'], ['usb-ehci', 'usb-ehci'], ['ich9-usb-ehci1', 'ich9-usb-ehci1'],
  ['vt82c686b-usb-uhci', 'vt82c686b-usb-uhci'], ['pci-ohci', 'pci-ohci'], ['nec-usb-xhci', 'nec-usb-xhci'], ['usb-redir', 'usb-redir'],
  ['usb-hub', 'usb-hub'], ['ich9-ahci', 'ich9-ahci'], ['virtio-blk-ccw', 'virtio-ccw'], ['sclpconsole', 's390-sclp'], ['lsi53c895a', 'lsi'],
  ['virtio-scsi-pci', 'virtio-scsi-pci'], ['virtio-scsi-ccw', 'virtio-scsi-pci'], ['virtio-scsi-device', 'virtio-scsi-pci'], ['megasas', 'megasas'],
  ['qxl', 'qxl'], ['scsi-block', 'scsi-block'], ['VGA', 'VGA'], ['cirrus-vga', 'cirrus-vga'], ['vmware-svga', 'vmware-svga'],
  ['usb-serial', 'usb-serial'], ['virtio-rng-pci', 'virtio-rng'], ['virtio-rng-ccw', 'virtio-rng'], ['virtio-rng-device', 'virtio-rng'],
  ['rng-random', 'rng-random'], ['rng-egd', 'rng-egd'], ['spapr-nvram', 'nvram'], ['pci-bridge', 'pci-bridge'], ['vfio-pci', 'vfio-pci'],
  ['i82801b11-bridge', 'dmi-to-pci-bridge'], ['usb-storage', 'usb-storage'], ['virtio-mmio', 'virtio-mmio'], ['ich9-intel-hda', 'ich9-intel-hda'],
  ['pvpanic', 'pvpanic'], ['usb-kbd', 'usb-kbd'], ['usb-audio', 'usb-audio'], ['iothread', 'iothread'], ['pc-dimm', 'pc-dimm'],
  ['pci-serial', 'pci-serial'], ['gpex-pcihost', 'gpex-pcihost'], ['ioh3420', 'ioh3420'], ['x3130-upstream', 'x3130-upstream'],
  ['xio3130-downstream', 'xio3130-downstream'], ['rtl8139', 'rtl8139'], ['e1000', 'e1000'], ['virtio-net-pci', 'virtio-net'],
  ['virtio-net-ccw', 'virtio-net'], ['virtio-net-device', 'virtio-net'], ['virtio-gpu-pci', 'virtio-gpu'], ['virtio-gpu-device', 'virtio-gpu'],
  ['virtio-vga', 'virtio-vga'], ['virtio-keyboard-device', 'virtio-keyboard'], ['virtio-keyboard-pci', 'virtio-keyboard'],
  ['virtio-mouse-device', 'virtio-mouse'], ['virtio-mouse-pci', 'virtio-mouse'], ['virtio-tablet-device', 'virtio-tablet'],
  ['virtio-tablet-pci', 'virtio-tablet'], ['virtio-input-host-device', 'virtio-input-host'], ['virtio-input-host-pci', 'virtio-input-host'],
  ['mptsas1068', 'mptsas1068'], ['pxb', 'pxb'], ['pxb-pcie', 'pxb-pcie'], ['intel-iommu', 'intel-iommu'], ['ivshmem-plain', 'ivshmem-plain'],
  ['ivshmem-doorbell', 'ivshmem-doorbell'], ['vhost-scsi', 'vhost-scsi'], ['nvdimm', 'nvdimm'], ['pcie-root-port', 'pcie-root-port'],
  ['qemu-xhci', 'qemu-xhci'], ['spapr-pci-host-bridge', 'spapr-pci-host-bridge'], ['vmcoreinfo', 'vmcoreinfo'], ['spapr-vty', 'spapr-vty'],
  ['sclplmconsole', 'sclplmconsole'], ['isa-serial', 'isa-serial'], ['pl011', 'pl011'], ['virtio-gpu-ccw', 'virtio-gpu-ccw'],
  ['virtio-keyboard-ccw', 'virtio-keyboard-ccw'], ['virtio-mouse-ccw', 'virtio-mouse-ccw'], ['virtio-tablet-ccw', 'virtio-tablet-ccw'],
  ['pcie-pci-bridge', 'pcie-pci-bridge'], ['pr-manager-helper', 'pr-manager-helper'], ['virtual-css-bridge', 'virtual-css-bridge'],
  ['vfio-ccw', 'vfio-ccw'], ['hda-output', 'hda-output'], ['vmgenid', 'vmgenid'], ['vhost-vsock-device', 'vhost-vsock'], ['mch', 'mch'],
  ['sev-guest', 'sev-guest'], ['vfio-ap', 'vfio-ap'], ['zpci', 'zpci'], ['memory-backend-memfd', 'memory-backend-memfd'],
  ...[
    'virtio-blk-pci', 'virtio-net-pci', 'vhost-scsi-pci', 'virtio-rng-pci', 'virtio-9p-pci', 'virtio-balloon-pci', 'vhost-vsock-pci',
    'virtio-scsi-pci', 'virtio-serial-pci',
  ].flatMap((t) => [[`${t}-transitional`, 'virtio-pci-non-transitional'] as const, [`${t}-non-transitional`, 'virtio-pci-non-transitional'] as const]),
  ['max-x86_64-cpu', 'x86-max-cpu'], ['bochs-display', 'bochs-display'], ['dbus-vmstate', 'dbus-vmstate'], ['vhost-user-gpu', 'vhost-user-gpu'],
  ['vhost-user-vga', 'vhost-user-vga'], ['ramfb', 'ramfb'], ['max-arm-cpu', 'arm-max-cpu'], ['i8042', 'i8042'], ['rng-builtin', 'rng-builtin'],
  ['tpm-spapr', 'tpm-spapr'], ['vhost-user-fs-device', 'vhost-user-fs'], ['tcg-accel', 'tcg'], ['pvscsi', 'pvscsi'],
  ['spapr-tpm-proxy', 'spapr-tpm-proxy'], ['vmport', 'machine-vmport-opt'], ['dc390', 'dc390'], ['am53c974', 'am53c974'],
  ['virtio-pmem-pci', 'virtio-pmem-pci'], ['vhost-user-blk', 'vhost-user-blk'], ['input-linux', 'input-linux'],
  ['virtio-gpu-gl-pci', 'virtio-gpu-gl-pci'], ['virtio-vga-gl', 'virtio-vga-gl'], ['s390-pv-guest', 's390-pv-guest'],
  ['virtio-mem-pci', 'virtio-mem-pci'], ['virtio-iommu-pci', 'virtio-iommu-pci'], ['sgx-epc', 'sgx-epc'], ['thread-context', 'thread-context'],
];

type PropFlag = readonly [prop: string, flag: string];

const BALLOON_PROPS: PropFlag[] = [['deflate-on-oom', 'virtio-balloon-pci.deflate-on-oom'], ['free-page-reporting', 'virtio-balloon.free-page-reporting'], ['acpi-index', 'acpi-index']];
const BLK_PROPS: PropFlag[] = [['scsi', 'virtio-blk-pci.scsi'], ['queue-size', 'virtio-blk.queue-size'], ['acpi-index', 'acpi-index']];
const NET_PROPS: PropFlag[] = [['acpi-index', 'acpi-index'], ['rss', 'virtio-net.rss']];
const SCSI_PROPS: PropFlag[] = [['acpi-index', 'acpi-index']];
const GPU_PROPS: PropFlag[] = [['virgl', 'virtio-gpu.virgl'], ['acpi-index', 'acpi-index']];

/** Device → properties → flags (virQEMUCapsDeviceProps), with the flag the device must have first. */
const DEVICE_PROPS: ReadonlyArray<{ type: string; props: readonly PropFlag[]; requires?: string }> = [
  { type: 'virtio-blk-pci', props: BLK_PROPS },
  { type: 'virtio-net-pci', props: NET_PROPS, requires: 'virtio-net' },
  { type: 'virtio-scsi-pci', props: SCSI_PROPS, requires: 'virtio-scsi-pci' },
  { type: 'virtio-blk-ccw', props: BLK_PROPS, requires: 'virtio-ccw' },
  { type: 'virtio-net-ccw', props: NET_PROPS, requires: 'virtio-net' },
  { type: 'virtio-scsi-ccw', props: SCSI_PROPS, requires: 'virtio-scsi-pci' },
  { type: 'vfio-pci', props: [['display', 'vfio-pci.display']], requires: 'vfio-pci' },
  { type: 'scsi-hd', props: [['channel', 'scsi-disk.channel'], ['rotation_rate', 'rotation-rate'], ['wwn', 'scsi-disk.wwn']] },
  { type: 'ide-hd', props: [['wwn', 'ide-drive.wwn']] },
  { type: 'PIIX4_PM', props: [['disable_s3', 'disable-s3'], ['disable_s4', 'disable-s4'], ['acpi-root-pci-hotplug', 'piix4.acpi-root-pci-hotplug']] },
  { type: 'usb-redir', props: [['filter', 'usb-redir.filter']], requires: 'usb-redir' },
  { type: 'usb-storage', props: [['removable', 'usb-storage.removable']], requires: 'usb-storage' },
  { type: 'kvm-pit', props: [['lost_tick_policy', 'kvm-pit-lost-tick-policy']] },
  { type: 'VGA', props: [['vgamem_mb', 'VGA.vgamem_mb']], requires: 'VGA' },
  { type: 'vmware-svga', props: [['vgamem_mb', 'vmware-svga.vgamem_mb']], requires: 'vmware-svga' },
  { type: 'qxl', props: [['vgamem_mb', 'qxl.vgamem_mb'], ['vram64_size_mb', 'qxl.vram64_size_mb']], requires: 'qxl' },
  { type: 'virtio-gpu-pci', props: GPU_PROPS, requires: 'virtio-gpu' },
  { type: 'virtio-gpu-device', props: GPU_PROPS, requires: 'virtio-gpu' },
  { type: 'ICH9-LPC', props: [['disable_s3', 'ich9-disable-s3'], ['disable_s4', 'ich9-disable-s4']] },
  { type: 'virtio-balloon-pci', props: BALLOON_PROPS },
  { type: 'virtio-balloon-ccw', props: BALLOON_PROPS },
  { type: 'virtio-balloon-device', props: BALLOON_PROPS },
  {
    type: 'intel-iommu',
    props: [['intremap', 'intel-iommu.intremap'], ['caching-mode', 'intel-iommu.caching-mode'], ['eim', 'intel-iommu.eim'],
      ['device-iotlb', 'intel-iommu.device-iotlb'], ['aw-bits', 'intel-iommu.aw-bits']],
    requires: 'intel-iommu',
  },
  { type: 'spapr-pci-host-bridge', props: [['numa_node', 'spapr-pci-host-bridge.numa_node']], requires: 'spapr-pci-host-bridge' },
  { type: 'virtio-gpu-ccw', props: GPU_PROPS, requires: 'virtio-gpu-ccw' },
  { type: 'mch', props: [['extended-tseg-mbytes', 'mch.extended-tseg-mbytes']], requires: 'mch' },
  { type: 'nvdimm', props: [['unarmed', 'nvdimm.unarmed']], requires: 'nvdimm' },
  { type: 'pcie-root-port', props: [['hotplug', 'pcie-root-port.hotplug']], requires: 'pcie-root-port' },
  { type: 'usb-host', props: [['hostdevice', 'usb-host.hostdevice'], ['guest-resets-all', 'usb-host.guest-resets-all']] },
  { type: 'vhost-user-fs-device', props: [['bootindex', 'vhost-user-fs.bootindex']], requires: 'vhost-user-fs' },
  { type: 'virtio-mem-pci', props: [['prealloc', 'virtio-mem-pci.prealloc']], requires: 'virtio-mem-pci' },
  { type: 'virtio-iommu-pci', props: [['boot-bypass', 'virtio-iommu.boot-bypass']], requires: 'virtio-iommu-pci' },
];

/** The devices whose properties the probe asks for, in libvirt's order. */
export const PROBED_DEVICE_TYPES: readonly string[] = DEVICE_PROPS.map((d) => d.type);

const OBJECT_PROPS: ReadonlyArray<{ type: string; props: readonly PropFlag[]; requires?: string }> = [
  {
    type: 'memory-backend-file',
    props: [['pmem', 'memory-backend-file.pmem'], ['x-use-canonical-path-for-ramblock-id', 'memory-backend-file.x-use-canonical-path-for-ramblock-id'],
      ['reserve', 'memory-backend-file.reserve'], ['prealloc-threads', 'memory-backend-file.prealloc-threads']],
  },
  { type: 'memory-backend-memfd', props: [['hugetlb', 'memory-backend-memfd.hugetlb']], requires: 'memory-backend-memfd' },
  {
    type: 'max-x86_64-cpu',
    props: [['unavailable-features', 'cpu-unavailable-features'], ['kvm-no-adjvtime', 'cpu.kvm-no-adjvtime'], ['migratable', 'cpu.migratable']],
    requires: 'x86-max-cpu',
  },
  { type: 'max-arm-cpu', props: [['unavailable-features', 'cpu-unavailable-features'], ['kvm-no-adjvtime', 'cpu.kvm-no-adjvtime'], ['migratable', 'cpu.migratable']], requires: 'arm-max-cpu' },
  { type: 'none-machine', props: [['confidential-guest-support', 'confidential-guest-support']] },
];

/** The objects whose properties the probe asks for. */
export const PROBED_OBJECT_TYPES: readonly string[] = OBJECT_PROPS.map((o) => o.type);

/** QAPI schema queries (virQEMUCapsQMPSchemaQueries). */
const SCHEMA_QUERIES: ReadonlyArray<readonly [string, string]> = [
  ['blockdev-add/arg-type/+file/drop-cache', 'migration-file-drop-cache'],
  ['blockdev-add/arg-type/+nvme', 'drive-nvme'],
  ['blockdev-add/arg-type/+file/aio/^io_uring', 'aio.io_uring'],
  ['blockdev-add/arg-type/+rbd/encrypt', 'rbd-encryption'],
  ['blockdev-add/arg-type/+nbd/tls-hostname', 'blockdev.nbd.tls-hostname'],
  ['blockdev-snapshot/$allow-write-only-overlay', 'blockdev-snapshot.allow-write-only-overlay'],
  ['chardev-add/arg-type/backend/+socket/data/reconnect', 'chardev-reconnect'],
  ['device_add/$json-cli-hotplug', 'device.json+hotplug'],
  ['migrate-set-parameters/arg-type/block-bitmap-mapping/bitmaps/transform', 'migration-param.block-bitmap-mapping'],
  ['nbd-server-start/arg-type/tls-creds', 'nbd-tls'],
  ['nbd-server-add/arg-type/bitmap', 'nbd-bitmap'],
  ['netdev_add/arg-type/+stream', 'netdev.stream'],
  ['netdev_add/arg-type/+vhost-vdpa', 'netdev.vhost-vdpa'],
  ['netdev_add/arg-type/type/^dgram', 'netdev.json'],
  ['object-add/arg-type/qom-type/^secret', 'object.qapified'],
  ['query-display-options/ret-type/+egl-headless/rendernode', 'egl-headless.rendernode'],
  ['query-display-options/ret-type/+sdl', 'sdl'],
  ['query-display-options/ret-type/+egl-headless', 'egl-headless'],
  ['query-hotpluggable-cpus/ret-type/props/die-id', 'smp-dies'],
  ['query-named-block-nodes/arg-type/flat', 'query-named-block-nodes.flat'],
  ['screendump/arg-type/device', 'screendump_device'],
  ['set-numa-node/arg-type/+hmat-lb', 'numa.hmat'],
  ['object-add/arg-type/+sev-guest/kernel-hashes', 'sev-guest-kernel-hashes'],
  ['calc-dirty-rate/arg-type/mode', 'dirtyrate-param.mode'],
  ['chardev-add/arg-type/backend/+qemu-vdagent', 'chardev.qemu-vdagent'],
  ['query-display-options/ret-type/+dbus', 'display-dbus'],
  ['object-add/arg-type/+iothread/thread-pool-max', 'iothread.thread-pool-max'],
  ['query-migrate/ret-type/blocked-reasons', 'migration.blocked-reasons'],
  ['query-iothreads/ret-type/poll-max-ns', 'iothread.poll-max-ns'],
  ['screendump/arg-type/format/^png', 'screenshot-format-png'],
];

/** -option parameter → flag (virQEMUCapsCommandLine); an absent parameter means the option itself. */
const COMMAND_LINE: ReadonlyArray<readonly [string, string | undefined, string]> = [
  ['fsdev', 'multidevs', 'fsdev.multidevs'],
  ['spice', 'gl', 'spice-gl'],
  ['spice', 'rendernode', 'spice-rendernode'],
  ['sandbox', undefined, 'seccomp-sandbox'],
  ['smp-opts', 'dies', 'smp-dies'],
  ['machine', 'hpet', 'machine-hpet'],
  ['vnc', 'power-control', 'vnc-power-control'],
];

const TPM_MODELS: ReadonlyArray<readonly [string, string]> = [
  ['tpm-tis', 'tpm-tis'], ['tpm-crb', 'tpm-crb'], ['tpm-spapr', 'tpm-spapr'], ['spapr-tpm-proxy', 'spapr-tpm-proxy'],
];
const TPM_TYPES: ReadonlyArray<readonly [string, string]> = [['passthrough', 'tpm-passthrough'], ['emulator', 'tpm-emulator']];

function hasProp(props: readonly QemuDeviceProperty[] | undefined, name: string): boolean {
  return props !== undefined && props.some((p) => p.name === name);
}

export function deriveFlags(input: FlagInputs): Set<string> {
  const flags = new Set<string>();
  for (const [cmd, flag] of COMMANDS) if (input.commands.has(cmd)) flags.add(flag);
  for (const [ev, flag] of EVENTS) if (input.events.has(ev)) flags.add(flag);
  for (const [cap, flag] of MIGRATION) if (input.migrationCapabilities.has(cap)) flags.add(flag);
  for (const [type, flag] of OBJECT_TYPES) if (input.types.has(type)) flags.add(flag);
  for (const d of DEVICE_PROPS) {
    if (d.requires && !flags.has(d.requires)) continue;
    const props = input.deviceProps[d.type];
    for (const [prop, flag] of d.props) if (hasProp(props, prop)) flags.add(flag);
    if (d.type === 'virtio-blk-pci') {
      const scsi = props?.find((p) => p.name === 'scsi');
      if (scsi && scsi.defaultValue === false) flags.add('virtio-blk-pci.scsi.default.disabled');
    }
  }
  for (const o of OBJECT_PROPS) {
    if (o.requires && !flags.has(o.requires)) continue;
    const props = input.objectProps[o.type];
    for (const [prop, flag] of o.props) if (hasProp(props, prop)) flags.add(flag);
  }
  if (input.schema) {
    for (const [q, flag] of SCHEMA_QUERIES) if (input.schema.query(q)) flags.add(flag);
  }
  for (const [opt, param, flag] of COMMAND_LINE) {
    const params = input.commandLine.get(opt);
    if (!params) continue;
    if (param === undefined || params.includes(param)) flags.add(flag);
  }
  for (const [model, flag] of TPM_MODELS) if (input.tpmModels.includes(model)) flags.add(flag);
  for (const [type, flag] of TPM_TYPES) if (input.tpmTypes.includes(type)) flags.add(flag);
  if (input.kvm.present && input.kvm.enabled) flags.add('kvm');
  if (input.sevSupported && flags.has('sev-guest')) flags.add('sev-guest');
  else flags.delete('sev-guest');
  if (input.sgxSupported && flags.has('sgx-epc')) flags.add('sgx-epc');
  else flags.delete('sgx-epc');

  // Rules of libvirt's own (virQEMUCapsInitQMPArch / version checks).
  const x86 = input.arch === 'x86_64' || input.arch === 'i386';
  if (x86) {
    flags.add('no-acpi');
    if (flags.has('query-cpu-model-expansion')) flags.add('cpu-cache');
    // libvirt 9.0 needs QEMU >= 4.2, where -cpu features have canonical names.
    flags.add('canonical-cpu-features');
  }
  if (input.types.has('esp') && (input.arch === 'sparc' || input.arch === 'm68k' || input.arch === 'mips64')) flags.add('esp');
  if (input.commands.has('block-dirty-bitmap-merge') && input.commands.has('blockdev-backup')) flags.add('incremental-backup');
  if (input.machineCpuMax) flags.add('cpu-max');
  // -compat is QAPI-described (not in query-command-line-options); it came with QEMU 6.0.
  if (input.version >= 6_000_000) flags.add('compat-deprecated');
  return flags;
}
