// .exp/argv.ts
import { parseDomainXml as parseDomainXml2 } from "@virtkit/core";

// src/caps/capabilities.ts
import { VirtError } from "@virtkit/core";

// src/caps/qapi-schema.ts
var QapiSchema = class {
  byName = /* @__PURE__ */ new Map();
  constructor(entries2) {
    for (const e of entries2) {
      if (e && typeof e === "object" && typeof e.name === "string") this.byName.set(e.name, e);
    }
  }
  get size() {
    return this.byName.size;
  }
  has(name) {
    return this.byName.has(name);
  }
  /** Names of all entries of one meta-type (`command`, `event`, …). */
  names(metaType) {
    const out2 = [];
    for (const e of this.byName.values()) if (e["meta-type"] === metaType) out2.push(e.name);
    return out2;
  }
  /** True when the query path resolves (see the class comment). */
  query(path) {
    const steps = path.split("/");
    const first = this.byName.get(steps[0]);
    if (!first) return false;
    return this.walk(first, steps, 1, 0);
  }
  walk(entry, steps, i, depth) {
    if (depth > 64) return false;
    if (i >= steps.length) return true;
    const step = steps[i];
    if (step.startsWith("$")) {
      return (entry.features ?? []).includes(step.slice(1)) && this.walk(entry, steps, i + 1, depth + 1);
    }
    switch (entry["meta-type"]) {
      case "command":
      case "event": {
        if (step !== "arg-type" && step !== "ret-type") return false;
        const t = entry[step];
        const next = t === void 0 ? void 0 : this.byName.get(t);
        return next !== void 0 && this.walk(next, steps, i + 1, depth + 1);
      }
      case "array": {
        const next = this.byName.get(entry["element-type"] ?? "");
        return next !== void 0 && this.walk(next, steps, i, depth + 1);
      }
      case "alternate":
        return (entry.members ?? []).some((m) => {
          const next = this.byName.get(m.type);
          return next !== void 0 && this.walk(next, steps, i, depth + 1);
        });
      case "enum": {
        if (!step.startsWith("^")) return false;
        const values = entry.values ?? (entry.members ?? []).map((m) => m.name ?? "");
        return values.includes(step.slice(1)) && i + 1 === steps.length;
      }
      case "builtin":
        return step.startsWith("!") && entry["json-type"] === step.slice(1) && i + 1 === steps.length;
      case "object": {
        if (step.startsWith("+")) {
          const v = (entry.variants ?? []).find((x) => x.case === step.slice(1));
          const next2 = v ? this.byName.get(v.type) : void 0;
          return next2 !== void 0 && this.walk(next2, steps, i + 1, depth + 1);
        }
        const optional = step.startsWith("*");
        const name = optional ? step.slice(1) : step;
        const m = (entry.members ?? []).find((x) => x.name === name);
        if (!m) return false;
        if (optional && !("default" in m)) return false;
        const next = this.byName.get(m.type);
        return next !== void 0 && this.walk(next, steps, i + 1, depth + 1);
      }
      default:
        return false;
    }
  }
};

// src/caps/capabilities.ts
var QemuCapabilities = class {
  data;
  flagSet;
  schemaCache;
  constructor(data) {
    this.data = data;
    this.flagSet = new Set(data.flags);
  }
  get binary() {
    return this.data.binary;
  }
  /** libvirt's encoding: 7002050 is 7.2.50. */
  get version() {
    return this.data.version;
  }
  get versionString() {
    const v = this.data.version;
    return `${Math.floor(v / 1e6)}.${Math.floor(v % 1e6 / 1e3)}.${v % 1e3}`;
  }
  get arch() {
    return this.data.arch;
  }
  get flags() {
    return this.flagSet;
  }
  /** Is this libvirt capability flag (QEMU_CAPS_* by its string name) set? */
  has(flag) {
    return this.flagSet.has(flag);
  }
  /** Is the QEMU at least major.minor.micro? */
  atLeast(major, minor = 0, micro = 0) {
    return this.data.version >= major * 1e6 + minor * 1e3 + micro;
  }
  accel(accel) {
    return accel === "kvm" ? this.data.kvm : this.data.tcg;
  }
  machines(accel) {
    return this.accel(accel).machines;
  }
  defaultMachine(accel) {
    return this.machines(accel).find((m) => m.isDefault);
  }
  /** A machine type by name or alias (`pc`, `q35`), or undefined. */
  machine(name, accel) {
    const list = this.machines(accel);
    return list.find((m) => m.name === name) ?? list.find((m) => m.alias === name);
  }
  /** The canonical name of a machine type; fails with CONFIG_UNSUPPORTED when QEMU lacks it. */
  canonicalMachine(name, accel) {
    const m = this.machine(name, accel);
    if (!m) throw new VirtError("CONFIG_UNSUPPORTED", `machine type '${name}' is not supported by ${this.binary} (${accel})`, { origin: "qemu" });
    return m.name;
  }
  cpuModels(accel) {
    return this.accel(accel).cpuModels;
  }
  cpuModel(name, accel) {
    return this.cpuModels(accel).find((c) => c.name === name);
  }
  hasDevice(type) {
    return this.data.types.includes(type);
  }
  deviceHasProperty(type, prop) {
    return (this.data.deviceProps[type] ?? []).some((p) => p.name === prop);
  }
  hasCommand(name) {
    return this.data.commands.includes(name);
  }
  /** The QAPI schema, when known. */
  get schema() {
    if (!this.schemaCache && this.data.schema) this.schemaCache = new QapiSchema(this.data.schema);
    return this.schemaCache;
  }
  /** libvirt-style schema query (`blockdev-add/arg-type/+file/aio/^io_uring`); false without a schema. */
  schemaHas(query) {
    return this.schema?.query(query) ?? false;
  }
  toJSON() {
    return this.data;
  }
};

// src/caps/from-exchanges.ts
import { VirtError as VirtError2 } from "@virtkit/core";

// src/caps/flags.ts
var COMMANDS = [
  ["query-vnc", "vnc"],
  ["query-spice", "spice"],
  ["rtc-reset-reinjection", "rtc-reset-reinjection"],
  ["query-hotpluggable-cpus", "query-hotpluggable-cpus"],
  ["query-cpu-model-expansion", "query-cpu-model-expansion"],
  ["query-cpu-definitions", "query-cpu-definitions"],
  ["query-cpu-model-baseline", "query-cpu-model-baseline"],
  ["query-cpu-model-comparison", "query-cpu-model-comparison"],
  ["block-export-add", "block-export-add"],
  ["blockdev-reopen", "blockdev-reopen"],
  ["set-action", "set-action"],
  ["query-dirty-rate", "query-dirty-rate"],
  ["sev-inject-launch-secret", "sev-inject-launch-secret"],
  ["calc-dirty-rate", "calc-dirty-rate"],
  ["query-stats", "query-stats"],
  ["query-stats-schemas", "query-stats-schemas"]
];
var EVENTS = [];
var MIGRATION = [["rdma-pin-all", "migrate-rdma"]];
var OBJECT_TYPES = [
  ["hda-duplex", "hda-duplex"],
  ["hda-micro", "hda-micro"],
  ["ccid-card-emulated", "ccid-emulated"],
  ["ccid-card-passthru", "ccid-passthru"],
  ["piix3-usb-uhci", "piix3-usb-uhci"],
  ["piix4-usb-uhci", "piix4-usb-uhci"],
  ["usb-ehci", "usb-ehci"],
  ["ich9-usb-ehci1", "ich9-usb-ehci1"],
  ["vt82c686b-usb-uhci", "vt82c686b-usb-uhci"],
  ["pci-ohci", "pci-ohci"],
  ["nec-usb-xhci", "nec-usb-xhci"],
  ["usb-redir", "usb-redir"],
  ["usb-hub", "usb-hub"],
  ["ich9-ahci", "ich9-ahci"],
  ["virtio-blk-ccw", "virtio-ccw"],
  ["sclpconsole", "s390-sclp"],
  ["lsi53c895a", "lsi"],
  ["virtio-scsi-pci", "virtio-scsi-pci"],
  ["virtio-scsi-ccw", "virtio-scsi-pci"],
  ["virtio-scsi-device", "virtio-scsi-pci"],
  ["megasas", "megasas"],
  ["qxl", "qxl"],
  ["scsi-block", "scsi-block"],
  ["VGA", "VGA"],
  ["cirrus-vga", "cirrus-vga"],
  ["vmware-svga", "vmware-svga"],
  ["usb-serial", "usb-serial"],
  ["virtio-rng-pci", "virtio-rng"],
  ["virtio-rng-ccw", "virtio-rng"],
  ["virtio-rng-device", "virtio-rng"],
  ["rng-random", "rng-random"],
  ["rng-egd", "rng-egd"],
  ["spapr-nvram", "nvram"],
  ["pci-bridge", "pci-bridge"],
  ["vfio-pci", "vfio-pci"],
  ["i82801b11-bridge", "dmi-to-pci-bridge"],
  ["usb-storage", "usb-storage"],
  ["virtio-mmio", "virtio-mmio"],
  ["ich9-intel-hda", "ich9-intel-hda"],
  ["pvpanic", "pvpanic"],
  ["usb-kbd", "usb-kbd"],
  ["usb-audio", "usb-audio"],
  ["iothread", "iothread"],
  ["pc-dimm", "pc-dimm"],
  ["pci-serial", "pci-serial"],
  ["gpex-pcihost", "gpex-pcihost"],
  ["ioh3420", "ioh3420"],
  ["x3130-upstream", "x3130-upstream"],
  ["xio3130-downstream", "xio3130-downstream"],
  ["rtl8139", "rtl8139"],
  ["e1000", "e1000"],
  ["virtio-net-pci", "virtio-net"],
  ["virtio-net-ccw", "virtio-net"],
  ["virtio-net-device", "virtio-net"],
  ["virtio-gpu-pci", "virtio-gpu"],
  ["virtio-gpu-device", "virtio-gpu"],
  ["virtio-vga", "virtio-vga"],
  ["virtio-keyboard-device", "virtio-keyboard"],
  ["virtio-keyboard-pci", "virtio-keyboard"],
  ["virtio-mouse-device", "virtio-mouse"],
  ["virtio-mouse-pci", "virtio-mouse"],
  ["virtio-tablet-device", "virtio-tablet"],
  ["virtio-tablet-pci", "virtio-tablet"],
  ["virtio-input-host-device", "virtio-input-host"],
  ["virtio-input-host-pci", "virtio-input-host"],
  ["mptsas1068", "mptsas1068"],
  ["pxb", "pxb"],
  ["pxb-pcie", "pxb-pcie"],
  ["intel-iommu", "intel-iommu"],
  ["ivshmem-plain", "ivshmem-plain"],
  ["ivshmem-doorbell", "ivshmem-doorbell"],
  ["vhost-scsi", "vhost-scsi"],
  ["nvdimm", "nvdimm"],
  ["pcie-root-port", "pcie-root-port"],
  ["qemu-xhci", "qemu-xhci"],
  ["spapr-pci-host-bridge", "spapr-pci-host-bridge"],
  ["vmcoreinfo", "vmcoreinfo"],
  ["spapr-vty", "spapr-vty"],
  ["sclplmconsole", "sclplmconsole"],
  ["isa-serial", "isa-serial"],
  ["pl011", "pl011"],
  ["virtio-gpu-ccw", "virtio-gpu-ccw"],
  ["virtio-keyboard-ccw", "virtio-keyboard-ccw"],
  ["virtio-mouse-ccw", "virtio-mouse-ccw"],
  ["virtio-tablet-ccw", "virtio-tablet-ccw"],
  ["pcie-pci-bridge", "pcie-pci-bridge"],
  ["pr-manager-helper", "pr-manager-helper"],
  ["virtual-css-bridge", "virtual-css-bridge"],
  ["vfio-ccw", "vfio-ccw"],
  ["hda-output", "hda-output"],
  ["vmgenid", "vmgenid"],
  ["vhost-vsock-device", "vhost-vsock"],
  ["mch", "mch"],
  ["sev-guest", "sev-guest"],
  ["vfio-ap", "vfio-ap"],
  ["zpci", "zpci"],
  ["memory-backend-memfd", "memory-backend-memfd"],
  ...[
    "virtio-blk-pci",
    "virtio-net-pci",
    "vhost-scsi-pci",
    "virtio-rng-pci",
    "virtio-9p-pci",
    "virtio-balloon-pci",
    "vhost-vsock-pci",
    "virtio-scsi-pci",
    "virtio-serial-pci"
  ].flatMap((t) => [[`${t}-transitional`, "virtio-pci-non-transitional"], [`${t}-non-transitional`, "virtio-pci-non-transitional"]]),
  ["max-x86_64-cpu", "x86-max-cpu"],
  ["bochs-display", "bochs-display"],
  ["dbus-vmstate", "dbus-vmstate"],
  ["vhost-user-gpu", "vhost-user-gpu"],
  ["vhost-user-vga", "vhost-user-vga"],
  ["ramfb", "ramfb"],
  ["max-arm-cpu", "arm-max-cpu"],
  ["i8042", "i8042"],
  ["rng-builtin", "rng-builtin"],
  ["tpm-spapr", "tpm-spapr"],
  ["vhost-user-fs-device", "vhost-user-fs"],
  ["tcg-accel", "tcg"],
  ["pvscsi", "pvscsi"],
  ["spapr-tpm-proxy", "spapr-tpm-proxy"],
  ["vmport", "machine-vmport-opt"],
  ["dc390", "dc390"],
  ["am53c974", "am53c974"],
  ["virtio-pmem-pci", "virtio-pmem-pci"],
  ["vhost-user-blk", "vhost-user-blk"],
  ["input-linux", "input-linux"],
  ["virtio-gpu-gl-pci", "virtio-gpu-gl-pci"],
  ["virtio-vga-gl", "virtio-vga-gl"],
  ["s390-pv-guest", "s390-pv-guest"],
  ["virtio-mem-pci", "virtio-mem-pci"],
  ["virtio-iommu-pci", "virtio-iommu-pci"],
  ["sgx-epc", "sgx-epc"],
  ["thread-context", "thread-context"]
];
var BALLOON_PROPS = [["deflate-on-oom", "virtio-balloon-pci.deflate-on-oom"], ["free-page-reporting", "virtio-balloon.free-page-reporting"], ["acpi-index", "acpi-index"]];
var BLK_PROPS = [["scsi", "virtio-blk-pci.scsi"], ["queue-size", "virtio-blk.queue-size"], ["acpi-index", "acpi-index"]];
var NET_PROPS = [["acpi-index", "acpi-index"], ["rss", "virtio-net.rss"]];
var SCSI_PROPS = [["acpi-index", "acpi-index"]];
var GPU_PROPS = [["virgl", "virtio-gpu.virgl"], ["acpi-index", "acpi-index"]];
var DEVICE_PROPS = [
  { type: "virtio-blk-pci", props: BLK_PROPS },
  { type: "virtio-net-pci", props: NET_PROPS, requires: "virtio-net" },
  { type: "virtio-scsi-pci", props: SCSI_PROPS, requires: "virtio-scsi-pci" },
  { type: "virtio-blk-ccw", props: BLK_PROPS, requires: "virtio-ccw" },
  { type: "virtio-net-ccw", props: NET_PROPS, requires: "virtio-net" },
  { type: "virtio-scsi-ccw", props: SCSI_PROPS, requires: "virtio-scsi-pci" },
  { type: "vfio-pci", props: [["display", "vfio-pci.display"]], requires: "vfio-pci" },
  { type: "scsi-hd", props: [["channel", "scsi-disk.channel"], ["rotation_rate", "rotation-rate"], ["wwn", "scsi-disk.wwn"]] },
  { type: "ide-hd", props: [["wwn", "ide-drive.wwn"]] },
  { type: "PIIX4_PM", props: [["disable_s3", "disable-s3"], ["disable_s4", "disable-s4"], ["acpi-root-pci-hotplug", "piix4.acpi-root-pci-hotplug"]] },
  { type: "usb-redir", props: [["filter", "usb-redir.filter"]], requires: "usb-redir" },
  { type: "usb-storage", props: [["removable", "usb-storage.removable"]], requires: "usb-storage" },
  { type: "kvm-pit", props: [["lost_tick_policy", "kvm-pit-lost-tick-policy"]] },
  { type: "VGA", props: [["vgamem_mb", "VGA.vgamem_mb"]], requires: "VGA" },
  { type: "vmware-svga", props: [["vgamem_mb", "vmware-svga.vgamem_mb"]], requires: "vmware-svga" },
  { type: "qxl", props: [["vgamem_mb", "qxl.vgamem_mb"], ["vram64_size_mb", "qxl.vram64_size_mb"]], requires: "qxl" },
  { type: "virtio-gpu-pci", props: GPU_PROPS, requires: "virtio-gpu" },
  { type: "virtio-gpu-device", props: GPU_PROPS, requires: "virtio-gpu" },
  { type: "ICH9-LPC", props: [["disable_s3", "ich9-disable-s3"], ["disable_s4", "ich9-disable-s4"]] },
  { type: "virtio-balloon-pci", props: BALLOON_PROPS },
  { type: "virtio-balloon-ccw", props: BALLOON_PROPS },
  { type: "virtio-balloon-device", props: BALLOON_PROPS },
  {
    type: "intel-iommu",
    props: [
      ["intremap", "intel-iommu.intremap"],
      ["caching-mode", "intel-iommu.caching-mode"],
      ["eim", "intel-iommu.eim"],
      ["device-iotlb", "intel-iommu.device-iotlb"],
      ["aw-bits", "intel-iommu.aw-bits"]
    ],
    requires: "intel-iommu"
  },
  { type: "spapr-pci-host-bridge", props: [["numa_node", "spapr-pci-host-bridge.numa_node"]], requires: "spapr-pci-host-bridge" },
  { type: "virtio-gpu-ccw", props: GPU_PROPS, requires: "virtio-gpu-ccw" },
  { type: "mch", props: [["extended-tseg-mbytes", "mch.extended-tseg-mbytes"]], requires: "mch" },
  { type: "nvdimm", props: [["unarmed", "nvdimm.unarmed"]], requires: "nvdimm" },
  { type: "pcie-root-port", props: [["hotplug", "pcie-root-port.hotplug"]], requires: "pcie-root-port" },
  { type: "usb-host", props: [["hostdevice", "usb-host.hostdevice"], ["guest-resets-all", "usb-host.guest-resets-all"]] },
  { type: "vhost-user-fs-device", props: [["bootindex", "vhost-user-fs.bootindex"]], requires: "vhost-user-fs" },
  { type: "virtio-mem-pci", props: [["prealloc", "virtio-mem-pci.prealloc"]], requires: "virtio-mem-pci" },
  { type: "virtio-iommu-pci", props: [["boot-bypass", "virtio-iommu.boot-bypass"]], requires: "virtio-iommu-pci" }
];
var PROBED_DEVICE_TYPES = DEVICE_PROPS.map((d) => d.type);
var OBJECT_PROPS = [
  {
    type: "memory-backend-file",
    props: [
      ["pmem", "memory-backend-file.pmem"],
      ["x-use-canonical-path-for-ramblock-id", "memory-backend-file.x-use-canonical-path-for-ramblock-id"],
      ["reserve", "memory-backend-file.reserve"],
      ["prealloc-threads", "memory-backend-file.prealloc-threads"]
    ]
  },
  { type: "memory-backend-memfd", props: [["hugetlb", "memory-backend-memfd.hugetlb"]], requires: "memory-backend-memfd" },
  {
    type: "max-x86_64-cpu",
    props: [["unavailable-features", "cpu-unavailable-features"], ["kvm-no-adjvtime", "cpu.kvm-no-adjvtime"], ["migratable", "cpu.migratable"]],
    requires: "x86-max-cpu"
  },
  { type: "max-arm-cpu", props: [["unavailable-features", "cpu-unavailable-features"], ["kvm-no-adjvtime", "cpu.kvm-no-adjvtime"], ["migratable", "cpu.migratable"]], requires: "arm-max-cpu" },
  { type: "none-machine", props: [["confidential-guest-support", "confidential-guest-support"]] }
];
var PROBED_OBJECT_TYPES = OBJECT_PROPS.map((o) => o.type);
var SCHEMA_QUERIES = [
  ["blockdev-add/arg-type/+file/drop-cache", "migration-file-drop-cache"],
  ["blockdev-add/arg-type/+nvme", "drive-nvme"],
  ["blockdev-add/arg-type/+file/aio/^io_uring", "aio.io_uring"],
  ["blockdev-add/arg-type/+rbd/encrypt", "rbd-encryption"],
  ["blockdev-add/arg-type/+nbd/tls-hostname", "blockdev.nbd.tls-hostname"],
  ["blockdev-snapshot/$allow-write-only-overlay", "blockdev-snapshot.allow-write-only-overlay"],
  ["chardev-add/arg-type/backend/+socket/data/reconnect", "chardev-reconnect"],
  ["device_add/$json-cli-hotplug", "device.json+hotplug"],
  ["migrate-set-parameters/arg-type/block-bitmap-mapping/bitmaps/transform", "migration-param.block-bitmap-mapping"],
  ["nbd-server-start/arg-type/tls-creds", "nbd-tls"],
  ["nbd-server-add/arg-type/bitmap", "nbd-bitmap"],
  ["netdev_add/arg-type/+stream", "netdev.stream"],
  ["netdev_add/arg-type/+vhost-vdpa", "netdev.vhost-vdpa"],
  ["netdev_add/arg-type/type/^dgram", "netdev.json"],
  ["object-add/arg-type/qom-type/^secret", "object.qapified"],
  ["query-display-options/ret-type/+egl-headless/rendernode", "egl-headless.rendernode"],
  ["query-display-options/ret-type/+sdl", "sdl"],
  ["query-display-options/ret-type/+egl-headless", "egl-headless"],
  ["query-hotpluggable-cpus/ret-type/props/die-id", "smp-dies"],
  ["query-named-block-nodes/arg-type/flat", "query-named-block-nodes.flat"],
  ["screendump/arg-type/device", "screendump_device"],
  ["set-numa-node/arg-type/+hmat-lb", "numa.hmat"],
  ["object-add/arg-type/+sev-guest/kernel-hashes", "sev-guest-kernel-hashes"],
  ["calc-dirty-rate/arg-type/mode", "dirtyrate-param.mode"],
  ["chardev-add/arg-type/backend/+qemu-vdagent", "chardev.qemu-vdagent"],
  ["query-display-options/ret-type/+dbus", "display-dbus"],
  ["object-add/arg-type/+iothread/thread-pool-max", "iothread.thread-pool-max"],
  ["query-migrate/ret-type/blocked-reasons", "migration.blocked-reasons"],
  ["query-iothreads/ret-type/poll-max-ns", "iothread.poll-max-ns"],
  ["screendump/arg-type/format/^png", "screenshot-format-png"]
];
var COMMAND_LINE = [
  ["fsdev", "multidevs", "fsdev.multidevs"],
  ["spice", "gl", "spice-gl"],
  ["spice", "rendernode", "spice-rendernode"],
  ["sandbox", void 0, "seccomp-sandbox"],
  ["smp-opts", "dies", "smp-dies"],
  ["machine", "hpet", "machine-hpet"],
  ["vnc", "power-control", "vnc-power-control"]
];
var TPM_MODELS = [
  ["tpm-tis", "tpm-tis"],
  ["tpm-crb", "tpm-crb"],
  ["tpm-spapr", "tpm-spapr"],
  ["spapr-tpm-proxy", "spapr-tpm-proxy"]
];
var TPM_TYPES = [["passthrough", "tpm-passthrough"], ["emulator", "tpm-emulator"]];
function hasProp(props2, name) {
  return props2 !== void 0 && props2.some((p) => p.name === name);
}
function deriveFlags(input) {
  const flags = /* @__PURE__ */ new Set();
  for (const [cmd, flag] of COMMANDS) if (input.commands.has(cmd)) flags.add(flag);
  for (const [ev, flag] of EVENTS) if (input.events.has(ev)) flags.add(flag);
  for (const [cap, flag] of MIGRATION) if (input.migrationCapabilities.has(cap)) flags.add(flag);
  for (const [type, flag] of OBJECT_TYPES) if (input.types.has(type)) flags.add(flag);
  for (const d of DEVICE_PROPS) {
    if (d.requires && !flags.has(d.requires)) continue;
    const props2 = input.deviceProps[d.type];
    for (const [prop, flag] of d.props) if (hasProp(props2, prop)) flags.add(flag);
    if (d.type === "virtio-blk-pci") {
      const scsi = props2?.find((p) => p.name === "scsi");
      if (scsi && scsi.defaultValue === false) flags.add("virtio-blk-pci.scsi.default.disabled");
    }
  }
  for (const o of OBJECT_PROPS) {
    if (o.requires && !flags.has(o.requires)) continue;
    const props2 = input.objectProps[o.type];
    for (const [prop, flag] of o.props) if (hasProp(props2, prop)) flags.add(flag);
  }
  if (input.schema) {
    for (const [q, flag] of SCHEMA_QUERIES) if (input.schema.query(q)) flags.add(flag);
  }
  for (const [opt, param, flag] of COMMAND_LINE) {
    const params = input.commandLine.get(opt);
    if (!params) continue;
    if (param === void 0 || params.includes(param)) flags.add(flag);
  }
  for (const [model, flag] of TPM_MODELS) if (input.tpmModels.includes(model)) flags.add(flag);
  for (const [type, flag] of TPM_TYPES) if (input.tpmTypes.includes(type)) flags.add(flag);
  if (input.kvm.present && input.kvm.enabled) flags.add("kvm");
  if (input.sevSupported && flags.has("sev-guest")) flags.add("sev-guest");
  else flags.delete("sev-guest");
  if (input.sgxSupported && flags.has("sgx-epc")) flags.add("sgx-epc");
  else flags.delete("sgx-epc");
  const x86 = input.arch === "x86_64" || input.arch === "i386";
  if (x86) {
    flags.add("no-acpi");
    if (flags.has("query-cpu-model-expansion")) flags.add("cpu-cache");
    flags.add("canonical-cpu-features");
  }
  if (input.types.has("esp") && (input.arch === "sparc" || input.arch === "m68k" || input.arch === "mips64")) flags.add("esp");
  if (input.commands.has("block-dirty-bitmap-merge") && input.commands.has("blockdev-backup")) flags.add("incremental-backup");
  if (input.machineCpuMax) flags.add("cpu-max");
  if (input.version >= 6e6) flags.add("compat-deprecated");
  return flags;
}

// src/caps/from-exchanges.ts
function asArray(v) {
  return Array.isArray(v) ? v.filter((x) => x && typeof x === "object") : [];
}
function str(v) {
  return typeof v === "string" ? v : void 0;
}
function machinesFromReply(reply) {
  const list = asArray(reply).filter((m) => m.name !== "none").map((m) => {
    const out2 = {
      name: String(m.name),
      maxCpus: typeof m["cpu-max"] === "number" ? m["cpu-max"] : 0,
      hotplugCpus: m["hotpluggable-cpus"] === true,
      isDefault: m["is-default"] === true,
      numaMemSupported: m["numa-mem-supported"] === true,
      deprecated: m.deprecated === true
    };
    if (str(m.alias)) out2.alias = str(m.alias);
    if (str(m["default-cpu-type"])) out2.defaultCpu = str(m["default-cpu-type"]);
    if (str(m["default-ram-id"])) out2.defaultRamId = str(m["default-ram-id"]);
    if (typeof m.acpi === "boolean") out2.acpi = m.acpi;
    return out2;
  });
  const def2 = list.findIndex((m) => m.isDefault);
  if (def2 > 0) list.unshift(...list.splice(def2, 1));
  return list;
}
function cpuModelsFromReply(reply) {
  return asArray(reply).map((c) => {
    const unavailable = Array.isArray(c["unavailable-features"]) ? c["unavailable-features"].map(String) : void 0;
    const out2 = {
      name: String(c.name),
      usable: unavailable === void 0 ? "unknown" : unavailable.length === 0 ? "yes" : "no",
      blockers: unavailable ?? [],
      deprecated: c.deprecated === true
    };
    if (str(c.typename)) out2.typename = str(c.typename);
    if (str(c["alias-of"])) out2.alias = str(c["alias-of"]);
    return out2;
  });
}
function propsFromReply(reply) {
  return asArray(reply).map((p) => {
    const out2 = { name: String(p.name), type: String(p.type ?? "") };
    if ("default-value" in p) out2.defaultValue = p["default-value"];
    if (str(p.description)) out2.description = str(p.description);
    return out2;
  });
}
function hostCpuFrom(round) {
  const expansions = round.filter((e) => e.command === "query-cpu-model-expansion" && e.args?.type === "static" && e.return);
  if (expansions.length === 0) return void 0;
  const model = (e) => e.return.model ?? {};
  const migratable = expansions.find((e) => !e.args?.model?.props?.hasOwnProperty("migratable"));
  const full = expansions.find((e) => e.args?.model?.props?.migratable === false) ?? migratable;
  const migProps = migratable ? model(migratable).props ?? {} : {};
  const props2 = [];
  for (const [name, value] of Object.entries(model(full).props ?? {})) {
    const type = typeof value === "boolean" ? "boolean" : typeof value === "number" ? "number" : "string";
    const prop = { name, type, value };
    if (type === "boolean" && value === true) prop.migratable = migProps[name] === true;
    props2.push(prop);
  }
  return { model: model(full).name ?? "host", migratability: migratable !== void 0, props: props2 };
}
function accelFrom(round) {
  const out2 = {
    machines: machinesFromReply(round.find((e) => e.command === "query-machines")?.return),
    cpuModels: cpuModelsFromReply(round.find((e) => e.command === "query-cpu-definitions")?.return)
  };
  const host = hostCpuFrom(round);
  if (host) out2.hostCpu = host;
  return out2;
}
function splitRounds(exchanges) {
  const rounds = [];
  for (const e of exchanges) {
    if (e.command === "qmp_capabilities" || rounds.length === 0) rounds.push([]);
    rounds.at(-1).push(e);
  }
  return rounds;
}
function capsFromExchanges(exchanges, binary) {
  const rounds = splitRounds(exchanges);
  const main = rounds[0] ?? [];
  const get = (cmd) => main.find((e) => e.command === cmd);
  const version = get("query-version")?.return;
  if (!version?.qemu) throw new VirtError2("INTERNAL_ERROR", `QEMU capabilities of ${binary}: no query-version reply`, { origin: "qemu" });
  const arch = str(get("query-target")?.return?.arch) ?? "x86_64";
  const kvmState = get("query-kvm")?.return ?? {};
  const kvmRound = kvmState.enabled === true;
  const schemaEntries = Array.isArray(get("query-qmp-schema")?.return) ? get("query-qmp-schema").return : void 0;
  const schema = schemaEntries ? new QapiSchema(schemaEntries) : void 0;
  const commands = new Set(asArray(get("query-commands")?.return).map((c) => String(c.name)));
  if (schema) for (const c of schema.names("command")) commands.add(c);
  const events = new Set(schema ? schema.names("event") : asArray(get("query-events")?.return).map((e) => String(e.name)));
  const types = asArray(get("qom-list-types")?.return).map((t) => String(t.name));
  const deviceProps = {};
  const objectProps = {};
  for (const e of main) {
    const typename = str(e.args?.typename);
    if (!typename || e.error) continue;
    if (e.command === "device-list-properties") deviceProps[typename] = propsFromReply(e.return);
    if (e.command === "qom-list-properties") objectProps[typename] = propsFromReply(e.return);
  }
  const commandLine = /* @__PURE__ */ new Map();
  for (const o of asArray(get("query-command-line-options")?.return)) {
    commandLine.set(String(o.option), asArray(o.parameters).map((p) => String(p.name)));
  }
  const migrationCapabilities = asArray(get("query-migrate-capabilities")?.return).map((c) => String(c.capability));
  const tpmModels = Array.isArray(get("query-tpm-models")?.return) ? get("query-tpm-models").return.map(String) : [];
  const tpmTypes = Array.isArray(get("query-tpm-types")?.return) ? get("query-tpm-types").return.map(String) : [];
  const v = version.qemu.major * 1e6 + version.qemu.minor * 1e3 + version.qemu.micro;
  const flags = deriveFlags({
    arch,
    version: v,
    commands,
    events,
    types: new Set(types),
    deviceProps,
    objectProps,
    schema,
    commandLine,
    migrationCapabilities: new Set(migrationCapabilities),
    tpmModels,
    tpmTypes,
    kvm: { present: kvmState.present === true, enabled: kvmState.enabled === true },
    sevSupported: get("query-sev-capabilities")?.return !== void 0,
    sgxSupported: get("query-sgx-capabilities")?.return !== void 0,
    machineCpuMax: asArray(get("query-machines")?.return).some((m) => "cpu-max" in m)
  });
  const empty = { machines: [], cpuModels: [] };
  const first = accelFrom(main);
  const second = rounds[1] ? accelFrom(rounds[1]) : void 0;
  return {
    format: 1,
    binary,
    version: v,
    package: version.package ?? "",
    arch,
    kvmVersion: 0,
    microcodeVersion: 0,
    flags: [...flags].sort(),
    kvm: kvmRound ? first : empty,
    tcg: kvmRound ? second ?? empty : first,
    types,
    deviceProps,
    objectProps,
    commands: [...commands].sort(),
    events: [...events].sort(),
    tpmModels,
    tpmTypes,
    migrationCapabilities,
    hypervCapabilities: [],
    schema: schemaEntries
  };
}

// src/caps/probe.ts
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile as readFile4, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as join5 } from "node:path";
import { writeFileAtomic as writeFileAtomic2 } from "@virtkit/core";

// src/qmp/errors.ts
import { VirtError as VirtError3 } from "@virtkit/core";
function monitorOwner(domain) {
  return domain === void 0 ? "QEMU monitor" : `QEMU monitor of domain '${domain}'`;
}
var QmpCommandError = class extends VirtError3 {
  command;
  /** QMP error class: GenericError, CommandNotFound, DeviceNotFound, DeviceNotActive, KVMMissingCap. */
  errorClass;
  desc;
  constructor(command, errorClass, desc, domain) {
    const who = domain === void 0 ? "" : ` on domain '${domain}'`;
    super("OPERATION_FAILED", `QEMU command '${command}' failed${who}: ${desc}`, { origin: "qemu" });
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }
};

// src/process/accel.ts
import { spawn } from "node:child_process";
import { constants as constants2 } from "node:fs";
import { mkdir, open, readFile as readFile2, writeFile } from "node:fs/promises";
import { join as join3 } from "node:path";
import { writeFileAtomic } from "@virtkit/core";

// src/process/binary-id.ts
import { createHash } from "node:crypto";
import { readFile, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { systemError } from "@virtkit/core";
async function binaryIdentity(binary) {
  try {
    const path = await realpath(binary);
    const st = await stat(path);
    return { path, mtimeMs: Math.trunc(st.mtimeMs), size: st.size };
  } catch (err) {
    throw systemError(`cannot inspect QEMU binary ${binary}`, err, "qemu");
  }
}
function cacheKey(...parts) {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}
function defaultCacheDir(env = process.env) {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "virtkit", "qemu");
}
async function bootId() {
  try {
    return (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  } catch {
    return "unknown";
  }
}

// src/process/binary.ts
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, isAbsolute, join as join2 } from "node:path";
import { VirtError as VirtError4 } from "@virtkit/core";
var DEFAULT_QEMU_BINARY = "qemu-system-x86_64";
async function findQemuBinary(name = DEFAULT_QEMU_BINARY, env = process.env) {
  const candidates = isAbsolute(name) || name.includes("/") ? [name] : (env.PATH ?? "/usr/bin:/bin").split(delimiter).filter(Boolean).map((d) => join2(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
    }
  }
  throw new VirtError4("NO_SUPPORT", `QEMU binary '${name}' not found${candidates.length > 1 ? " in PATH" : ""} (install qemu-system-x86)`, { origin: "qemu" });
}

// src/process/accel.ts
var ACCEL_PROBE_CODE = "fab800f08ed8660f011640010f20c06683c8010f22c066ea1e000f00080066b810008ed88ec08ed0bc00700000c705f000e0feff010000c7055003e0fe000700000f011d46010f00b011e620b008e621b004e621b001e621b0fee621b034e643b0a9e640b004e640fbf4ebfdfab020e620bf0010000031c0b9000c0000f3abc7050010000003200000c7050020000003300000c7050030000083000000b8001000000f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d000000800f22c0eace000f001800b031e6f4f4ebfd8d74000000000000000000ffff0000009acf00ffff00000092cf00ffff0000009aaf00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006c000800008e0f006700d8000f004700f8000f";
var ACCEL_PROBE_RESET = "ea000000f0";
var PROBE_EXIT_STATUS = 99;
function accelProbeFirmware() {
  const img = Buffer.alloc(65536);
  Buffer.from(ACCEL_PROBE_CODE, "hex").copy(img, 0);
  Buffer.from(ACCEL_PROBE_RESET, "hex").copy(img, 65520);
  return img;
}
var memo = /* @__PURE__ */ new Map();
async function probeAccelerator(options = {}) {
  const forced = process.env.VIRTKIT_QEMU_ACCEL;
  if (forced === "kvm" || forced === "tcg") return { accel: forced, reason: "VIRTKIT_QEMU_ACCEL" };
  const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY);
  const key = `${binary}\0${options.cacheDir ?? ""}`;
  let p = memo.get(key);
  if (!p) {
    p = probeUncached(binary, options);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}
async function kvmOpens() {
  try {
    const fh = await open("/dev/kvm", constants2.O_RDWR);
    await fh.close();
    return void 0;
  } catch (err) {
    return `/dev/kvm: ${err.code ?? err.message}`;
  }
}
async function probeUncached(binary, options) {
  const notOpen = await kvmOpens();
  if (notOpen) return { accel: "tcg", reason: notOpen };
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const id = await binaryIdentity(binary);
  const file = join3(cacheDir, `accel-${cacheKey(id, await bootId())}.json`);
  try {
    const cached = JSON.parse(await readFile2(file, "utf8"));
    if (cached.accel === "kvm" || cached.accel === "tcg") return cached;
  } catch {
  }
  const result = await runKvmProbe(binary, cacheDir, options.timeoutMs ?? 2e3);
  await writeFileAtomic(file, JSON.stringify(result) + "\n", 420).catch(() => {
  });
  return result;
}
async function runKvmProbe(binary, cacheDir, timeoutMs) {
  await mkdir(cacheDir, { recursive: true });
  const fw = join3(cacheDir, "accel-probe.bin");
  await writeFile(fw, accelProbeFirmware());
  const args = [
    "-machine",
    "pc,accel=kvm",
    "-m",
    "16",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-bios",
    fw,
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=1"
  ];
  return new Promise((resolve) => {
    let stderr = "";
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => stderr = (stderr + d).slice(-2e3));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ accel: "tcg", reason: `KVM probe could not run ${binary}: ${err.message}` });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === PROBE_EXIT_STATUS) resolve({ accel: "kvm" });
      else if (signal) resolve({ accel: "tcg", reason: `KVM opens but a test guest did not finish within ${timeoutMs} ms` });
      else resolve({ accel: "tcg", reason: `KVM test guest failed (status ${code}): ${stderr.trim().split("\n").pop() ?? ""}` });
    });
  });
}

// src/process/qemu-process.ts
import { spawn as spawn2 } from "node:child_process";
import { once } from "node:events";
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { mkdir as mkdir2, rename, stat as stat2, unlink } from "node:fs/promises";
import { createServer } from "node:net";
import { join as join4 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { socketDirFor, VirtError as VirtError6 } from "@virtkit/core";

// src/qmp/client.ts
import { connect as netConnect } from "node:net";
import { VirtError as VirtError5 } from "@virtkit/core";
var DEFAULT_CONNECT_TIMEOUT_MS = 1e4;
var QmpClient = class _QmpClient {
  domain;
  greeting;
  /** Called when an event listener throws; delivery to the others goes on. */
  onListenerError = () => {
  };
  socket;
  pending = /* @__PURE__ */ new Map();
  listeners = /* @__PURE__ */ new Map();
  closeListeners = /* @__PURE__ */ new Set();
  nextId = 1;
  buffer = "";
  /** Where to resume looking for a newline, so a long reply read in many chunks is scanned once. */
  scanFrom = 0;
  closeInfo;
  lastShutdown;
  closedPromise;
  resolveClosed;
  constructor(socket, greeting, domain, leftover) {
    this.socket = socket;
    this.greeting = greeting;
    this.domain = domain;
    this.buffer = leftover;
    this.closedPromise = new Promise((r) => this.resolveClosed = r);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => this.finish({ by: "error", error: err }));
    socket.on("close", () => this.finish({ by: "peer" }));
    if (leftover.includes("\n")) this.onData("");
  }
  /**
   * Connects to a monitor socket, reads the greeting and negotiates
   * capabilities. Fails with OPERATION_FAILED when nothing listens there or
   * the peer closes, OPERATION_TIMEOUT when it does not answer in time.
   */
  static async connect(path, options = {}) {
    const owner = monitorOwner(options.domain);
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = netConnect(path);
    socket.setEncoding("utf8");
    let client;
    try {
      const { greeting, leftover } = await readGreeting(socket, owner, path, timeoutMs, options.signal);
      client = new _QmpClient(socket, greeting, options.domain, leftover);
      await client.execute("qmp_capabilities", void 0, { timeoutMs, signal: options.signal });
      return client;
    } catch (err) {
      socket.destroy();
      if (client) client.finish({ by: "error", error: err });
      throw err;
    }
  }
  get isOpen() {
    return this.closeInfo === void 0;
  }
  /** Resolves once the connection is gone, with who ended it. */
  get closed() {
    return this.closedPromise;
  }
  /** Runs a command; resolves with its `return` value. */
  execute(command, args, options = {}) {
    if (this.closeInfo) return Promise.reject(this.closedError(command));
    if (options.signal?.aborted) return Promise.reject(abortError(command, this.domain));
    const id = `virtkit-${this.nextId++}`;
    const msg = { execute: command, id };
    if (args !== void 0) msg.arguments = args;
    return new Promise((resolve, reject) => {
      const entry = { command, resolve, reject };
      let timer;
      const onAbort = () => this.dropPending(id, abortError(command, this.domain));
      if (options.timeoutMs !== void 0) {
        timer = setTimeout(() => {
          this.dropPending(
            id,
            new VirtError5("OPERATION_TIMEOUT", `${monitorOwner(this.domain)} did not answer '${command}' within ${options.timeoutMs} ms`, {
              origin: "qemu"
            })
          );
        }, options.timeoutMs);
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      entry.cleanup = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(id, entry);
      this.socket.write(JSON.stringify(msg) + "\n");
    });
  }
  on(event, listener) {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, set = /* @__PURE__ */ new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }
  /** Called once when the connection ends (at once if it already has). */
  onClose(listener) {
    if (this.closeInfo) {
      listener(this.closeInfo);
      return () => {
      };
    }
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }
  waitForEvent(event, options = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const done = () => {
        off();
        offClose();
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const off = this.on(event, (e) => {
        if (options.match && !options.match(e)) return;
        done();
        resolve(e);
      });
      const offClose = this.onClose(() => {
        done();
        reject(this.closedError(`waiting for event ${event}`));
      });
      const onAbort = () => {
        done();
        reject(abortError(`waiting for event ${event}`, this.domain));
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.timeoutMs !== void 0) {
        timer = setTimeout(() => {
          done();
          reject(new VirtError5("OPERATION_TIMEOUT", `${monitorOwner(this.domain)}: no ${event} event within ${options.timeoutMs} ms`, { origin: "qemu" }));
        }, options.timeoutMs);
      }
    });
  }
  /** Closes the connection; pending calls fail with OPERATION_ABORTED. QEMU keeps running. */
  async close() {
    if (this.closeInfo) return;
    this.finish({ by: "local" });
    this.socket.end();
    this.socket.destroy();
  }
  onData(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf("\n", this.scanFrom)) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      this.scanFrom = 0;
      if (line === "") continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        const err = new VirtError5("OPERATION_FAILED", `${monitorOwner(this.domain)} sent malformed JSON: ${line.slice(0, 200)}`, { origin: "qemu" });
        this.finish({ by: "error", error: err });
        this.socket.destroy();
        return;
      }
      this.dispatch(msg);
      if (this.closeInfo) return;
    }
    this.scanFrom = this.buffer.length;
  }
  dispatch(msg) {
    if (typeof msg.event === "string") {
      const event = msg;
      if (event.data === void 0) event.data = {};
      if (event.event === "SHUTDOWN") this.lastShutdown = event.data;
      this.emit(event);
      return;
    }
    if (!("return" in msg) && !("error" in msg)) return;
    let id = typeof msg.id === "string" ? msg.id : void 0;
    if (id === void 0) id = this.pending.keys().next().value;
    if (id === void 0) return;
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.cleanup?.();
    if ("error" in msg) {
      const e = msg.error ?? {};
      entry.reject(new QmpCommandError(entry.command, String(e.class ?? "GenericError"), String(e.desc ?? "unknown error"), this.domain));
    } else {
      entry.resolve(msg.return);
    }
  }
  emit(event) {
    for (const key of [event.event, "*"]) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const l of [...set]) {
        try {
          l(event);
        } catch (err) {
          this.onListenerError(err, event);
        }
      }
    }
  }
  dropPending(id, err) {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.cleanup?.();
    entry.reject(err);
  }
  closedError(command) {
    const info = this.closeInfo;
    const owner = monitorOwner(this.domain);
    if (info?.by === "local") {
      return new VirtError5("OPERATION_ABORTED", `${owner} was closed while '${command}' was pending`, { origin: "qemu" });
    }
    const why = info?.error ? `: ${info.error.message}` : "";
    const exit = this.lastShutdown ? ` after SHUTDOWN (${this.lastShutdown.reason})` : " (QEMU exited or was killed)";
    return new VirtError5("OPERATION_FAILED", `${owner} closed the connection while '${command}' was pending${exit}${why}`, {
      origin: "qemu",
      cause: info?.error
    });
  }
  finish(info) {
    if (this.closeInfo) return;
    this.closeInfo = { ...info, lastShutdown: this.lastShutdown };
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.cleanup?.();
      p.reject(this.closedError(p.command));
    }
    for (const l of [...this.closeListeners]) {
      try {
        l(this.closeInfo);
      } catch {
      }
    }
    this.closeListeners.clear();
    this.resolveClosed(this.closeInfo);
  }
};
function abortError(what, domain) {
  return new VirtError5("OPERATION_ABORTED", `${monitorOwner(domain)}: '${what}' was aborted`, { origin: "qemu" });
}
function readGreeting(socket, owner, path, timeoutMs, signal) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (err) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk) => {
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl < 0) {
        if (buf.length > 1 << 20) fail(new VirtError5("OPERATION_FAILED", `${owner} at ${path} sent no greeting line`, { origin: "qemu" }));
        return;
      }
      const line = buf.slice(0, nl);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return fail(new VirtError5("OPERATION_FAILED", `${owner} at ${path} is not a QMP monitor: ${line.slice(0, 120)}`, { origin: "qemu" }));
      }
      if (!msg.QMP) return fail(new VirtError5("OPERATION_FAILED", `${owner} at ${path} did not send a QMP greeting`, { origin: "qemu" }));
      cleanup();
      resolve({ greeting: msg.QMP, leftover: buf.slice(nl + 1) });
    };
    const onError = (err) => {
      fail(new VirtError5("OPERATION_FAILED", `cannot connect to the ${owner} at ${path}: ${err.code ?? err.message}`, { origin: "qemu", cause: err }));
    };
    const onClose = () => fail(new VirtError5("OPERATION_FAILED", `${owner} at ${path} closed the connection before its greeting (QEMU exited?)`, { origin: "qemu" }));
    const onAbort = () => fail(new VirtError5("OPERATION_ABORTED", `connecting to the ${owner} was aborted`, { origin: "qemu" }));
    const timer = setTimeout(
      () => fail(new VirtError5("OPERATION_TIMEOUT", `${owner} at ${path} sent no greeting within ${timeoutMs} ms`, { origin: "qemu" })),
      timeoutMs
    );
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

// src/process/log.ts
import { open as open2 } from "node:fs/promises";
var TAIL_BYTES = 16 * 1024;
function quoteCommand(argv) {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
}
async function readLogSince(path, offset) {
  let fh;
  try {
    fh = await open2(path, "r");
  } catch {
    return "";
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(offset, size - TAIL_BYTES, 0);
    if (size <= start) return "";
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}
var SHUTDOWN_CAUSES = [
  "none",
  "host-error",
  "host-qmp-quit",
  "host-qmp-system-reset",
  "host-signal",
  "host-ui",
  "guest-shutdown",
  "guest-reset",
  "guest-panic",
  "subsystem-reset",
  "snapshot-load"
];
function parseExitReason(logText) {
  const lines = logText.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  const errors = [];
  let signal;
  let shutdownRequest;
  for (const line of lines) {
    const t = /qemu_system_shutdown_request reason=(\d+)/.exec(line);
    if (t) {
      const cause = SHUTDOWN_CAUSES[Number(t[1])] ?? `cause-${t[1]}`;
      shutdownRequest = { cause, guest: cause.startsWith("guest-") };
      continue;
    }
    const m = /terminating on signal (\d+)(?: from pid (\d+)(?: \(([^)]*)\))?)?/.exec(line);
    if (m) {
      signal = { number: Number(m[1]), fromPid: m[2] ? Number(m[2]) : void 0, fromName: m[3] || void 0 };
      continue;
    }
    if (/^\d{4}-\d\d-\d\d[ T][\d:.]+.*: (starting up|shutting down)/.test(line)) continue;
    if (/^(LC_ALL|PATH|HOME)=/.test(line)) continue;
    const text = line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z? /, "");
    if (/: warning: /.test(text)) continue;
    if (/char device redirected to /.test(text)) continue;
    errors.push(text);
  }
  let summary;
  if (errors.length > 0) summary = errors.slice(-3).join("; ");
  else if (signal) summary = `terminated by signal ${signal.number}${signal.fromPid ? ` from pid ${signal.fromPid}${signal.fromName ? ` (${signal.fromName})` : ""}` : ""}`;
  else summary = "no error in the log";
  return { signal, errors, summary, ...shutdownRequest ? { shutdownRequest } : {} };
}

// src/process/proc.ts
import { readFile as readFile3 } from "node:fs/promises";
async function readProcStat(pid) {
  let text;
  try {
    text = await readFile3(`/proc/${pid}/stat`, "utf8");
  } catch {
    return void 0;
  }
  const close = text.lastIndexOf(")");
  if (close < 0) return void 0;
  const fields = text.slice(close + 2).split(" ");
  return { state: fields[0] ?? "?", ppid: Number(fields[1]), startTime: Number(fields[19]) };
}
async function readProcCmdline(pid) {
  try {
    const raw = await readFile3(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return void 0;
    return raw.replace(/\0$/, "").split("\0");
  } catch {
    return void 0;
  }
}
async function isProcessAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== "EPERM") return false;
  }
  const st = await readProcStat(pid);
  return st !== void 0 && st.state !== "Z" && st.state !== "X";
}
function sendSignal(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if (err.code === "ESRCH") return false;
    throw err;
  }
}

// src/process/qemu-process.ts
var MONITOR_NAME = "monitor.sock";
async function checkQemuIdentity(state) {
  const st = await readProcStat(state.pid);
  if (!st) return `process ${state.pid} does not exist`;
  if (st.state === "Z" || st.state === "X") return `process ${state.pid} has exited`;
  if (state.startTime && st.startTime !== state.startTime) return `pid ${state.pid} now belongs to another process`;
  const argv = await readProcCmdline(state.pid);
  if (!argv || !argv.some((a) => a.includes(state.uuid))) return `pid ${state.pid} is not the QEMU of uuid ${state.uuid}`;
  return void 0;
}
var QemuProcess = class _QemuProcess {
  state;
  /** The QMP connection; undefined once closed. */
  qmp;
  /** Resolves once QEMU has exited, with why. */
  exited;
  child;
  childExit;
  destroying = false;
  lastShutdown;
  resolveExited;
  exitInfo;
  watching = false;
  /** Longest pause between pid checks of a watched, non-child QEMU. */
  maxPollMs = Number.POSITIVE_INFINITY;
  wakePoll;
  constructor(state, child) {
    this.state = state;
    this.child = child;
    this.exited = new Promise((r) => this.resolveExited = r);
    if (child) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.childExit = { code: child.exitCode, signal: child.signalCode };
        queueMicrotask(() => void this.finalize());
      } else child.once("exit", (code, signal) => {
        this.childExit = { code, signal };
        void this.finalize();
      });
    }
  }
  get pid() {
    return this.state.pid;
  }
  get hasExited() {
    return this.exitInfo !== void 0;
  }
  /**
   * Starts QEMU paused (-S) with its monitor on a socket we bind first and
   * pass as fd 3, so the QMP connection is made at once with no polling;
   * then `cont` unless `paused`. Fails with OPERATION_FAILED and QEMU's own
   * error text when it exits during startup.
   */
  static async launch(options) {
    const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY, options.env ?? process.env);
    await mkdir2(options.runDir, { recursive: true, mode: 448 });
    const sockDir = socketDirFor(options.runDir, MONITOR_NAME.length + 16);
    await mkdir2(sockDir, { recursive: true, mode: 448 });
    const monitorPath = join4(sockDir, MONITOR_NAME);
    const pidfilePath = join4(options.runDir, "qemu.pid");
    const logPath = options.logPath ?? join4(options.runDir, "qemu.log");
    const args = [...options.args];
    if (!args.some((a) => a.includes(options.uuid))) args.push("-uuid", options.uuid);
    if (!options.monitorInArgs) {
      args.push("-chardev", "socket,id=charmonitor,fd=3,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control");
    }
    args.push("-pidfile", pidfilePath);
    if (!args.includes("-S")) args.push("-S");
    const server = await listenUnix(`${monitorPath}.${process.pid}.tmp`);
    let logFd;
    let child;
    let monitorIno = 0;
    let logOffset = 0;
    try {
      await rename(`${monitorPath}.${process.pid}.tmp`, monitorPath);
      monitorIno = (await stat2(monitorPath)).ino;
      logFd = openSync(logPath, "a", 384);
      writeSync(logFd, `${(/* @__PURE__ */ new Date()).toISOString()}: starting up
${quoteCommand([binary, ...args])}
`);
      logOffset = fstatSync(logFd).size;
      child = spawn2(binary, args, {
        detached: true,
        // own session: no SIGHUP or ^C from ours, survives our exit
        stdio: ["ignore", logFd, logFd, serverFd(server), ...options.extraFds ?? []],
        env: options.env ?? process.env
      });
    } finally {
      if (logFd !== void 0) closeSync(logFd);
      server.close();
    }
    const spawnError = await Promise.race([once(child, "spawn").then(() => void 0), once(child, "error").then(([e]) => e)]);
    if (spawnError || child.pid === void 0) {
      await unlink(monitorPath).catch(() => {
      });
      throw new VirtError6("OPERATION_FAILED", `domain '${options.name}': cannot start ${binary}: ${spawnError?.message ?? "no pid"}`, {
        origin: "qemu",
        cause: spawnError
      });
    }
    const pid = child.pid;
    const st = await readProcStat(pid);
    const state = {
      name: options.name,
      uuid: options.uuid,
      pid,
      startTime: st?.startTime ?? 0,
      binary,
      monitorPath,
      monitorIno,
      pidfilePath,
      logPath,
      logOffset
    };
    const proc = new _QemuProcess(state, child);
    try {
      await proc.connect(options.timeoutMs ?? 3e4);
      if (!options.paused) await proc.qmp.execute("cont");
      child.unref();
    } catch (err) {
      child.unref();
      const info = await proc.exitedWithin(2e3);
      if (!info) await proc.destroy().catch(() => {
      });
      if (info) {
        throw new VirtError6("OPERATION_FAILED", `domain '${options.name}': QEMU exited while starting: ${info.reason}`, { origin: "qemu", cause: err });
      }
      throw err;
    }
    return proc;
  }
  /**
   * Re-attaches to a QEMU started earlier (maybe by another process) from
   * its saved state, after checking the pid is still that QEMU. Fails with
   * OPERATION_FAILED when it is gone.
   */
  static async attach(state, options = {}) {
    const gone = await checkQemuIdentity(state);
    if (gone) {
      const log = parseExitReason(await readLogSince(state.logPath, state.logOffset));
      throw new VirtError6("OPERATION_FAILED", `domain '${state.name}': QEMU is not running (${gone}); last log: ${log.summary}`, { origin: "qemu" });
    }
    const proc = new _QemuProcess(state, void 0);
    await proc.connect(options.timeoutMs ?? 1e4);
    return proc;
  }
  /** Is the saved QEMU still running? Never mistakes a recycled pid for it. */
  static async isRunning(state) {
    return await checkQemuIdentity(state) === void 0;
  }
  /**
   * Kills QEMU: SIGTERM, then SIGKILL after `graceMs`. Before each signal the
   * pid is checked to still be this QEMU, so a recycled pid is never hit.
   */
  async destroy(options = {}) {
    if (this.exitInfo) return this.exitInfo;
    this.destroying = true;
    this.watchExit();
    if (await checkQemuIdentity(this.state) === void 0) sendSignal(this.state.pid, "SIGTERM");
    else await this.finalize();
    const graceMs = options.graceMs ?? 1e3;
    let info = await this.exitedWithin(graceMs);
    if (!info) {
      if (await checkQemuIdentity(this.state) === void 0) sendSignal(this.state.pid, "SIGKILL");
      info = await this.exitedWithin(5e3);
      if (!info) throw new VirtError6("OPERATION_TIMEOUT", `domain '${this.state.name}': QEMU (pid ${this.state.pid}) did not die after SIGKILL`, { origin: "qemu" });
    }
    return info;
  }
  /** Connects the monitor again after close() (another job of the same process). */
  async connectMonitor(timeoutMs = 1e4) {
    if (this.exitInfo) throw new VirtError6("OPERATION_FAILED", `domain '${this.state.name}': QEMU is not running (${this.exitInfo.reason})`, { origin: "qemu" });
    if (!this.qmp || !this.qmp.isOpen) await this.connect(timeoutMs);
    return this.qmp;
  }
  /** Whether this process is QEMU's parent (its exit is then reported without polling). */
  get isChild() {
    return this.child !== void 0;
  }
  /**
   * A process object for a saved run without connecting its monitor (for
   * watching the pid, or connecting later with connectMonitor()).
   */
  static detached(state) {
    return new _QemuProcess(state, void 0);
  }
  /**
   * Starts noticing the exit of an attached QEMU by checking its pid, at
   * least every `maxDelayMs` (timers do not keep Node alive). A child's exit
   * is reported by its exit event anyway.
   */
  watch(maxDelayMs = 1e3) {
    this.watchExit(maxDelayMs);
  }
  /** Drops the monitor connection; QEMU keeps running. */
  async close() {
    const q = this.qmp;
    this.qmp = void 0;
    await q?.close();
  }
  async connect(timeoutMs) {
    const qmp = await QmpClient.connect(this.state.monitorPath, { domain: this.state.name, timeoutMs });
    this.qmp = qmp;
    qmp.on("SHUTDOWN", (e) => this.lastShutdown = e.data);
    qmp.onClose((info) => {
      if (info.by === "local") return;
      this.watchExit();
    });
  }
  /** Resolves with the exit info if QEMU exits within `ms`, else undefined. */
  async exitedWithin(ms) {
    this.watchExit();
    const ac = new AbortController();
    try {
      return await Promise.race([this.exited, sleep(ms, void 0, { signal: ac.signal })]);
    } finally {
      ac.abort();
    }
  }
  /** Starts noticing the exit: our child's exit event, else polling the pid with a short backoff. */
  watchExit(maxDelayMs = 50) {
    if (this.child || this.exitInfo) return;
    if (maxDelayMs < this.maxPollMs) {
      this.maxPollMs = maxDelayMs;
      this.wakePoll?.();
    }
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      let delay = 1;
      while (!this.exitInfo) {
        if (!await isProcessAlive(this.state.pid) || await checkQemuIdentity(this.state) !== void 0) break;
        const woken = await new Promise((resolve) => {
          const t = setTimeout(() => resolve(false), delay);
          t.unref();
          this.wakePoll = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        this.wakePoll = void 0;
        delay = woken ? 1 : Math.min(delay * 2, this.maxPollMs);
      }
      await this.finalize();
    })();
  }
  async finalize() {
    if (this.exitInfo) return;
    const log = parseExitReason(await readLogSince(this.state.logPath, this.state.logOffset));
    if (this.exitInfo) return;
    const shutdown = this.lastShutdown ?? (log.shutdownRequest ? { guest: log.shutdownRequest.guest, reason: log.shutdownRequest.cause } : void 0);
    let cause;
    if (this.destroying) cause = "destroyed";
    else if (shutdown) cause = "shutdown";
    else cause = "crashed";
    const code = this.childExit?.code ?? null;
    const signal = this.childExit?.signal ?? null;
    let reason;
    if (cause === "destroyed") reason = "destroyed";
    else if (shutdown) reason = `shutdown (${shutdown.reason})`;
    else if (log.errors.length > 0 || log.signal) reason = log.summary;
    else if (signal) reason = `killed by ${signal}`;
    else if (code !== null) reason = `exited with status ${code}`;
    else reason = "QEMU exited (no reason in its log)";
    this.exitInfo = { cause, code, signal, shutdown, log, reason };
    await this.removeMonitorSocket();
    void this.qmp?.close();
    this.resolveExited(this.exitInfo);
  }
  async removeMonitorSocket() {
    try {
      if ((await stat2(this.state.monitorPath)).ino === this.state.monitorIno) await unlink(this.state.monitorPath);
    } catch {
    }
  }
};
function serverFd(server) {
  const fd = server._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new VirtError6("INTERNAL_ERROR", "cannot get the descriptor of the monitor socket", { origin: "qemu" });
  return fd;
}
function listenUnix(path) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err) => reject(new VirtError6("SYSTEM_ERROR", `cannot create the monitor socket ${path}: ${err.message}`, { origin: "qemu", cause: err })));
    server.listen({ path, backlog: 8 }, () => resolve(server));
  });
}

// src/caps/probe.ts
var PROBE_FORMAT = 2;
var memo2 = /* @__PURE__ */ new Map();
async function run(qemu, requests) {
  return Promise.all(
    requests.map(async (r) => {
      const ex = { command: r.command };
      if (r.args) ex.args = r.args;
      try {
        ex.return = await qemu.qmp.execute(r.command, r.args);
      } catch (err) {
        if (!(err instanceof QmpCommandError)) throw err;
        ex.error = { class: err.errorClass, desc: err.desc };
      }
      return ex;
    })
  );
}
async function probeRound(binary, accel, full) {
  const runDir = await mkdtemp(join5(tmpdir(), "virtkit-caps-"));
  let qemu;
  try {
    qemu = await QemuProcess.launch({
      name: "capabilities-probe",
      uuid: randomUUID(),
      binary,
      runDir,
      paused: true,
      args: ["-machine", `none,accel=${accel}`, "-nodefaults", "-no-user-config", "-display", "none"]
    });
    const head = [{ command: "qmp_capabilities", return: {} }];
    if (!full) {
      return [
        ...head,
        ...await run(qemu, [
          { command: "query-cpu-definitions" },
          { command: "query-cpu-model-expansion", args: { type: "static", model: { name: "max" } } },
          { command: "query-cpu-model-expansion", args: { type: "static", model: { name: "max", props: { migratable: false } } } },
          { command: "query-machines" }
        ])
      ];
    }
    const first = await run(qemu, [
      { command: "query-version" },
      { command: "query-target" },
      { command: "query-qmp-schema" },
      { command: "query-commands" },
      { command: "query-kvm" },
      { command: "qom-list-types" }
    ]);
    const types = new Set((first[5].return ?? []).map((t) => t.name));
    const hostModel = accel === "kvm" ? "host" : "max";
    const rest = await run(qemu, [
      ...PROBED_DEVICE_TYPES.filter((t) => types.has(t)).map((t) => ({ command: "device-list-properties", args: { typename: t } })),
      ...PROBED_OBJECT_TYPES.filter((t) => types.has(t)).map((t) => ({ command: "qom-list-properties", args: { typename: t } })),
      { command: "query-machines" },
      { command: "query-cpu-definitions" },
      { command: "query-tpm-models" },
      { command: "query-tpm-types" },
      { command: "query-command-line-options" },
      { command: "query-migrate-capabilities" },
      { command: "query-sev-capabilities" },
      { command: "query-sgx-capabilities" },
      { command: "query-cpu-model-expansion", args: { type: "static", model: { name: hostModel } } },
      { command: "query-cpu-model-expansion", args: { type: "static", model: { name: hostModel, props: { migratable: false } } } }
    ]);
    return [...head, ...first, ...rest];
  } finally {
    await qemu?.destroy().catch(() => {
    });
    await rm(runDir, { recursive: true, force: true });
  }
}
async function probeQemuCaps(options = {}) {
  const binary = await findQemuBinary(options.binary ?? DEFAULT_QEMU_BINARY);
  const id = await binaryIdentity(binary);
  const accels = options.accelerators ?? ((await probeAccelerator({ binary, cacheDir: options.cacheDir || void 0 })).accel === "kvm" ? ["kvm", "tcg"] : ["tcg"]);
  const key = cacheKey(PROBE_FORMAT, id, accels);
  const cacheDir = options.cacheDir === void 0 ? defaultCacheDir() : options.cacheDir;
  const memoKey = `${key}\0${cacheDir}`;
  let p = memo2.get(memoKey);
  if (!p) {
    p = probeCached(binary, key, accels, cacheDir);
    memo2.set(memoKey, p);
    p.catch(() => memo2.delete(memoKey));
  }
  return p;
}
async function probeCached(binary, key, accels, cacheDir) {
  const file = cacheDir ? join5(cacheDir, `caps-${key}.json`) : void 0;
  if (file) {
    try {
      const data2 = JSON.parse(await readFile4(file, "utf8"));
      if (data2.format === 1 && data2.binary === binary) return new QemuCapabilities(data2);
    } catch {
    }
  }
  const exchanges = [];
  for (let i = 0; i < accels.length; i++) exchanges.push(...await probeRound(binary, accels[i], i === 0));
  const data = capsFromExchanges(exchanges, binary);
  if (file) await writeFileAtomic2(file, JSON.stringify(data), 420).catch(() => {
  });
  return new QemuCapabilities(data);
}

// src/defaults/addresses.ts
import { VirtError as VirtError8, deviceInfoOf as deviceInfoOf2, listDevices as listDevices2, maybeAddController } from "@virtkit/core";

// src/defaults/pci-address.ts
import { VirtError as VirtError7, listDevices, deviceInfoOf } from "@virtkit/core";

// src/defaults/machine.ts
function machineOf(def2) {
  return def2.os.machine ?? "";
}
function isX86(arch) {
  return arch === "x86_64" || arch === "i686";
}
function isQ35Machine(machine) {
  return machine === "q35" || machine.startsWith("pc-q35");
}
function isI440FXMachine(machine) {
  return machine === "pc" || machine.startsWith("pc-0.") || machine.startsWith("pc-1.") || machine.startsWith("pc-i440fx-") || machine.startsWith("rhel");
}
function isQ35(def2) {
  return isX86(def2.os.arch) && isQ35Machine(machineOf(def2));
}
function isI440FX(def2) {
  return isX86(def2.os.arch) && isI440FXMachine(machineOf(def2));
}
function isXenFV(def2) {
  return isX86(def2.os.arch) && machineOf(def2) === "xenfv";
}
function isPSeries(def2) {
  return (def2.os.arch === "ppc64" || def2.os.arch === "ppc64le") && machineOf(def2).startsWith("pseries");
}
function isARMVirt(def2) {
  const a = def2.os.arch;
  return (a === "armv6l" || a === "armv7l" || a === "aarch64") && (machineOf(def2) === "virt" || machineOf(def2).startsWith("virt-"));
}
function supportsPCI(def2) {
  if (isX86(def2.os.arch)) return machineOf(def2) !== "isapc" && machineOf(def2) !== "microvm";
  return true;
}
function hasPCIeRoot(def2) {
  return def2.devices.controllers.some((c) => c.type === "pci" && c.index === 0 && c.model === "pcie-root");
}
function hasPCIRoot(def2) {
  return def2.devices.controllers.some((c) => c.type === "pci" && c.index === 0 && c.model === "pci-root");
}

// src/defaults/pci-address.ts
var AUTOASSIGN = 1 << 0;
var HOTPLUGGABLE = 1 << 1;
var AGGREGATE_SLOT = 1 << 2;
var INTEGRATED = 1 << 3;
var PCI_DEVICE = 1 << 4;
var PCIE_DEVICE = 1 << 5;
var PCIE_ROOT_PORT = 1 << 6;
var PCIE_SWITCH_UPSTREAM_PORT = 1 << 7;
var PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8;
var DMI_TO_PCI_BRIDGE = 1 << 9;
var PCI_EXPANDER_BUS = 1 << 10;
var PCIE_EXPANDER_BUS = 1 << 11;
var PCI_BRIDGE = 1 << 12;
var PCIE_TO_PCI_BRIDGE = 1 << 13;
var TYPES_MASK = PCI_DEVICE | PCIE_DEVICE | PCIE_ROOT_PORT | PCIE_SWITCH_UPSTREAM_PORT | PCIE_SWITCH_DOWNSTREAM_PORT | DMI_TO_PCI_BRIDGE | PCI_EXPANDER_BUS | PCIE_EXPANDER_BUS | PCI_BRIDGE | PCIE_TO_PCI_BRIDGE;
var TYPES_ENDPOINT = PCI_DEVICE | PCIE_DEVICE;
var SLOT_LAST = 31;
function xmlError(msg) {
  return new VirtError7("XML_ERROR", msg, { origin: "qemu" });
}
function internal(msg) {
  return new VirtError7("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function newBus() {
  return { flags: 0, minSlot: 0, maxSlot: 0, slots: Array.from({ length: SLOT_LAST + 1 }, () => ({ functions: 0, aggregate: false })) };
}
function pciControllerConnectType(model) {
  switch (model) {
    case "pci-bridge":
      return PCI_BRIDGE;
    case "pci-expander-bus":
      return PCI_EXPANDER_BUS;
    case "pcie-expander-bus":
      return PCIE_EXPANDER_BUS;
    case "dmi-to-pci-bridge":
      return DMI_TO_PCI_BRIDGE;
    case "pcie-to-pci-bridge":
      return PCIE_TO_PCI_BRIDGE;
    case "pcie-root-port":
      return PCIE_ROOT_PORT | AGGREGATE_SLOT;
    case "pcie-switch-upstream-port":
      return PCIE_SWITCH_UPSTREAM_PORT;
    case "pcie-switch-downstream-port":
      return PCIE_SWITCH_DOWNSTREAM_PORT;
    default:
      return 0;
  }
}
function connectTypeToModel(flags) {
  if (flags & PCIE_ROOT_PORT) return "pcie-root-port";
  if (flags & PCIE_SWITCH_UPSTREAM_PORT) return "pcie-switch-upstream-port";
  if (flags & PCIE_SWITCH_DOWNSTREAM_PORT) return "pcie-switch-downstream-port";
  if (flags & DMI_TO_PCI_BRIDGE) return "dmi-to-pci-bridge";
  if (flags & PCI_EXPANDER_BUS) return "pci-expander-bus";
  if (flags & PCIE_EXPANDER_BUS) return "pcie-expander-bus";
  if (flags & PCI_BRIDGE) return "pci-bridge";
  return void 0;
}
function busSetModel(bus, model, allowHotplug) {
  const hp = allowHotplug ? HOTPLUGGABLE : 0;
  switch (model) {
    case "pci-root":
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | PCI_EXPANDER_BUS | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pci-bridge":
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pci-expander-bus":
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pcie-root":
      bus.flags = PCIE_DEVICE | PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE | PCIE_EXPANDER_BUS;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case "dmi-to-pci-bridge":
      bus.flags = PCI_DEVICE | PCI_BRIDGE;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pcie-to-pci-bridge":
      bus.flags = AUTOASSIGN | PCI_DEVICE | PCI_BRIDGE | hp;
      bus.minSlot = 1;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pcie-root-port":
    case "pcie-switch-downstream-port":
      bus.flags = AUTOASSIGN | PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT | PCIE_TO_PCI_BRIDGE | hp;
      bus.minSlot = 0;
      bus.maxSlot = 0;
      break;
    case "pcie-switch-upstream-port":
      bus.flags = PCIE_SWITCH_DOWNSTREAM_PORT;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    case "pcie-expander-bus":
      bus.flags = PCIE_ROOT_PORT | DMI_TO_PCI_BRIDGE;
      bus.minSlot = 0;
      bus.maxSlot = SLOT_LAST;
      break;
    default:
      throw internal("PCI controller model was not set correctly");
  }
  bus.model = model;
}
function pciAddrString(a) {
  const h = (n, w) => n.toString(16).padStart(w, "0");
  return `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${a.function.toString(16)}`;
}
var PciAddressSet = class {
  constructor(nbuses, dryRun) {
    this.dryRun = dryRun;
    this.buses = Array.from({ length: nbuses }, () => newBus());
  }
  dryRun;
  buses;
  isPCIeToPCIBridgeSupported = false;
  areMultipleRootsSupported = false;
  flagsCompatible(addr, busFlags, devFlags, report, fromConfig) {
    const addrStr = pciAddrString(addr);
    if (devFlags & INTEGRATED) {
      if (addr.bus === 0) busFlags |= AUTOASSIGN;
      else {
        if (report) throw (fromConfig ? xmlError : internal)(`The device at PCI address ${addrStr} needs to be an integrated device (bus=0)`);
        return false;
      }
    }
    if (fromConfig) {
      if (busFlags & TYPES_ENDPOINT) busFlags |= TYPES_ENDPOINT;
      if (devFlags & PCI_BRIDGE) devFlags |= PCI_DEVICE;
    } else if (devFlags & AUTOASSIGN && !(busFlags & AUTOASSIGN)) {
      if (report) {
        throw internal(`The device at PCI address ${addrStr} was auto-assigned this address, but the PCI controller with index='${addr.bus}' doesn't allow auto-assignment`);
      }
      return false;
    }
    if (devFlags & HOTPLUGGABLE && !(busFlags & HOTPLUGGABLE)) {
      if (report) {
        throw (fromConfig ? xmlError : internal)(`The device at PCI address ${addrStr} requires hotplug capability, but the PCI controller with index='${addr.bus}' doesn't support hotplug`);
      }
      return false;
    }
    if (!(devFlags & busFlags & TYPES_MASK)) {
      if (!report) return false;
      let what = "device";
      if (devFlags & PCI_DEVICE) what = "standard PCI device";
      else if (devFlags & PCIE_DEVICE) what = "PCI Express device";
      else if (devFlags & PCIE_ROOT_PORT) what = "pcie-root-port";
      else if (devFlags & PCIE_SWITCH_UPSTREAM_PORT) what = "pcie-switch-upstream-port";
      else if (devFlags & PCIE_SWITCH_DOWNSTREAM_PORT) what = "pcie-switch-downstream-port";
      else if (devFlags & DMI_TO_PCI_BRIDGE) what = "dmi-to-pci-bridge";
      else if (devFlags & PCIE_TO_PCI_BRIDGE) what = "pcie-to-pci-bridge";
      else if (devFlags & PCI_EXPANDER_BUS) what = "pci-expander-bus";
      else if (devFlags & PCIE_EXPANDER_BUS) what = "pcie-expander-bus";
      else if (devFlags & PCI_BRIDGE) what = "pci-bridge";
      throw (fromConfig ? xmlError : internal)(
        `The device at PCI address ${addrStr} cannot be plugged into the PCI controller with index='${addr.bus}'. It requires a controller that accepts a ${what}.`
      );
    }
    return true;
  }
  /** virDomainPCIAddressValidate (throws). */
  validate(addr, flags, fromConfig) {
    const err = fromConfig ? xmlError : internal;
    const s = pciAddrString(addr);
    if (this.buses.length === 0) throw err("No PCI buses available");
    if (addr.domain !== 0) throw err(`Invalid PCI address ${s}. Only PCI domain 0 is available`);
    if (addr.bus >= this.buses.length) throw err(`Invalid PCI address ${s}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[addr.bus];
    this.flagsCompatible(addr, bus.flags, flags, true, fromConfig);
    if (bus.minSlot && addr.slot < bus.minSlot) throw err(`Invalid PCI address ${s}. slot must be >= ${bus.minSlot}`);
    if (addr.slot > bus.maxSlot) throw err(`Invalid PCI address ${s}. slot must be <= ${bus.maxSlot}`);
    if (addr.function > 7) throw err(`Invalid PCI address ${s}. function must be <= 7`);
  }
  /** virDomainPCIAddressSetGrow: returns the number of buses added. */
  grow(addr, flags) {
    let add = addr.bus - this.buses.length + 1;
    if (add <= 0) return 0;
    let model;
    let needDMI = false;
    let needPCIeToPCI = false;
    if (flags & PCI_DEVICE) {
      if (this.areMultipleRootsSupported) model = "pci-root";
      else {
        model = "pci-bridge";
        needDMI = true;
        needPCIeToPCI = true;
        if (this.buses.some((b) => b.flags & PCI_BRIDGE)) {
          needDMI = false;
          needPCIeToPCI = false;
        }
        if (this.isPCIeToPCIBridgeSupported) needDMI = false;
        else needPCIeToPCI = false;
        if ((needDMI || needPCIeToPCI) && add === 1) {
          add++;
          addr.bus++;
        }
      }
    } else if (flags & (PCIE_DEVICE | PCIE_SWITCH_UPSTREAM_PORT)) {
      model = "pcie-root-port";
    } else {
      const existing = connectTypeToModel(flags);
      if (existing) throw internal(`a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
      throw internal(`Cannot automatically add a new PCI bus for a device with connect flags ${flags.toString(16)}`);
    }
    let i = this.buses.length;
    for (let k = 0; k < add; k++) this.buses.push(newBus());
    if (needDMI) busSetModel(this.buses[i++], "dmi-to-pci-bridge", false);
    if (needPCIeToPCI) {
      busSetModel(this.buses[i], "pcie-root-port", true);
      this.buses[i].flags = PCIE_TO_PCI_BRIDGE;
      i++;
      busSetModel(this.buses[i++], "pcie-to-pci-bridge", true);
    }
    for (; i < this.buses.length; i++) busSetModel(this.buses[i], model, true);
    return add;
  }
  slotInUse(addr) {
    return this.buses[addr.bus].slots[addr.slot].functions !== 0;
  }
  /** virDomainPCIAddressReserveAddrInternal. */
  reserveAddr(addr, flags, fromConfig) {
    if (this.dryRun) this.grow(addr, flags);
    this.validate(addr, flags, fromConfig);
    const bus = this.buses[addr.bus];
    const slot = bus.slots[addr.slot];
    if (slot.functions & 1 << addr.function) {
      throw (fromConfig ? xmlError : internal)(`Attempted double use of PCI Address ${pciAddrString(addr)}`);
    }
    if (!slot.functions && flags & AGGREGATE_SLOT) slot.aggregate = true;
    slot.functions |= 1 << addr.function;
  }
  busIsFullyReserved(bus) {
    for (let i = bus.minSlot; i <= bus.maxSlot; i++) if (!bus.slots[i].functions) return false;
    return true;
  }
  findUnusedFunctionOnBus(bus, a, fn, flags) {
    if (!this.flagsCompatible(a, bus.flags, flags, false, false)) return false;
    while (a.slot <= bus.maxSlot) {
      const slot = bus.slots[a.slot];
      if (slot.functions === 0) return true;
      if (flags & AGGREGATE_SLOT && slot.aggregate) {
        if ((slot.functions & 1 << a.function) === 0) return true;
        if (fn === -1) {
          while (a.function < 8) {
            if ((slot.functions & 1 << a.function) === 0) return true;
            a.function++;
          }
          a.function = 0;
        }
      }
      a.slot++;
    }
    return false;
  }
  /** virDomainPCIAddressGetNextAddr (isolation groups are not modelled: all devices share group 0). */
  nextAddr(flags, fn) {
    if (this.buses.length === 0) throw xmlError("No PCI buses available");
    const a = { domain: 0, bus: 0, slot: 0, function: fn === -1 ? 0 : fn };
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus];
      a.slot = bus.minSlot;
      if (this.findUnusedFunctionOnBus(bus, a, fn, flags)) return a;
    }
    if (this.dryRun) {
      this.grow(a, flags);
      a.slot = this.buses[a.bus].minSlot;
      return a;
    }
    throw internal("No more available PCI slots");
  }
  /** virDomainPCIAddressReserveNextAddr: sets info.address unless this is the dry run. */
  reserveNextAddr(info, flags, fn = -1) {
    const addr = this.nextAddr(flags, fn);
    this.reserveAddr(addr, flags, false);
    if (!this.dryRun) {
      const a = { type: "pci", domain: addr.domain, bus: addr.bus, slot: addr.slot, function: addr.function };
      const old = info.address;
      if (old?.type === "pci" && old.zpci) a.zpci = old.zpci;
      info.address = a;
    }
    return addr;
  }
};
function isPresent(info) {
  const a = info?.address;
  return a?.type === "pci" && (a.domain !== 0 || a.bus !== 0 || a.slot !== 0 || a.function !== 0);
}
function isWanted(info) {
  const a = info?.address;
  return !a || a.type === "pci" && a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0;
}
var KNOWN_NET_MODELS = /* @__PURE__ */ new Set([
  "virtio",
  "virtio-transitional",
  "virtio-non-transitional",
  "e1000",
  "e1000e",
  "igb",
  "rtl8139",
  "netfront",
  "usb-net",
  "spapr-vlan",
  "lan9118",
  "smc91c111",
  "vlance",
  "vmxnet",
  "vmxnet2",
  "vmxnet3",
  "Am79C970A",
  "Am79C973",
  "82540EM",
  "82545EM",
  "82543GC"
]);
function deviceConnectFlags(dev, pcieFlags, virtioFlags) {
  const pciFlags = PCI_DEVICE | AUTOASSIGN;
  const virtioModel = (m) => {
    if (m === "virtio-transitional") return pciFlags;
    return virtioFlags;
  };
  switch (dev.kind) {
    case "controller": {
      const c = dev.def;
      switch (c.type) {
        case "pci":
          return pciControllerConnectType(c.model);
        case "sata":
          return pciFlags;
        case "usb":
          switch (c.model) {
            case void 0:
              return pciFlags;
            case "nec-xhci":
            case "qemu-xhci":
              return pcieFlags;
            case "qusb1":
            case "qusb2":
            case "none":
              return 0;
            default:
              return pciFlags;
          }
        case "ide":
          return pciFlags;
        case "scsi":
          switch (c.model) {
            case void 0:
            case "ncr53c90":
              return 0;
            case "virtio-scsi":
            case "virtio-non-transitional":
              return virtioFlags;
            default:
              return pciFlags;
          }
        case "virtio-serial":
          return c.model === "virtio-transitional" ? pciFlags : virtioFlags;
        default:
          return 0;
      }
    }
    case "filesystem": {
      const fs = dev.def;
      const drv = fs.driver?.type;
      if (drv === void 0 || drv === "path" || drv === "handle") return virtioModel(fs.model);
      if (drv === "virtiofs") return virtioFlags;
      return 0;
    }
    case "interface": {
      const net = dev.def;
      if (net.type === "hostdev" || net.model === "usb-net") return 0;
      if (net.model === "virtio" || net.model === "virtio-non-transitional") return virtioFlags;
      if (net.model === "virtio-transitional") return pciFlags;
      if (net.model === "e1000e" || net.model === "igb") return pcieFlags;
      if (!net.model || !KNOWN_NET_MODELS.has(net.model)) return pcieFlags;
      return pciFlags;
    }
    case "sound":
      return ["es1370", "ac97", "ich6", "ich9"].includes(dev.def.model) ? pciFlags : 0;
    case "disk":
      if (dev.def.bus !== "virtio") return 0;
      return virtioModel(dev.def.model);
    case "hostdev": {
      const h = dev.def;
      const isMdev = h.mode === "subsystem" && h.type === "mdev";
      if (!isMdev && (h.mode !== "subsystem" || h.type !== "pci" && h.type !== "scsi_host")) return 0;
      if (pciFlags === pcieFlags) return pciFlags;
      if (isPresent(h.info)) return pcieFlags;
      if (isMdev) return pcieFlags;
      if (h.type === "scsi_host") return virtioModel(h.scsiHostModel);
      return pcieFlags;
    }
    case "memballoon":
      switch (dev.def.model) {
        case "virtio-transitional":
          return pciFlags;
        case "virtio":
        case "virtio-non-transitional":
          return virtioFlags;
        default:
          return 0;
      }
    case "rng":
      return virtioModel(dev.def.model);
    case "watchdog":
      return dev.def.model === "i6300esb" ? pciFlags : 0;
    case "video":
      switch (dev.def.type) {
        case "virtio":
          return virtioFlags;
        case "vga":
        case "cirrus":
        case "vmvga":
        case "xen":
        case "vbox":
        case "qxl":
        case "parallels":
          return pciFlags;
        case "bochs":
          return pcieFlags;
        default:
          return 0;
      }
    case "shmem":
      return pciFlags;
    case "input":
      if (dev.def.bus !== "virtio") return 0;
      return virtioModel(dev.def.model);
    case "chr":
      return dev.def.deviceType === "serial" && dev.def.targetType === "pci-serial" ? pciFlags : 0;
    case "iommu":
      return dev.def.model === "virtio" ? virtioFlags | INTEGRATED : 0;
    case "vsock":
      return dev.def.model ? virtioModel(dev.def.model) : 0;
    case "memory":
      return dev.def.model === "virtio-pmem" || dev.def.model === "virtio-mem" ? virtioFlags : 0;
    case "crypto":
      return pciFlags;
    case "panic":
      return dev.def.model === "pvpanic" ? pciFlags | INTEGRATED : 0;
    default:
      return 0;
  }
}
function flagsData(def2, caps2) {
  const pcieFlags = hasPCIeRoot(def2) ? PCIE_DEVICE | AUTOASSIGN : PCI_DEVICE | AUTOASSIGN;
  const virtioFlags = caps2.has("virtio-pci-non-transitional") ? pcieFlags : PCI_DEVICE | AUTOASSIGN;
  return { pcieFlags, virtioFlags };
}
function devicesWithInfo(def2) {
  const out2 = [];
  for (const dev of listDevices(def2.devices)) {
    if (dev.kind === "graphics" || dev.kind === "audio" || dev.kind === "lease") continue;
    const info = deviceInfoOf(dev);
    if (info) out2.push({ dev, info });
  }
  return out2;
}
var PciAssigner = class {
  constructor(def2, caps2) {
    this.def = def2;
    this.caps = caps2;
  }
  def;
  caps;
  flags = /* @__PURE__ */ new Map();
  fillAllFlags() {
    const data = flagsData(this.def, this.caps);
    for (const { dev, info } of devicesWithInfo(this.def)) this.flags.set(info, deviceConnectFlags(dev, data.pcieFlags, data.virtioFlags));
  }
  fillDeviceFlags(dev) {
    const info = deviceInfoOf(dev);
    if (!info) return;
    const data = flagsData(this.def, this.caps);
    this.flags.set(info, deviceConnectFlags(dev, data.pcieFlags, data.virtioFlags));
  }
  flagsOf(info) {
    return this.flags.get(info) ?? 0;
  }
  reserveNext(addrs, info) {
    addrs.reserveNextAddr(info, this.flagsOf(info), -1);
  }
  createSet(nbuses, dryRun) {
    const def2 = this.def;
    const addrs = new PciAddressSet(nbuses, dryRun);
    if (isPSeries(def2)) addrs.areMultipleRootsSupported = true;
    if (this.caps.has("pcie-pci-bridge")) addrs.isPCIeToPCIBridgeSupported = true;
    let pcieRoot = false;
    for (const c of def2.devices.controllers) {
      if (c.type !== "pci") continue;
      if (c.index >= addrs.buses.length) throw internal(`Inappropriate new pci controller index ${c.index} exceeds addrs array length`);
      busSetModel(addrs.buses[c.index], c.model ?? "pci-root", c.pci?.hotplug !== false);
      if (c.model === "pcie-root") pcieRoot = true;
    }
    if (nbuses > 0 && !addrs.buses[0].model) busSetModel(addrs.buses[0], "pci-root", true);
    const defaultModel = isPSeries(def2) ? "pci-root" : pcieRoot ? "pcie-root-port" : "pci-bridge";
    for (let i = 1; i < addrs.buses.length; i++) if (!addrs.buses[i].model) busSetModel(addrs.buses[i], defaultModel, true);
    for (const { dev, info } of devicesWithInfo(def2)) {
      if (!isPresent(info)) continue;
      const addr = info.address;
      if (!this.flagsOf(info)) this.flags.set(info, PCI_DEVICE);
      if (dev.kind === "controller" && addr.domain === 0 && addr.bus === 0 && addr.slot === 1) {
        const c = dev.def;
        if (c.type === "ide" && c.index === 0 && addr.function === 1 || c.type === "usb" && c.index === 0 && (c.model === "piix3-uhci" || c.model === void 0) && addr.function === 2) {
          if (addrs.buses.length > 0 && !(addrs.buses[0].flags & PCI_DEVICE)) throw internal("Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers");
          continue;
        }
      }
      addrs.reserveAddr(addr, this.flagsOf(info), true);
    }
    return addrs;
  }
  validateSlotsPIIX3(addrs) {
    const def2 = this.def;
    const flags = AUTOASSIGN | PCI_DEVICE;
    for (const c of def2.devices.controllers) {
      let want;
      if (c.type === "ide" && c.index === 0) {
        want = { domain: 0, bus: 0, slot: 1, function: 1 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal("Primary IDE controller must have PCI address 0:0:1.1");
        } else c.info.address = { type: "pci", ...want };
      } else if (c.type === "usb" && c.index === 0 && (c.model === "piix3-uhci" || c.model === void 0)) {
        want = { domain: 0, bus: 0, slot: 1, function: 2 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal("PIIX3 USB controller at index 0 must have PCI address 0:0:1.2");
        } else c.info.address = { type: "pci", ...want };
      } else continue;
      if (addrs.buses.length) addrs.reserveAddr(c.info.address, flags, true);
    }
    if (addrs.buses.length) {
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 1, function: 0 }, flags, true);
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 1, function: 3 }, flags, true);
    }
    this.primaryVideoSlot(addrs, 2, flags);
  }
  primaryVideoSlot(addrs, slot, flags) {
    const v = this.def.devices.videos[0];
    if (!v || v.type === "none" || v.type === "ramfb") return;
    if (!isWanted(v.info)) return;
    const tmp = { domain: 0, bus: 0, slot, function: 0 };
    addrs.validate(tmp, flags, true);
    if (addrs.slotInUse(tmp)) this.reserveNext(addrs, v.info);
    else {
      addrs.reserveAddr(tmp, flags, true);
      v.info.address = { type: "pci", domain: 0, bus: 0, slot, function: 0 };
    }
  }
  validateSlotsQ35(addrs) {
    const def2 = this.def;
    const flags = PCIE_DEVICE;
    for (const c of def2.devices.controllers) {
      if (c.type === "sata") {
        if (c.index !== 0) continue;
        const want = { domain: 0, bus: 0, slot: 31, function: 2 };
        if (isPresent(c.info)) {
          if (!sameAddr(c.info.address, want)) throw internal("Primary SATA controller must have PCI address 0:0:1f.2");
        } else c.info.address = { type: "pci", ...want };
      } else if (c.type === "usb") {
        if (c.model === "ich9-uhci1" && !c.info.address) {
          let slot;
          if (!addrs.slotInUse({ domain: 0, bus: 0, slot: 29, function: 0 })) slot = 29;
          else if (!addrs.slotInUse({ domain: 0, bus: 0, slot: 26, function: 0 })) slot = 26;
          if (slot !== void 0) {
            addrs.reserveAddr({ domain: 0, bus: 0, slot, function: 0 }, flags, true);
            c.info.address = { type: "pci", domain: 0, bus: 0, slot, function: 0, multifunction: true };
          }
        }
      } else if (c.type === "pci") {
        if (c.model === "dmi-to-pci-bridge" && !c.info.address) {
          const tmp2 = { domain: 0, bus: 0, slot: 30, function: 0 };
          if (!addrs.slotInUse(tmp2)) {
            addrs.reserveAddr(tmp2, flags, true);
            c.info.address = { type: "pci", ...tmp2 };
          }
        }
      }
    }
    if (addrs.buses.length) {
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 31, function: 0 }, flags, true);
      addrs.reserveAddr({ domain: 0, bus: 0, slot: 31, function: 3 }, flags, true);
    }
    this.primaryVideoSlot(addrs, 1, flags);
    const tmp = { domain: 0, bus: 0, slot: 27, function: 0 };
    if (!addrs.slotInUse(tmp)) {
      for (const s of def2.devices.sounds) {
        if (s.model !== "ich9" || !isWanted(s.info)) continue;
        addrs.reserveAddr(tmp, flags, true);
        s.info.address = { type: "pci", ...tmp };
        break;
      }
    }
  }
  validateSlotsChipsets(addrs) {
    if (isI440FX(this.def)) this.validateSlotsPIIX3(addrs);
    if (isQ35(this.def)) this.validateSlotsQ35(addrs);
  }
  /** qemuDomainAssignDevicePCISlots. */
  assignDeviceSlots(addrs) {
    const d = this.def.devices;
    const next = (info) => this.reserveNext(addrs, info);
    for (const c of d.controllers) {
      if (c.type !== "pci") continue;
      if (c.model === "pci-root" || c.model === "pcie-root" || !isWanted(c.info)) continue;
      next(c.info);
    }
    for (const fs of d.filesystems) if (isWanted(fs.info) && this.flagsOf(fs.info)) next(fs.info);
    for (const net of d.interfaces) {
      if (net.type === "hostdev" || !isWanted(net.info)) continue;
      if (!this.flagsOf(net.info)) continue;
      next(net.info);
    }
    for (const s of d.sounds) {
      if (!isWanted(s.info)) continue;
      if (s.model === "sb16" || s.model === "pcspk" || s.model === "usb" || s.model === "ich7") continue;
      next(s.info);
    }
    for (const c of d.controllers) {
      if (c.type === "pci") continue;
      if (c.type === "usb" && c.model === "none") continue;
      if (c.type === "fdc" || c.type === "ccid") continue;
      if (c.type === "ide" && c.index === 0) continue;
      if (c.type === "scsi" && c.model === "ncr53c90") continue;
      if (!isWanted(c.info)) continue;
      if (!this.flagsOf(c.info)) continue;
      if (isUsb2(c)) {
        let addr = { domain: 0, bus: 0, slot: 0, function: 0 };
        let found = false;
        for (const o of d.controllers) {
          if (isUsb2(o) && o.index === c.index && isPresent(o.info)) {
            const a = o.info.address;
            addr = { domain: a.domain, bus: a.bus, slot: a.slot, function: a.function };
            found = true;
            break;
          }
        }
        let multi;
        switch (c.model) {
          case "ich9-ehci1":
            addr.function = 7;
            break;
          case "ich9-uhci1":
            addr.function = 0;
            multi = true;
            break;
          case "ich9-uhci2":
            addr.function = 1;
            break;
          case "ich9-uhci3":
            addr.function = 2;
            break;
        }
        if (found) {
          addrs.reserveAddr(addr, this.flagsOf(c.info), true);
          c.info.address = { type: "pci", domain: addr.domain, bus: addr.bus, slot: addr.slot, function: addr.function };
          if (multi !== void 0) c.info.address.multifunction = multi;
        } else {
          addrs.reserveNextAddr(c.info, this.flagsOf(c.info), addr.function);
          const a = c.info.address;
          if (a?.type === "pci") {
            if (multi !== void 0) a.multifunction = multi;
            else delete a.multifunction;
          }
        }
      } else next(c.info);
    }
    for (const disk of d.disks) {
      if (disk.bus !== "virtio") continue;
      if (isPresent(disk.info) || disk.info.address?.type === "ccw") continue;
      if (disk.info.address?.type === "virtio-mmio" && this.caps.has("virtio-mmio")) continue;
      if (!isWanted(disk.info)) {
        throw new VirtError7("CONFIG_UNSUPPORTED", `virtio disk cannot have an address of type '${disk.info.address?.type}'`, { origin: "qemu" });
      }
      next(disk.info);
    }
    for (const h of d.hostdevs) {
      if (!isWanted(h.info) || h.mode !== "subsystem") continue;
      if (h.type !== "pci" && h.type !== "scsi_host" && !(h.type === "mdev" && h.mdevModel === "vfio-pci")) continue;
      if (h.info.address?.type === "unassigned") continue;
      next(h.info);
    }
    if (d.memballoon && d.memballoon.model !== "none" && isWanted(d.memballoon.info)) next(d.memballoon.info);
    for (const r of d.rngs) if (isWanted(r.info)) next(r.info);
    for (const w of d.watchdogs) if (w.model === "i6300esb" && isWanted(w.info)) next(w.info);
    for (const v of d.videos) {
      if (v.type === "none" || v.type === "ramfb") continue;
      if (!isWanted(v.info)) continue;
      if (!this.flagsOf(v.info)) continue;
      next(v.info);
    }
    for (const s of d.shmems) if (isWanted(s.info)) next(s.info);
    for (const i of d.inputs) if (i.bus === "virtio" && isWanted(i.info)) next(i.info);
    for (const s of d.serials) if (s.targetType === "pci-serial" && isWanted(s.info)) next(s.info);
    if (d.iommu?.model === "virtio" && isWanted(d.iommu.info)) next(d.iommu.info);
    if (d.vsock && isWanted(d.vsock.info)) next(d.vsock.info);
    for (const m of d.memories) if ((m.model === "virtio-pmem" || m.model === "virtio-mem") && isWanted(m.info)) next(m.info);
    for (const c of d.cryptos) if (isWanted(c.info)) next(c.info);
    for (const p of d.panics) if (p.model === "pvpanic" && isWanted(p.info)) next(p.info);
  }
  /** virDomainPCIAddressSetAllMulti. */
  setAllMulti() {
    const infos = devicesWithInfo(this.def).map((x) => x.info);
    for (const info of infos) {
      const t = info.address;
      if (t?.type !== "pci" || t.function === 0) continue;
      for (const o of infos) {
        const a = o.address;
        if (a?.type === "pci" && a.domain === t.domain && a.bus === t.bus && a.slot === t.slot && a.function === 0) {
          if (a.multifunction === void 0) a.multifunction = true;
          break;
        }
      }
    }
  }
};
function sameAddr(a, b) {
  const p = a;
  return p.domain === b.domain && p.bus === b.bus && p.slot === b.slot && p.function === b.function;
}
function isUsb2(c) {
  return c.type === "usb" && ["ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3"].includes(c.model ?? "");
}
function findNewBusNr(def2) {
  let lowest = 256;
  for (const c of def2.devices.controllers) {
    if (c.type !== "pci") continue;
    const n = c.pci?.busNr;
    if (n !== void 0 && n >= 0 && n < lowest) lowest = n;
  }
  if (lowest <= 2) return -1;
  return lowest - 2;
}
function setDefaultModelName(c, def2, caps2) {
  if (c.pci?.modelName) return;
  let name;
  switch (c.model) {
    case "pci-bridge":
      name = "pci-bridge";
      break;
    case "dmi-to-pci-bridge":
      name = "i82801b11-bridge";
      break;
    case "pcie-to-pci-bridge":
      name = "pcie-pci-bridge";
      break;
    case "pcie-root-port":
      name = caps2.has("pcie-root-port") ? "pcie-root-port" : "ioh3420";
      break;
    case "pcie-switch-upstream-port":
      name = "x3130-upstream";
      break;
    case "pcie-switch-downstream-port":
      name = "xio3130-downstream";
      break;
    case "pci-expander-bus":
      name = "pxb";
      break;
    case "pcie-expander-bus":
      name = "pxb-pcie";
      break;
    case "pci-root":
      if (isPSeries(def2)) name = "spapr-pci-host-bridge";
      break;
    default:
      break;
  }
  if (name) (c.pci ??= {}).modelName = name;
}
function assignPciAddresses(def2, caps2) {
  const as = new PciAssigner(def2, caps2);
  let maxIdx = -1;
  for (const c of def2.devices.controllers) if (c.type === "pci" && c.index > maxIdx) maxIdx = c.index;
  let nbuses = maxIdx + 1;
  as.fillAllFlags();
  if (nbuses > 0) {
    const addrs2 = as.createSet(nbuses, true);
    as.validateSlotsChipsets(addrs2);
    if (hasPCIRoot(def2)) {
      const dummy = {};
      as.flags.set(dummy, AUTOASSIGN | PCI_DEVICE);
      if (!addrs2.buses.every((b) => addrs2.busIsFullyReserved(b))) as.reserveNext(addrs2, dummy);
    }
    as.assignDeviceSlots(addrs2);
    if (maxIdx <= 0 && addrs2.buses.length > maxIdx + 1 && hasPCIeRoot(def2)) {
      const dummy = {};
      as.flags.set(dummy, AUTOASSIGN | PCIE_DEVICE);
      as.reserveNext(addrs2, dummy);
    }
    for (let i = 1; i < addrs2.buses.length; i++) {
      const bus = addrs2.buses[i];
      if (def2.devices.controllers.some((c) => c.type === "pci" && c.index === i)) continue;
      const cont = { type: "pci", index: i, model: bus.model, info: {} };
      def2.devices.controllers.push(cont);
      as.fillDeviceFlags({ kind: "controller", def: cont });
      if (bus.model !== "pci-root" && bus.model !== "pcie-root") as.reserveNext(addrs2, cont.info);
    }
    nbuses = addrs2.buses.length;
  }
  const addrs = as.createSet(nbuses, false);
  if (!supportsPCI(def2)) return;
  as.validateSlotsChipsets(addrs);
  as.assignDeviceSlots(addrs);
  as.setAllMulti();
  for (const c of def2.devices.controllers) {
    if (c.type !== "pci") continue;
    setDefaultModelName(c, def2, caps2);
    const a = c.info.address?.type === "pci" ? c.info.address : void 0;
    const o = c.pci ??= {};
    switch (c.model) {
      case "pci-bridge":
        if (o.chassisNr === void 0) o.chassisNr = c.index;
        break;
      case "pcie-root-port":
        if (o.chassis === void 0) o.chassis = c.index;
        if (o.port === void 0 && a) o.port = (a.slot << 3) + a.function;
        break;
      case "pcie-switch-downstream-port":
        if (o.chassis === void 0) o.chassis = c.index;
        if (o.port === void 0 && a) o.port = a.slot;
        break;
      case "pci-expander-bus":
      case "pcie-expander-bus":
        if (o.busNr === void 0) {
          const n = findNewBusNr(def2);
          if (n === -1) {
            throw new VirtError7("CONFIG_UNSUPPORTED", `No free busNr lower than current lowest busNr is available to auto-assign to bus ${a?.bus ?? 0}. Must be manually assigned`, { origin: "qemu" });
          }
          o.busNr = n;
        }
        break;
      default:
        break;
    }
    if (Object.keys(o).length === 0) delete c.pci;
    if (c.model === "pci-bridge" && a && c.index <= a.bus) {
      const h = (n) => n.toString(16).padStart(2, "0");
      throw new VirtError7("CONFIG_UNSUPPORTED", `PCI controller at index ${c.index} (0x${h(c.index)}) has bus='0x${h(a.bus)}', but index must be larger than bus`, { origin: "qemu" });
    }
  }
}

// src/defaults/addresses.ts
function xmlError2(msg) {
  return new VirtError8("XML_ERROR", msg, { origin: "qemu" });
}
var DEFAULT_VIRTIO_SERIAL_PORTS = 31;
var VirtioSerialAddrSet = class {
  controllers = [];
  addController(idx, ports) {
    const n = ports === void 0 ? DEFAULT_VIRTIO_SERIAL_PORTS : ports;
    const c = { idx, ports: new Array(n).fill(false) };
    const at = this.controllers.findIndex((x) => x.idx > idx);
    if (at < 0) this.controllers.push(c);
    else this.controllers.splice(at, 0, c);
  }
  reserve(controller, port) {
    const c = this.controllers.find((x) => x.idx === controller);
    if (!c) throw xmlError2(`virtio serial controller ${controller} is missing`);
    if (port >= c.ports.length) throw xmlError2(`virtio serial controller ${controller} does not have port ${port}`);
    if (c.ports[port]) throw xmlError2(`virtio serial port ${port} on controller ${controller} is already occupied`);
    c.ports[port] = true;
  }
};
function nextClear(map, after) {
  for (let i = after + 1; i < map.length; i++) if (!map[i]) return i;
  return -1;
}
function assignVirtioSerialAddresses(def2) {
  const addrs = new VirtioSerialAddrSet();
  for (const c of def2.devices.controllers) if (c.type === "virtio-serial") addrs.addController(c.index, c.ports);
  const all = [...def2.devices.serials, ...def2.devices.parallels, ...def2.devices.channels, ...def2.devices.consoles];
  for (const chr of all) {
    const a = chr.info.address;
    if (a?.type === "virtio-serial" && a.port !== 0) addrs.reserve(a.controller, a.port);
  }
  const assign = (info, allowZero) => {
    const a = info.address;
    if (a?.type === "virtio-serial" && a.port !== 0) return;
    const startPort = allowZero ? -1 : 0;
    let controller = 0;
    let port = -1;
    if (a?.type === "virtio-serial") {
      const c = addrs.controllers.find((x) => x.idx === a.controller);
      if (!c) throw new VirtError8("INTERNAL_ERROR", `virtio-serial controller ${a.controller} not available`, { origin: "qemu" });
      port = nextClear(c.ports, 0);
      if (port <= 0) throw xmlError2(`Unable to find a free port on virtio-serial controller ${a.controller}`);
      controller = a.controller;
    } else {
      if (addrs.controllers.length === 0) throw new VirtError8("INTERNAL_ERROR", "no virtio-serial controllers are available", { origin: "qemu" });
      for (const c of addrs.controllers) {
        const p = nextClear(c.ports, startPort);
        if (p >= 0) {
          controller = c.idx;
          port = p;
          break;
        }
      }
      if (port < 0) {
        for (let i = 0; ; i++) {
          if (!def2.devices.controllers.some((c) => c.type === "virtio-serial" && c.index === i)) {
            const c = maybeAddController(def2, "virtio-serial", i);
            addrs.addController(i, c?.ports);
            controller = i;
            port = startPort + 1;
            break;
          }
        }
      }
    }
    addrs.reserve(controller, port);
    if (!allowZero) info.address = { type: "virtio-serial", controller, bus: 0, port };
  };
  for (const chr of def2.devices.consoles) if (chr.targetType === "virtio") assign(chr.info, true);
  for (const chr of def2.devices.channels) if (chr.targetType === "virtio") assign(chr.info, false);
}
var USB_HUB_PORTS = 8;
function newHub(n) {
  return { portmap: new Array(n).fill(false), ports: new Array(n).fill(void 0) };
}
function usbControllerPorts(model, ports) {
  switch (model) {
    case void 0:
    case "piix3-uhci":
    case "piix4-uhci":
    case "vt82c686b-uhci":
      return 2;
    case "ehci":
    case "ich9-ehci1":
      return 6;
    case "ich9-uhci1":
    case "ich9-uhci2":
    case "ich9-uhci3":
      return 0;
    case "pci-ohci":
      return 3;
    case "nec-xhci":
    case "qemu-xhci":
      return ports ?? 4;
    case "qusb1":
    case "qusb2":
      return ports ?? 8;
    default:
      return 0;
  }
}
function portPath(a) {
  return a.port ? a.port.split(".").map(Number) : [];
}
function usbDeviceInfos(def2, skipHubs) {
  const d = def2.devices;
  const out2 = [];
  if (!skipHubs) {
    for (const h of d.hubs) if (h.type === "usb") out2.push(h.info);
  }
  for (const h of d.hostdevs) if (h.mode === "subsystem" && h.type === "usb") out2.push(h.info);
  for (const disk of d.disks) if (disk.bus === "usb") out2.push(disk.info);
  for (const c of d.controllers) if (c.type === "ccid") out2.push(c.info);
  for (const i of d.inputs) if (i.bus === "usb") out2.push(i.info);
  for (const s of d.serials) if (s.targetType === "usb-serial") out2.push(s.info);
  for (const s of d.sounds) if (s.model === "usb") out2.push(s.info);
  for (const r of d.redirdevs) if (r.bus === "usb") out2.push(r.info);
  return out2;
}
var UsbAddressSet = class {
  buses = [];
  addControllers(def2) {
    for (const c of def2.devices.controllers) {
      if (c.type !== "usb") continue;
      const n = usbControllerPorts(c.model, c.ports);
      if (n === 0) continue;
      if (this.buses[c.index]) throw xmlError2(`Duplicate USB controllers with index ${c.index}`);
      this.buses[c.index] = newHub(n);
    }
    for (const hub of def2.devices.hubs) {
      const a = hub.info.address;
      if (hub.type === "usb" && a?.type === "usb" && a.port) this.addHub(hub);
    }
  }
  findPort(a) {
    const portStr = a.port ?? "";
    let hub = this.buses[a.bus];
    if (!hub) throw xmlError2(`Missing USB bus ${a.bus}`);
    const path = portPath(a);
    for (let i = 0; i < path.length - 1; i++) {
      const idx = path[i] - 1;
      if (hub.ports.length <= idx) throw xmlError2(`port ${path[i]} out of range in USB address bus: ${a.bus} port: ${portStr}`);
      const next = hub.ports[idx];
      if (!next) throw xmlError2(`there is no hub at port ${path[i]} in USB address bus: ${a.bus} port: ${portStr}`);
      hub = next;
    }
    const target = path[path.length - 1] - 1;
    if (target >= hub.portmap.length) throw xmlError2(`requested USB port ${portStr} not present on USB bus ${a.bus}`);
    return { hub, idx: target };
  }
  addHub(hub) {
    const a = hub.info.address;
    if (a?.type !== "usb") throw xmlError2("Wrong address type for USB hub");
    const { hub: target, idx } = this.findPort(a);
    if (target.ports[idx]) throw xmlError2(`Duplicate USB hub on bus ${a.bus} port ${a.port ?? ""}`);
    target.portmap[idx] = true;
    target.ports[idx] = newHub(USB_HUB_PORTS);
  }
  reserve(info) {
    const a = info.address;
    if (a?.type !== "usb" || !a.port) return;
    const { hub, idx } = this.findPort(a);
    if (hub.portmap[idx]) throw xmlError2(`Duplicate USB address bus ${a.bus} port ${a.port}`);
    hub.portmap[idx] = true;
  }
  findFree(hub, path, level) {
    const free = hub.portmap.findIndex((x) => !x);
    if (free >= 0) {
      path[level] = free + 1;
      return true;
    }
    if (level >= 3) return false;
    for (let i = 0; i < hub.ports.length; i++) {
      const h = hub.ports[i];
      if (!h) continue;
      if (!this.findFree(h, path, level + 1)) continue;
      path[level] = i + 1;
      return true;
    }
    return false;
  }
  assignFromBus(info, bus) {
    const hub = this.buses[bus];
    if (!hub) return false;
    const path = [];
    if (!this.findFree(hub, path, 0)) return false;
    info.address = { type: "usb", bus, port: path.join(".") };
    this.reserve(info);
    return true;
  }
  assign(info) {
    const a = info.address;
    if (a?.type === "usb") {
      if (!this.buses[a.bus]) throw xmlError2(`USB bus ${a.bus} requested but no controller with that index is present`);
      if (this.assignFromBus(info, a.bus)) return;
    } else {
      for (let i = 0; i < this.buses.length; i++) if (this.assignFromBus(info, i)) return;
    }
    throw new VirtError8("INTERNAL_ERROR", "No free USB ports", { origin: "qemu" });
  }
};
function hasUsb(def2) {
  return def2.devices.controllers.some((c) => c.type === "usb" && c.model !== "none");
}
function usbAddressPresent(info) {
  const a = info.address;
  return a?.type === "usb" && !!a.port;
}
function assignUsbAddresses(def2, newDomain) {
  if (!newDomain && !usbDeviceInfos(def2, false).every(usbAddressPresent)) return;
  const set = new UsbAddressSet();
  let available = 0;
  for (const c of def2.devices.controllers) if (c.type === "usb") available += usbControllerPorts(c.model, c.ports);
  for (const h of def2.devices.hubs) if (h.type === "usb") available += USB_HUB_PORTS;
  const count = usbDeviceInfos(def2, false).length;
  if (count > 0 && !hasUsb(def2)) {
    throw new VirtError8("CONFIG_UNSUPPORTED", "USB is disabled for this domain, but USB devices are present in the domain XML", { origin: "qemu" });
  }
  if (count > available) {
    const needed = Math.ceil((count - available + 1) / (USB_HUB_PORTS - 1));
    for (let i = 0; i < needed; i++) def2.devices.hubs.push({ type: "usb", info: {} });
  }
  set.addControllers(def2);
  for (const info of usbDeviceInfos(def2, true)) set.reserve(info);
  for (const hub of def2.devices.hubs) {
    if (hub.type !== "usb") continue;
    if (usbAddressPresent(hub.info)) continue;
    set.assign(hub.info);
    set.addHub(hub);
  }
  for (const info of usbDeviceInfos(def2, true)) {
    const a = info.address;
    if (a && a.type !== "usb") continue;
    if (usbAddressPresent(info)) continue;
    set.assign(info);
  }
}
function assignMemorySlots(def2) {
  const mem = def2.memory;
  if (!mem.max || !mem.slots) return;
  const used = new Array(mem.slots).fill(false);
  for (const m of def2.devices.memories) {
    const a = m.info.address;
    if (a?.type === "dimm" && a.slot < used.length) used[a.slot] = true;
  }
  for (const m of def2.devices.memories) {
    if (m.model !== "dimm" && m.model !== "nvdimm") continue;
    if (m.info.address?.type === "dimm") continue;
    const slot = used.findIndex((x) => !x);
    if (slot < 0) throw new VirtError8("INTERNAL_ERROR", "failed to find an empty memory slot", { origin: "qemu" });
    used[slot] = true;
    m.info.address = { type: "dimm", slot };
  }
}
var VIO_ADDR = { net: 4096, scsi: 8192, serial: 805306368, nvram: 12288, tpm: 16384 };
function assignSpaprVio(def2, info, defaultReg) {
  const a = info.address;
  if (a?.type !== "spapr-vio") return;
  const user = a.reg !== void 0;
  if (!user) a.reg = defaultReg;
  const infos = listDevices2(def2.devices).map(deviceInfoOf2).filter((x) => !!x && x !== info);
  const taken = () => infos.some((x) => x.address?.type === "spapr-vio" && x.address.reg === a.reg);
  while (taken()) {
    if (user) throw new VirtError8("XML_ERROR", `spapr-vio address 0x${a.reg.toString(16)} already in use`, { origin: "qemu" });
    a.reg += 4096;
  }
}
function assignSpaprVioAddresses(def2) {
  const pseries = isPSeries(def2);
  for (const n of def2.devices.interfaces) {
    if (n.model === "spapr-vlan") n.info.address = n.info.address?.type === "spapr-vio" ? n.info.address : { type: "spapr-vio" };
    assignSpaprVio(def2, n.info, VIO_ADDR.net);
  }
  for (const c of def2.devices.controllers) {
    if (c.type === "scsi" && c.model === "ibmvscsi") c.info.address = c.info.address?.type === "spapr-vio" ? c.info.address : { type: "spapr-vio" };
    assignSpaprVio(def2, c.info, VIO_ADDR.scsi);
  }
  for (const s of def2.devices.serials) {
    if (pseries && s.targetType !== "isa-serial" && !s.info.address) s.info.address = { type: "spapr-vio" };
    assignSpaprVio(def2, s.info, VIO_ADDR.serial);
  }
  if (def2.devices.nvram) {
    if (pseries && !def2.devices.nvram.info.address) def2.devices.nvram.info.address = { type: "spapr-vio" };
    assignSpaprVio(def2, def2.devices.nvram.info, VIO_ADDR.nvram);
  }
  for (const t of def2.devices.tpms) {
    if (pseries && t.model !== "spapr-tpm-proxy" && !t.info.address) t.info.address = { type: "spapr-vio" };
    assignSpaprVio(def2, t.info, VIO_ADDR.tpm);
  }
}
function assignQemuAddresses(def2, caps2, newDomain) {
  assignVirtioSerialAddresses(def2);
  assignSpaprVioAddresses(def2);
  assignPciAddresses(def2, caps2);
  assignUsbAddresses(def2, newDomain);
  assignMemorySlots(def2);
}

// src/defaults/config.ts
function defaultQemuDriverConfig(overrides = {}) {
  const libDir = overrides.libDir ?? "/var/lib/libvirt/qemu";
  return {
    libDir,
    stateDir: "/run/libvirt/qemu",
    channelTargetDir: `${libDir}/channel/target`,
    nvramDir: `${libDir}/nvram`,
    memoryBackingDir: `${libDir}/ram`,
    hugetlbfs: [],
    hostPageSizeKiB: 4,
    vncListen: "127.0.0.1",
    vncAutoUnixSocket: false,
    vncTLS: false,
    vncTLSx509certdir: "/etc/pki/libvirt-vnc",
    vncTLSx509verify: false,
    vncSASL: false,
    vncAllowHostAudio: false,
    spiceListen: "127.0.0.1",
    spiceAutoUnixSocket: false,
    spiceTLS: false,
    spiceTLSx509certdir: "/etc/pki/libvirt-spice",
    spiceSASL: false,
    chardevTLS: false,
    chardevTLSx509certdir: "/etc/pki/libvirt-chardev",
    chardevTLSx509verify: false,
    nbdTLS: false,
    nbdTLSx509certdir: "/etc/pki/libvirt-nbd",
    vxhsTLS: false,
    vxhsTLSx509certdir: "/etc/pki/libvirt-vxhs",
    defaultTLSx509certdir: "/etc/pki/qemu",
    nogfxAllowHostAudio: false,
    dumpGuestCore: false,
    seccompSandbox: -1,
    setProcessName: false,
    remotePortMin: 5900,
    remotePortMax: 65535,
    webSocketPortMin: 5700,
    webSocketPortMax: 65535,
    env: {},
    ...overrides
  };
}

// src/defaults/namespace.ts
import { VirtError as VirtError9 } from "@virtkit/core";
var QEMU_NAMESPACE_URI = "http://libvirt.org/schemas/domain/qemu/1.0";
function nsError(msg) {
  return new VirtError9("XML_ERROR", `<qemu:commandline>: ${msg}`, { origin: "qemu" });
}
function local(el) {
  const i = el.name.indexOf(":");
  return i >= 0 ? el.name.slice(i + 1) : el.name;
}
function parse(elements) {
  const data = { args: [], env: [], capsAdd: [], capsDel: [], overrides: [] };
  let any = false;
  for (const el of elements) {
    switch (local(el)) {
      case "commandline":
        for (const c of el.elements()) {
          if (local(c) === "arg") {
            const v = c.attr("value");
            if (v === void 0) throw nsError("No qemu command-line argument specified");
            data.args.push(v);
            any = true;
          } else if (local(c) === "env") {
            const name = c.attr("name");
            if (!name) throw nsError("No qemu environment name specified");
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw nsError("Invalid environment name, it must begin with a letter or underscore");
            const e = { name };
            const v = c.attr("value");
            if (v !== void 0) e.value = v;
            data.env.push(e);
            any = true;
          }
        }
        break;
      case "capabilities":
        for (const c of el.elements()) {
          const cap = c.attr("capability");
          if (cap === void 0) continue;
          if (local(c) === "add") data.capsAdd.push(cap);
          else if (local(c) === "del") data.capsDel.push(cap);
          any = true;
        }
        break;
      case "override":
        for (const dev of el.elements()) {
          if (local(dev) !== "device") continue;
          const alias = dev.attr("alias");
          if (!alias) throw new VirtError9("XML_ERROR", "missing device alias in <qemu:override>", { origin: "qemu" });
          const props2 = [];
          for (const fe of dev.elements()) {
            if (local(fe) !== "frontend") continue;
            for (const p of fe.elements()) {
              const name = p.attr("name");
              const type = p.attr("type");
              if (!name || !type) throw new VirtError9("XML_ERROR", "missing property name or type in <qemu:override>", { origin: "qemu" });
              const prop = { name, type };
              const v = p.attr("value");
              if (v !== void 0) prop.value = v;
              props2.push(prop);
            }
          }
          data.overrides.push({ alias, frontend: props2 });
          any = true;
        }
        break;
      case "deprecation": {
        const b = el.attr("behavior");
        if (b) {
          data.deprecation = b;
          any = true;
        }
        break;
      }
      default:
        break;
    }
  }
  return any ? data : void 0;
}
function format(w, raw) {
  const d = raw;
  if (d.args.length || d.env.length) {
    w.open("qemu:commandline");
    for (const a of d.args) w.empty("qemu:arg", [["value", a]]);
    for (const e of d.env) w.empty("qemu:env", [["name", e.name], ["value", e.value]]);
    w.close("qemu:commandline");
  }
  if (d.capsAdd.length || d.capsDel.length) {
    w.open("qemu:capabilities");
    for (const c of d.capsAdd) w.empty("qemu:add", [["capability", c]]);
    for (const c of d.capsDel) w.empty("qemu:del", [["capability", c]]);
    w.close("qemu:capabilities");
  }
  if (d.overrides.length) {
    w.open("qemu:override");
    for (const o of d.overrides) {
      w.open("qemu:device", [["alias", o.alias]]);
      if (o.frontend.length) {
        w.open("qemu:frontend");
        for (const p of o.frontend) w.empty("qemu:property", [["name", p.name], ["type", p.type], ["value", p.value]]);
        w.close("qemu:frontend");
      }
      w.close("qemu:device");
    }
    w.close("qemu:override");
  }
  if (d.deprecation) w.empty("qemu:deprecation", [["behavior", d.deprecation]]);
}
var qemuXmlNamespace = { prefix: "qemu", uri: QEMU_NAMESPACE_URI, parse, format };
function qemuNamespaceData(def2) {
  return def2.namespaceData?.get(QEMU_NAMESPACE_URI);
}

// src/defaults/postparse.ts
import {
  VirtError as VirtError10,
  maybeAddController as maybeAddController2
} from "@virtkit/core";
function unsupported(msg) {
  return new VirtError10("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function internal2(msg) {
  return new VirtError10("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function accelOf(def2) {
  return def2.type === "kvm" ? "kvm" : "tcg";
}
function machinePostParse(def2, caps2) {
  const accel = accelOf(def2);
  if (!def2.os.machine) {
    const m2 = caps2.defaultMachine(accel);
    if (!m2) throw new VirtError10("INVALID_ARG", `could not get preferred machine for ${def2.devices.emulator ?? ""} type=${def2.type}`, { origin: "qemu" });
    def2.os.machine = m2.name;
  }
  const m = caps2.machine(def2.os.machine, accel);
  if (m && m.name !== def2.os.machine) def2.os.machine = m.name;
}
function supportsI8042(def2, caps2) {
  if (!caps2.has("i8042")) return false;
  return isI440FX(def2) || isQ35(def2) || isXenFV(def2);
}
function maybeAddInput(def2, type, bus) {
  if (def2.devices.inputs.some((i) => i.type === type && i.bus === bus)) return;
  def2.devices.inputs.push({ type, bus, info: {} });
}
function addDefaultAudio(def2, cfg) {
  if (def2.devices.audios.length > 0) return;
  let addAudio = false;
  let passthrough = false;
  let backend = "none";
  for (const g2 of def2.devices.graphics) {
    switch (g2.type) {
      case "vnc":
        if (cfg.vncAllowHostAudio) passthrough = true;
        else {
          passthrough = false;
          backend = "none";
        }
        addAudio = true;
        break;
      case "spice":
        passthrough = false;
        backend = "spice";
        addAudio = true;
        break;
      case "sdl":
        passthrough = true;
        addAudio = true;
        break;
      default:
        break;
    }
  }
  if (def2.devices.graphics.length === 0) {
    if (cfg.nogfxAllowHostAudio) passthrough = true;
    else {
      passthrough = false;
      backend = "none";
    }
    addAudio = true;
  }
  if (!addAudio) return;
  if (passthrough) {
    const env = cfg.env.QEMU_AUDIO_DRV;
    if (env === void 0) backend = "none";
    else {
      const map = {
        none: "none",
        alsa: "alsa",
        coreaudio: "coreaudio",
        jack: "jack",
        oss: "oss",
        pa: "pulseaudio",
        sdl: "sdl",
        spice: "spice",
        wav: "file",
        dbus: "dbus"
      };
      const t = map[env];
      if (!t) throw internal2(`unknown QEMU_AUDIO_DRV setting ${env}`);
      backend = t;
    }
  }
  const audio = { id: 1, type: backend, extra: [] };
  if (backend === "sdl") {
    const drv = cfg.env.SDL_AUDIODRIVER;
    if (drv !== void 0) {
      if (!["esd", "alsa", "arts", "pulseaudio"].includes(drv)) throw internal2(`unknown SDL_AUDIODRIVER setting ${drv}`);
      audio.extra.push(["driver", drv]);
    }
  }
  def2.devices.audios.push(audio);
}
function addDefaultDevices(def2, ctx) {
  const { caps: caps2 } = ctx;
  let addDefaultUSB = false;
  let usbModel;
  let addImplicitSATA = false;
  let addPCIRoot = false;
  let addPCIeRoot = false;
  let addDefaultMemballoon = false;
  let addDefaultUSBKBD = false;
  let addDefaultUSBMouse = false;
  let addPanicDevice = false;
  if (supportsI8042(def2, caps2) && def2.features?.states.ps2 !== false) {
    maybeAddInput(def2, "mouse", "ps2");
    maybeAddInput(def2, "keyboard", "ps2");
  }
  const arch = def2.os.arch ?? "";
  const machine = def2.os.machine ?? "";
  switch (arch) {
    case "i686":
    case "x86_64":
      if (machine === "isapc" || machine === "microvm") break;
      addDefaultMemballoon = true;
      addDefaultUSB = true;
      if (isQ35(def2)) {
        addPCIeRoot = true;
        addImplicitSATA = true;
        if (caps2.has("qemu-xhci")) usbModel = "qemu-xhci";
        else if (caps2.has("nec-usb-xhci")) usbModel = "nec-xhci";
        else if (caps2.has("ich9-usb-ehci1")) usbModel = "ich9-ehci1";
        else addDefaultUSB = false;
        break;
      }
      if (isI440FX(def2)) addPCIRoot = true;
      break;
    case "armv6l":
    case "armv7l":
    case "armv7b":
    case "aarch64":
      if (machine === "versatilepb" || machine.startsWith("realview-eb")) {
        addPCIRoot = true;
        addDefaultUSB = true;
      }
      if (isARMVirt(def2)) addPCIeRoot = true;
      break;
    case "ppc64":
    case "ppc64le":
      addPCIRoot = true;
      addDefaultUSB = true;
      addDefaultUSBKBD = true;
      addDefaultUSBMouse = true;
      addDefaultMemballoon = true;
      if (isPSeries(def2)) addPanicDevice = true;
      break;
    case "alpha":
    case "ppc":
    case "ppcemb":
    case "sh4":
    case "sh4eb":
    case "sparc64":
      addDefaultUSB = true;
      addDefaultMemballoon = true;
      addPCIRoot = true;
      break;
    case "s390":
    case "s390x":
      addDefaultMemballoon = true;
      addPanicDevice = true;
      addPCIRoot = caps2.has("zpci");
      break;
    default:
      break;
  }
  if ((addPCIRoot || addPCIeRoot) && !supportsPCI(def2)) throw internal2(`Machine type '${machine}' wants PCI but PCI is not supported`);
  const d = def2.devices;
  if (addDefaultUSB && !d.controllers.some((c) => c.type === "usb" && c.index === 0)) {
    const c = { type: "usb", index: 0, info: {} };
    if (usbModel) c.model = usbModel;
    d.controllers.push(c);
  }
  if (addImplicitSATA) maybeAddController2(def2, "sata", 0);
  const pciRoot = d.controllers.find((c) => c.type === "pci" && c.index === 0);
  if (addPCIRoot) {
    if (pciRoot) {
      if (pciRoot.model !== "pci-root") {
        throw new VirtError10("XML_ERROR", `The PCI controller with index='0' must be model='pci-root' for this machine type, but model='${pciRoot.model ?? ""}' was found instead`, { origin: "qemu" });
      }
    } else d.controllers.push({ type: "pci", index: 0, model: "pci-root", info: {} });
  }
  if (addPCIeRoot) {
    if (pciRoot) {
      if (pciRoot.model !== "pcie-root") {
        throw new VirtError10("XML_ERROR", `The PCI controller with index='0' must be model='pcie-root' for this machine type, but model='${pciRoot.model ?? ""}' was found instead`, { origin: "qemu" });
      }
    } else d.controllers.push({ type: "pci", index: 0, model: "pcie-root", info: {} });
  }
  if (addDefaultMemballoon && !d.memballoon) d.memballoon = { model: "virtio", info: {} };
  if (addDefaultUSBMouse && d.inputs.some((i) => i.type === "tablet" && i.bus === "usb")) addDefaultUSBMouse = false;
  if (addDefaultUSBKBD && d.graphics.length > 0) maybeAddInput(def2, "keyboard", "usb");
  if (addDefaultUSBMouse && d.graphics.length > 0) maybeAddInput(def2, "mouse", "usb");
  if (addPanicDevice) {
    const dflt = defaultPanicModel(def2);
    if (!d.panics.some((p) => p.model === void 0 || p.model === dflt)) d.panics.push({ info: {} });
  }
  addDefaultAudio(def2, ctx.config);
}
function defaultPanicModel(def2) {
  if (isPSeries(def2)) return "pseries";
  if (def2.os.arch === "s390" || def2.os.arch === "s390x") return "s390";
  return "isa";
}
function setDefaultCpu(def2, caps2) {
  if (def2.cpu && (def2.cpu.mode !== "custom" || def2.cpu.model)) return;
  const arch = def2.os.arch ?? "";
  if (!isX86(arch) && arch !== "s390" && arch !== "s390x" && arch !== "ppc64" && arch !== "ppc64le" && def2.type !== "qemu") return;
  const accel = accelOf(def2);
  const machine = caps2.machines(accel).find((m) => m.name === def2.os.machine);
  const cpuType = machine?.defaultCpu;
  if (!cpuType) return;
  const model = caps2.cpuModels(accel).find((c) => c.typename === cpuType)?.name;
  if (!model) return;
  if (model === "host" && def2.type !== "kvm") throw internal2('QEMU reports invalid default CPU model "host" for non-kvm domain virt type');
  if (!def2.cpu) def2.cpu = { mode: "custom", features: [] };
  if (model === "host") {
    def2.cpu.mode = "host-passthrough";
  } else {
    def2.cpu.check = "none";
    def2.cpu.mode = "custom";
    def2.cpu.match = "exact";
    def2.cpu.fallback = "forbid";
    def2.cpu.model = model;
  }
}
function cpuPostParse(def2, caps2) {
  const cpu = def2.cpu;
  if (!cpu) return;
  if (def2.id === -1 && cpu.mode === "host-passthrough" && cpu.migratable === void 0) {
    if (caps2.has("cpu.migratable")) cpu.migratable = true;
    else if (isX86(def2.os.arch)) cpu.migratable = false;
  }
  if (cpu.mode === "custom" && !cpu.model) return;
  if (cpu.check !== void 0) return;
  switch (cpu.mode) {
    case "host-passthrough":
    case "maximum":
      cpu.check = "none";
      break;
    case "host-model":
      cpu.check = "partial";
      break;
    case "custom":
      cpu.check = def2.type === "qemu" ? "none" : "partial";
      break;
  }
}
function vcpusPostParse(def2) {
  const v = def2.vcpu.vcpus;
  if (!v || v.length === 0) return;
  const v0 = v[0];
  if (!v0.enabled) throw unsupported("vcpu 0 can't be offline");
  if (v0.hotpluggable === true) throw unsupported("vcpu0 can't be hotpluggable");
  const o0 = v0.order ?? 0;
  if (o0 !== 0 && o0 !== 1) throw unsupported("vcpu0 must be enabled first");
  const hasOrder = o0 !== 0;
  let prev = v0;
  for (let i = 1; i < v.length; i++) {
    const cur = v[i];
    if (cur.enabled && (cur.order ?? 0) !== 0 !== hasOrder) throw unsupported("all vcpus must have either set or unset order");
    if (cur.hotpluggable === false) {
      if (prev.hotpluggable === true) throw unsupported("online non-hotpluggable vcpus need to be ordered prior to hotpluggable vcpus");
      if ((prev.order ?? 0) > (cur.order ?? 0)) throw unsupported("online non-hotpluggable vcpus must be ordered in ascending order");
    }
    prev = cur;
  }
}
function tsegPostParse(def2, caps2) {
  if (def2.features?.states.smm !== true) return;
  const tseg = def2.features.smmTseg;
  if (tseg === void 0) return;
  if (!isQ35(def2)) throw unsupported("SMM TSEG is only supported with q35 machine type");
  if (!caps2.has("mch.extended-tseg-mbytes")) throw unsupported("Setting TSEG size is not supported with this QEMU binary");
  if (tseg % (1024 * 1024) !== 0) throw unsupported("SMM TSEG size must be divisible by 1 MiB");
}
function numaCpusRectify(def2) {
  const cells = def2.cpu?.numa?.cells;
  if (!cells || cells.length === 0) return;
  const max = def2.vcpu.max;
  let total = 0;
  for (const c of cells) total += c.cpus?.length ?? 0;
  if (total >= max) return;
  const used = /* @__PURE__ */ new Set();
  cells.forEach((c, i) => {
    if (i !== 0) for (const x of c.cpus ?? []) used.add(x);
  });
  const cpus = [];
  for (let i = 0; i < max; i++) if (!used.has(i)) cpus.push(i);
  cells[0].cpus = cpus;
}
function enableDefaultFeatures(def2) {
  const iommu = def2.devices.iommu;
  if (iommu && iommu.intremap === true && def2.features?.ioapicDriver === void 0) {
    def2.features ??= { states: {} };
    def2.features.states.ioapic = true;
    def2.features.ioapicDriver = "qemu";
  }
}
function recheckInternalPaths(def2, cfg, inactive) {
  for (const g2 of def2.devices.graphics) {
    if (g2.type !== "vnc") continue;
    for (const l of g2.listens) {
      if (l.type === "socket" && l.socket && !l.autoGenerated && l.socket.startsWith(cfg.libDir)) {
        if (inactive) {
          delete l.socket;
          l.type = "address";
        } else l.fromConfig = true;
      }
    }
  }
}
function firmwarePostParse(def2) {
  const feats = def2.os.firmwareFeatures;
  if (!def2.os.firmware || !feats) return;
  if (feats.some((f) => f.name === "enrolled-keys" && f.enabled) && !feats.some((f) => f.name === "secure-boot")) {
    feats.push({ name: "secure-boot", enabled: true });
  }
}
function qemuDomainDefPostParse(def2, opts, ctx) {
  const { caps: caps2 } = ctx;
  machinePostParse(def2, caps2);
  firmwarePostParse(def2);
  addDefaultDevices(def2, ctx);
  setDefaultCpu(def2, caps2);
  enableDefaultFeatures(def2);
  recheckInternalPaths(def2, ctx.config, !!opts.inactive);
  vcpusPostParse(def2);
  cpuPostParse(def2, caps2);
  tsegPostParse(def2, caps2);
  numaCpusRectify(def2);
}
function defaultNetModel(def2, caps2) {
  const arch = def2.os.arch ?? "";
  if (arch === "s390" || arch === "s390x") return "virtio";
  if (arch.startsWith("arm") || arch === "aarch64") {
    if (def2.os.machine === "versatilepb") return "smc91c111";
    if (isARMVirt(def2)) return "virtio";
    return "lan9118";
  }
  if (caps2.has("rtl8139")) return "rtl8139";
  if (caps2.has("e1000")) return "e1000";
  if (caps2.has("virtio-net")) return "virtio";
  return "rtl8139";
}
function forEachChainSource(src, fn) {
  let n = src;
  while (n) {
    fn(n);
    n = n.backingStore;
  }
}
function diskPostParse(disk) {
  if (!disk.driver.name) disk.driver.name = "qemu";
  if (!disk.src.format && disk.src.type !== "volume") disk.src.format = "raw";
  forEachChainSource(disk.src, (s) => {
    if (s.encryption && !s.encryption.engine) s.encryption.engine = "qemu";
  });
}
function defaultVideoType(def2, caps2) {
  const arch = def2.os.arch ?? "";
  if (arch === "ppc64" || arch === "ppc64le") return "vga";
  if (isARMVirt(def2) || arch === "s390" || arch === "s390x") return "virtio";
  if (caps2.has("cirrus-vga")) return "cirrus";
  if (caps2.has("VGA")) return "vga";
  return void 0;
}
function defaultScsiControllerModel(def2, caps2) {
  if (isPSeries(def2)) return "ibmvscsi";
  if (def2.os.arch === "s390" || def2.os.arch === "s390x") return "virtio-scsi";
  if (caps2.has("lsi")) return "lsilogic";
  if (caps2.has("virtio-scsi-pci")) return "virtio-scsi";
  return void 0;
}
function controllerPostParse(cont, def2, caps2) {
  switch (cont.type) {
    case "scsi":
      if (cont.model === void 0 || cont.model === "auto") {
        const m = defaultScsiControllerModel(def2, caps2);
        if (m) cont.model = m;
        else if (cont.model === void 0) throw internal2(`Unable to determine model for SCSI controller idx=${cont.index}`);
      }
      break;
    case "usb": {
      if (cont.model === void 0) {
        if (caps2.has("piix3-usb-uhci")) cont.model = "piix3-uhci";
        const arch = def2.os.arch ?? "";
        if (arch === "s390" || arch === "s390x") {
          if (!cont.info.address) cont.model = "none";
        } else if (arch === "ppc64" || arch === "ppc64le") {
          if (caps2.has("pci-ohci")) cont.model = "pci-ohci";
        } else if (arch === "aarch64" || arch.startsWith("arm")) {
          if (caps2.has("qemu-xhci")) cont.model = "qemu-xhci";
          else if (caps2.has("nec-usb-xhci")) cont.model = "nec-xhci";
        }
      }
      if (cont.model === "none") delete cont.info.address;
      if (cont.model === "qusb1" || cont.model === "qusb2") {
        throw unsupported(`USB controller model type 'qusb1' or 'qusb2' is not supported in ${def2.type}`);
      }
      if ((cont.model === "nec-xhci" || cont.model === "qemu-xhci") && (cont.ports ?? 0) > 15) {
        throw unsupported(`'${cont.model}' controller only supports up to '15' ports`);
      }
      break;
    }
    case "pci":
      if (!isPSeries(def2) && (cont.model === "pci-root" || cont.model === "pcie-root") && cont.index !== 0) {
        throw new VirtError10("XML_ERROR", "pci-root and pcie-root controllers should have index 0", { origin: "qemu" });
      }
      if (cont.model === "pci-expander-bus" && !isI440FX(def2)) {
        throw unsupported("pci-expander-bus controllers are only supported on 440fx-based machinetypes");
      }
      if (cont.model === "pcie-expander-bus" && !(isQ35(def2) || isARMVirt(def2))) {
        throw unsupported("pcie-expander-bus controllers are not supported with this machine type");
      }
      if (cont.pci?.numaNode !== void 0 && cont.pci.numaNode >= (def2.cpu?.numa?.cells.length ?? 0)) {
        throw new VirtError10("XML_ERROR", `${cont.model ?? ""} with index ${cont.index} is configured for a NUMA node (${cont.pci.numaNode}) not present in the domain's <cpu><numa> array (${def2.cpu?.numa?.cells.length ?? 0})`, { origin: "qemu" });
      }
      break;
    default:
      break;
  }
}
function chrPostParse(chr, def2, cfg, inactive) {
  if (chr.deviceType === "serial" && chr.targetType === "isa-serial") delete chr.targetType;
  if (chr.deviceType === "serial" && chr.targetType === void 0) {
    if (isX86(def2.os.arch)) chr.targetType = "isa-serial";
    else if (isPSeries(def2)) chr.targetType = "spapr-vio-serial";
    else if (isARMVirt(def2)) chr.targetType = "system-serial";
    else if (def2.os.arch === "s390" || def2.os.arch === "s390x") chr.targetType = "sclp-serial";
  }
  if (chr.deviceType === "serial" && chr.targetModel === void 0) {
    const models = {
      "isa-serial": "isa-serial",
      "usb-serial": "usb-serial",
      "pci-serial": "pci-serial",
      "spapr-vio-serial": "spapr-vty",
      "sclp-serial": "sclpconsole",
      "isa-debug": "isa-debugcon"
    };
    if (chr.targetType === "system-serial") {
      if (isARMVirt(def2)) chr.targetModel = "pl011";
    } else if (chr.targetType && models[chr.targetType]) chr.targetModel = models[chr.targetType];
  }
  if (inactive) {
    dropDefaultChrPath(chr, def2, cfg);
    if (chr.source.type === "unix" && !chr.source.path) chr.source.listen = true;
  }
}
function dropDefaultChrPath(chr, _def, cfg) {
  if (chr.deviceType !== "channel" || chr.targetType !== "virtio" || chr.source.type !== "unix" || !chr.source.path) return;
  const prefix = `${cfg.channelTargetDir}/`;
  const p = chr.source.path;
  if (!p.startsWith(prefix)) return;
  const rest = p.slice(prefix.length);
  const slash = rest.indexOf("/");
  if (slash < 0 || !rest.startsWith("domain-")) return;
  if (chr.name && rest.slice(slash + 1) === chr.name) delete chr.source.path;
}
function qemuDeviceDefPostParse(dev, def2, opts, ctx) {
  const { caps: caps2 } = ctx;
  switch (dev.kind) {
    case "interface": {
      const net = dev.def;
      if ((net.type === "vdpa" || net.type === "vhostuser") && !net.model) net.model = "virtio";
      else if (net.type !== "hostdev" && !net.model) net.model = defaultNetModel(def2, caps2);
      break;
    }
    case "disk":
      diskPostParse(dev.def);
      break;
    case "video": {
      const v = dev.def;
      if (v.type === void 0 || v.type === "default") {
        const t = defaultVideoType(def2, caps2);
        if (t) v.type = t;
      }
      if (v.type === "qxl" && !v.vgamem) v.vgamem = 16 * 1024;
      break;
    }
    case "panic":
      if (dev.def.model === void 0) dev.def.model = defaultPanicModel(def2);
      break;
    case "controller":
      controllerPostParse(dev.def, def2, caps2);
      break;
    case "shmem": {
      const shm = dev.def;
      if (shm.model !== "ivshmem-doorbell" && !shm.size) shm.size = 4 << 20;
      if (shm.model === "ivshmem") break;
      if (!shm.server) {
        if (shm.model === "ivshmem-doorbell") throw unsupported(`shmem model '${shm.model}' is supported only with server option enabled`);
      } else {
        if (shm.model === "ivshmem-plain") throw unsupported(`shmem model '${shm.model}' is supported only with server option disabled`);
        shm.msi ??= {};
        if (shm.msi.ioeventfd === void 0) shm.msi.ioeventfd = true;
      }
      break;
    }
    case "chr":
      chrPostParse(dev.def, def2, ctx.config, !!opts.inactive);
      break;
    case "vsock":
      if (!dev.def.model) dev.def.model = "virtio";
      break;
    case "hostdev": {
      const h = dev.def;
      if (h.mode === "subsystem" && h.type === "mdev" && h.mdevModel === "vfio-pci" && h.display === void 0) h.display = false;
      break;
    }
    case "tpm": {
      const tpm = dev.def;
      if (!tpm.model || tpm.model === "default") tpm.model = def2.os.arch === "ppc64" || def2.os.arch === "ppc64le" ? "tpm-spapr" : "tpm-tis";
      if (tpm.backend === "emulator" && !tpm.version) {
        tpm.version = tpm.model === "tpm-tis" && isX86(def2.os.arch) ? "1.2" : "2.0";
      }
      break;
    }
    default:
      break;
  }
}

// src/defaults/validate.ts
import { VirtError as VirtError11 } from "@virtkit/core";
function unsupported2(msg) {
  return new VirtError11("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function qemuValidateDomain(def2, _opts, ctx) {
  const { caps: caps2 } = ctx;
  const emulator = def2.devices.emulator ?? "";
  if (def2.os.arch && caps2.arch && def2.os.arch !== caps2.arch && !(caps2.arch === "x86_64" && def2.os.arch === "i686")) {
    throw unsupported2(`Emulator '${emulator}' does not support arch '${def2.os.arch}'`);
  }
}
function qemuValidateDevice(_dev, _def, _opts, _ctx) {
}

// src/defaults/parser-config.ts
function qemuEmulatorForArch(arch, binDir = "/usr/bin") {
  const name = arch === "i686" ? "i386" : arch === "armv7l" || arch === "armv6l" ? "arm" : arch;
  return `${binDir}/qemu-system-${name}`;
}
function qemuParserConfig(caps2, opts = {}) {
  const config2 = opts.config ?? defaultQemuDriverConfig();
  const ctx = { caps: caps2, config: config2 };
  return {
    name: "qemu",
    features: {
      individualVcpus: true,
      userAlias: true,
      netModelString: true,
      fwAutoselect: true,
      offlineVcpupin: true,
      wideScsi: true
    },
    domainTypes: ["qemu", "kvm", "hvf"],
    defaultEmulator: (def2) => qemuEmulatorForArch(def2.os.arch ?? opts.hostArch ?? "x86_64", opts.binDir),
    domainPostParse: (def2, o) => qemuDomainDefPostParse(def2, o, ctx),
    devicePostParse: (dev, def2, o) => qemuDeviceDefPostParse(dev, def2, o, ctx),
    assignAddresses: (def2, o) => assignQemuAddresses(def2, caps2, !!o.abiUpdate),
    validateDomain: (def2, o) => qemuValidateDomain(def2, o, { ...ctx, swtpmVersions: opts.swtpmVersions ?? ["1.2", "2.0"] }),
    validateDevice: (dev, def2, o) => qemuValidateDevice(dev, def2, o, { ...ctx, swtpmVersions: opts.swtpmVersions ?? ["1.2", "2.0"] }),
    namespaces: [qemuXmlNamespace],
    implicitVideoModel: () => ""
  };
}

// src/command/build.ts
import {
  VirtError as VirtError18,
  formatDomainXml,
  parseDomainXml
} from "@virtkit/core";

// src/command/argv.ts
var QemuCommand = class {
  constructor(binary) {
    this.binary = binary;
  }
  binary;
  env = [];
  args = [];
  arg(...a) {
    this.args.push(...a);
  }
  /** Sets (or replaces) an environment variable, keeping first-set order. */
  setEnv(name, value) {
    const e = this.env.find(([k]) => k === name);
    if (e) e[1] = value;
    else this.env.push([name, value]);
  }
};

// src/command/chardev.ts
import { VirtError as VirtError13 } from "@virtkit/core";

// src/command/json.ts
function props(entries2) {
  const o = {};
  for (const [k, v] of entries2) if (v !== void 0) o[k] = v;
  return o;
}
function addProps(o, entries2) {
  for (const [k, v] of entries2) if (v !== void 0) o[k] = v;
  return o;
}
function nz(n) {
  return n ? n : void 0;
}
function nonneg(n) {
  return n === void 0 || n < 0 ? void 0 : n;
}
function trueOnly(b) {
  return b ? true : void 0;
}
function onOff(b) {
  return b === void 0 ? void 0 : b ? "on" : "off";
}
function toJson(v) {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
function escapeComma(s) {
  return s.replace(/,/g, ",,");
}

// src/command/storage.ts
import { VirtError as VirtError12 } from "@virtkit/core";

// src/command/state.ts
import { createCipheriv, randomBytes } from "node:crypto";
function fdPassPath(p) {
  return `/dev/fdset/${p.set}`;
}
var BuildState = class {
  constructor(def2, caps2, cfg, opts) {
    this.def = def2;
    this.caps = caps2;
    this.cfg = cfg;
    this.opts = opts;
    this.fakeFds = opts.fakeFds;
  }
  def;
  caps;
  cfg;
  opts;
  src = /* @__PURE__ */ new Map();
  chr = /* @__PURE__ */ new Map();
  fdsetIndex = 0;
  nodeIndex = 0;
  fakeFds;
  /** Copy-on-read layer node names by disk target. */
  corNodes = /* @__PURE__ */ new Map();
  /** Graphics TLS secret/alias. */
  vncTlsAlias;
  vncTlsSecret;
  get domainId() {
    return this.opts.domainId ?? -1;
  }
  /** virDomainDefGetShortName: "<id>-<first 20 chars of the name>". */
  get shortName() {
    return `${this.domainId}-${[...this.def.name].slice(0, 20).join("")}`;
  }
  /** The domain's private directory (HOME, master key, sockets). */
  get libDir() {
    return `${this.cfg.libDir}/domain-${this.shortName}`;
  }
  newFdPass() {
    return { set: this.fdsetIndex++, fds: [] };
  }
  srcPriv(src) {
    return this.src.get(src);
  }
  chrPriv(src) {
    let p = this.chr.get(src);
    if (!p) {
      p = {};
      this.chr.set(src, p);
    }
    return p;
  }
  /** Builds an encrypted secret object (qemuDomainSecretAESSetup). */
  secret(alias, value, username) {
    const key = this.opts.masterKey;
    const iv = this.opts.secretIv ? this.opts.secretIv() : new Uint8Array(randomBytes(16));
    let ciphertext;
    if (key) {
      const c = createCipheriv("aes-256-cbc", key, iv);
      ciphertext = Buffer.concat([c.update(Buffer.from(value, "utf8")), c.final()]).toString("base64");
    } else ciphertext = Buffer.from(value, "utf8").toString("base64");
    const s = { alias, ciphertext, iv: Buffer.from(iv).toString("base64") };
    if (username !== void 0) s.username = username;
    return s;
  }
  lookupSecret(ref, usageType) {
    if (this.opts.lookupSecret) return this.opts.lookupSecret(ref, usageType);
    return "";
  }
};

// src/command/storage.ts
function internal3(msg) {
  return new VirtError12("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function secretProps(s) {
  return props([["qom-type", "secret"], ["id", s.alias], ["data", s.ciphertext], ["keyid", "masterKey0"], ["iv", s.iv], ["format", "base64"]]);
}
function tlsCredsProps(dir, listen, verify, alias, secretAlias) {
  return props([
    ["qom-type", "tls-creds-x509"],
    ["id", alias],
    ["dir", dir],
    ["endpoint", listen ? "server" : "client"],
    ["verify-peer", listen ? verify : true],
    ["passwordid", secretAlias]
  ]);
}
function cachemodeFlags(mode) {
  switch (mode) {
    case "none":
      return { writeback: true, direct: true, noflush: false };
    case "writethrough":
      return { writeback: false, direct: false, noflush: false };
    case "writeback":
      return { writeback: true, direct: false, noflush: false };
    case "directsync":
      return { writeback: false, direct: true, noflush: false };
    case "unsafe":
      return { writeback: true, direct: false, noflush: true };
    default:
      return void 0;
  }
}
function cacheProps(priv) {
  const f = cachemodeFlags(priv.cachemode);
  return f ? { direct: f.direct, "no-flush": f.noflush } : void 0;
}
function detectZeroesMode(discard, detect) {
  if (detect === "unmap" && discard !== "unmap") return "on";
  return detect === "off" ? "off" : detect;
}
function socketAddress(h) {
  if (h.transport === "unix") return { type: "unix", path: h.socket ?? "" };
  if (h.transport === "rdma") throw internal3("transport protocol 'rdma' is not yet supported");
  return { type: "inet", host: h.name ?? "", port: String(h.port ?? defaultPort("")) };
}
function inetSocketAddress(h, port) {
  if (h.transport && h.transport !== "tcp") throw internal3("only TCP protocol can be converted to InetSocketAddress");
  return { host: h.name ?? "", port: String(h.port ?? port) };
}
function defaultPort(protocol) {
  switch (protocol) {
    case "http":
      return 80;
    case "https":
      return 443;
    case "ftp":
      return 21;
    case "ftps":
      return 990;
    case "tftp":
      return 69;
    case "sheepdog":
      return 7e3;
    case "nbd":
      return 10809;
    case "ssh":
      return 22;
    case "iscsi":
      return 3260;
    case "gluster":
      return 24007;
    case "rbd":
      return 0;
    case "vxhs":
      return 9999;
    default:
      return 0;
  }
}
function hostPort(src, h) {
  return h.port ?? defaultPort(src.protocol ?? "");
}
function isIPv6(s) {
  return s.includes(":");
}
function urlOf(src) {
  const h = src.hosts?.[0];
  if (!h || (src.hosts?.length ?? 0) !== 1) throw internal3(`protocol '${src.protocol}' accepts only one host`);
  let scheme = src.protocol ?? "";
  if (h.transport && h.transport !== "tcp") scheme += `+${h.transport}`;
  const host = h.name ?? "";
  const port = h.port;
  let path = src.path ? src.path.startsWith("/") ? src.path : `/${src.path}` : "";
  path = path.replace(/ /g, "%20");
  const q = src.query ? `?${src.query}` : "";
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}${port ? `:${port}` : ""}${path}${q}`;
}
function networkProps(state, src, priv) {
  const p = src.protocol ?? "";
  switch (p) {
    case "gluster": {
      const [volume, ...rest] = (src.path ?? "").replace(/^\//, "").split("/");
      const o = props([
        ["volume", volume ?? ""],
        ["path", rest.join("/")],
        ["server", (src.hosts ?? []).map((h) => h.transport === "unix" ? { type: "unix", path: h.socket ?? "" } : { type: "inet", host: h.name ?? "", port: String(hostPort(src, h)) })]
      ]);
      if (priv.debugLevel !== void 0) o.debug = priv.debugLevel;
      return { driver: "gluster", props: o };
    }
    case "vxhs": {
      const h = src.hosts?.[0];
      if (!h || src.hosts.length !== 1) throw internal3("VxHS protocol accepts only one host");
      return { driver: "vxhs", props: props([["tls-creds", priv.tlsAlias], ["vdisk-id", src.path ?? ""], ["server", inetSocketAddress(h, hostPort(src, h))]]) };
    }
    case "http":
    case "https":
    case "ftp":
    case "ftps":
    case "tftp": {
      const o = props([
        ["url", urlOf(src)],
        ["username", src.auth?.username],
        ["password-secret", src.auth ? priv.authSecret?.alias : void 0],
        ["sslverify", src.sslverify],
        ["cookie-secret", void 0],
        ["timeout", nz(src.timeout)],
        ["readahead", nz(src.readahead)]
      ]);
      return { driver: p, props: o };
    }
    case "iscsi": {
      const full = src.path ?? "";
      const slash = full.indexOf("/");
      const target = slash >= 0 ? full.slice(0, slash) : full;
      const lun = slash >= 0 ? Number(full.slice(slash + 1)) : 0;
      const h = src.hosts?.[0] ?? {};
      const name = h.name ?? "";
      const portal = isIPv6(name) ? `[${name}]:${hostPort(src, h)}` : `${name}:${hostPort(src, h)}`;
      return {
        driver: "iscsi",
        props: props([
          ["portal", portal],
          ["target", target],
          ["lun", lun],
          ["transport", "tcp"],
          ["user", src.auth?.username],
          ["password-secret", src.auth ? priv.authSecret?.alias : void 0],
          ["initiator-name", src.initiatorIqn]
        ])
      };
    }
    case "nbd": {
      const h = src.hosts?.[0];
      if (!h || src.hosts.length !== 1) throw internal3("nbd protocol accepts only one host");
      const server = h.transport === "unix" ? { type: "unix", path: h.socket ?? "" } : { type: "inet", host: h.name ?? "", port: String(hostPort(src, h)) };
      return {
        driver: "nbd",
        props: props([["server", server], ["export", src.path], ["tls-creds", priv.tlsAlias], ["tls-hostname", priv.tlsAlias ? src.tlsHostname : void 0], ["reconnect-delay", nz(src.reconnect?.delay)]])
      };
    }
    case "rbd": {
      const [pool, ...rest] = (src.path ?? "").split("/");
      let image = rest.join("/");
      let volume = pool ?? "";
      if (!image) {
        image = volume;
        volume = "";
      }
      const servers = src.hosts && src.hosts.length ? src.hosts.map((h) => inetSocketAddress(h, hostPort(src, h))) : void 0;
      let encrypt;
      if (src.encryption?.engine === "librbd") {
        const fmt = src.encryption.format === "luks2" ? "luks2" : src.encryption.format === "luks-any" ? "luks-any" : "luks";
        const secrets = priv.encSecrets ?? [];
        for (let i = secrets.length; i > 0; i--) {
          const n = { format: fmt, "key-secret": secrets[i - 1].alias };
          if (encrypt) n.parent = encrypt;
          encrypt = n;
        }
      }
      const auth = src.auth ? priv.authSecret : void 0;
      return {
        driver: "rbd",
        props: props([
          ["pool", volume],
          ["image", image],
          ["snapshot", src.snapshot],
          ["conf", src.configFile],
          ["server", servers],
          ["encrypt", encrypt],
          ["user", auth?.username],
          ["auth-client-required", auth ? ["cephx", "none"] : void 0],
          ["key-secret", auth?.alias]
        ])
      };
    }
    case "sheepdog": {
      const h = src.hosts?.[0];
      if (!h) throw internal3("sheepdog protocol accepts only one host");
      return { driver: "sheepdog", props: props([["server", socketAddress(h)], ["vdi", src.path ?? ""]]) };
    }
    case "ssh": {
      const h = src.hosts?.[0];
      if (!h) throw internal3("ssh protocol accepts only one host");
      return { driver: "ssh", props: props([["path", src.path ?? ""], ["server", inetSocketAddress(h, hostPort(src, h))], ["user", src.auth?.username]]) };
    }
    case "nfs": {
      const h = src.hosts?.[0] ?? {};
      return { driver: "nfs", props: props([["server", { host: h.name ?? "", type: "inet" }], ["path", src.path]]) };
    }
    default:
      throw internal3(`unsupported network protocol '${p}'`);
  }
}
function backendProps(state, src, priv, opts = { autoReadOnly: true }) {
  let aro;
  let ro;
  if (opts.autoReadOnly) aro = true;
  else ro = priv.readonly;
  let driver;
  let fileprops;
  switch (src.type) {
    case "block":
    case "file": {
      if (src.type === "block") driver = priv.hostcdrom ? "host_cdrom" : "host_device";
      else driver = "file";
      let path = src.path ?? "";
      if (priv.fdpass) {
        path = fdPassPath(priv.fdpass);
        if (priv.fdpass.fds.length === 1) {
          aro = void 0;
          ro = priv.fdWritable ? false : priv.readonly;
        }
      }
      fileprops = props([["filename", path], ["aio", priv.iomode], ["pr-manager", priv.prManager?.alias]]);
      break;
    }
    case "dir":
      fileprops = props([["driver", "vvfat"], ["dir", src.path ?? ""], ["floppy", !!priv.floppyimg], ["rw", !priv.readonly]]);
      break;
    case "nvme": {
      const a = src.nvme?.address;
      const h = (n, w) => n.toString(16).padStart(w, "0");
      const dev = a ? `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.slot, 2)}.${a.function.toString(16)}` : "";
      fileprops = props([["driver", "nvme"], ["device", dev], ["namespace", src.nvme?.namespace ?? 0]]);
      break;
    }
    case "network": {
      const n = networkProps(state, src, priv);
      driver = n.driver;
      fileprops = n.props;
      break;
    }
    default:
      throw internal3(`unable to create blockdev props for storage type '${src.type}'`);
  }
  const out2 = driver ? { driver, ...fileprops } : fileprops;
  addProps(out2, [["node-name", priv.storageNode], ["cache", cacheProps(priv)], ["read-only", ro], ["auto-read-only", aro]]);
  if (!opts.skipUnmap) out2.discard = "unmap";
  return out2;
}
var BACKING_FORMATS = /* @__PURE__ */ new Set(["cow", "qcow", "qcow2", "qed", "vmdk"]);
function formatProps(src, priv, backing, backingPriv) {
  const fmt = src.format ?? "raw";
  const dz = detectZeroesMode(priv.discard, priv.detectZeroes);
  const o = props([
    ["node-name", priv.formatNode],
    ["read-only", priv.readonly],
    ["discard", priv.discard],
    ["detect-zeroes", dz],
    ["cache", cacheProps(priv)]
  ]);
  const enc = src.encryption && src.encryption.engine !== "librbd" ? src.encryption : void 0;
  switch (fmt) {
    case "fat":
    case "raw":
      if (enc && enc.format === "luks") {
        addProps(o, [["driver", "luks"], ["key-secret", priv.encSecrets?.[0]?.alias]]);
      } else {
        o.driver = "raw";
        const slice = src.slices?.[0];
        if (slice && !priv.sliceNode) addProps(o, [["offset", slice.offset], ["size", slice.size]]);
      }
      break;
    case "qcow2":
    case "qcow": {
      let encrypt;
      if (enc && priv.encSecrets?.length) encrypt = { format: enc.format === "qcow" ? "aes" : "luks", "key-secret": priv.encSecrets[0].alias };
      addProps(o, [["driver", fmt], ["encrypt", encrypt]]);
      if (fmt === "qcow2") addProps(o, [["cache-size", nz(src.metadataCacheMaxSize)]]);
      break;
    }
    case "ploop":
      o.driver = "parallels";
      break;
    case "vhd":
      o.driver = "vhdx";
      break;
    case "bochs":
    case "cloop":
    case "dmg":
    case "vdi":
    case "vpc":
    case "qed":
    case "vmdk":
      o.driver = fmt;
      break;
    default:
      throw internal3(`mishandled storage format '${fmt}'`);
  }
  o.file = priv.sliceNode ?? priv.storageNode;
  if (backing !== void 0 && BACKING_FORMATS.has(fmt)) {
    if (backing && backingPriv) o.backing = backingPriv.formatNode;
    else o.backing = null;
  }
  return o;
}
function sliceProps(src, priv) {
  const s = src.slices[0];
  return props([
    ["driver", "raw"],
    ["node-name", priv.sliceNode],
    ["offset", s.offset],
    ["size", s.size],
    ["file", priv.storageNode],
    ["auto-read-only", true],
    ["discard", "unmap"],
    ["cache", cacheProps(priv)]
  ]);
}
function prManagerProps(alias, path) {
  return props([["qom-type", "pr-manager-helper"], ["id", alias], ["path", path]]);
}
function sourceDependencies(priv) {
  const out2 = [];
  const pr = priv.prManager;
  if (pr?.path) out2.push(prManagerProps(pr.alias, pr.path));
  if (priv.authSecret) out2.push(secretProps(priv.authSecret));
  for (const s of priv.encSecrets ?? []) out2.push(secretProps(s));
  if (priv.tlsKeySecret) out2.push(secretProps(priv.tlsKeySecret));
  if (priv.tlsAlias && priv.tlsCertdir) out2.push(tlsCredsProps(priv.tlsCertdir, false, true, priv.tlsAlias, priv.tlsKeySecret?.alias));
  return out2;
}
function addObject(cmd, o) {
  cmd.arg("-object", toJson(o));
}
function emitSourceBlockdevs(cmd, state, src, backing) {
  const priv = state.srcPriv(src);
  if (!priv) throw internal3("storage source was not prepared");
  const backingPriv = backing ? state.srcPriv(backing) : void 0;
  const format2 = formatProps(src, priv, backing, backingPriv);
  const storage = backendProps(state, src, priv);
  for (const o of sourceDependencies(priv)) addObject(cmd, o);
  cmd.arg("-blockdev", toJson(storage));
  if (priv.sliceNode) cmd.arg("-blockdev", toJson(sliceProps(src, priv)));
  cmd.arg("-blockdev", toJson(format2));
}
function emitChainBlockdevs(cmd, state, top) {
  const list = [];
  let n = top;
  while (n) {
    list.push({ src: n, backing: n.backingStore });
    n = n.backingStore;
  }
  for (const { src } of list) {
    const fdpass = state.srcPriv(src)?.fdpass;
    if (fdpass) for (const f of fdpass.fds) cmd.arg("-add-fd", `set=${fdpass.set},fd=${f.fd},opaque=${f.opaque}`);
  }
  for (let i = list.length - 1; i >= 0; i--) emitSourceBlockdevs(cmd, state, list[i].src, list[i].backing);
}

// src/command/chardev.ts
function emitFdPass(cmd, p) {
  if (!p) return;
  for (const f of p.fds) cmd.arg("-add-fd", `set=${p.set},fd=${f.fd},opaque=${f.opaque}`);
}
function reconnect(src) {
  const r = src.reconnect;
  if (!r) return "";
  if (r.enabled) return `,reconnect=${r.timeout ?? 0}`;
  return ",reconnect=0";
}
function chardevString(state, src, alias, spicevmcName = "vdagent") {
  const priv = state.chrPriv(src);
  let s;
  switch (src.type) {
    case "null":
      s = `null,id=${alias}`;
      break;
    case "vc":
      s = `vc,id=${alias}`;
      break;
    case "pty":
      s = `pty,id=${alias}`;
      break;
    case "dev": {
      const backend = alias.startsWith("charparallel") ? "parallel" : "serial";
      s = `${backend},id=${alias},path=${escapeComma(src.path ?? "")}`;
      break;
    }
    case "file": {
      let path = src.path ?? "";
      let append = src.append;
      if (priv.sourceFd) {
        path = fdPassPath(priv.sourceFd);
        append = true;
      }
      s = `file,id=${alias},path=${escapeComma(path)}`;
      if (append !== void 0) s += `,append=${append ? "on" : "off"}`;
      break;
    }
    case "pipe":
      s = `pipe,id=${alias},path=${escapeComma(src.path ?? "")}`;
      break;
    case "stdio":
      s = `stdio,id=${alias}`;
      break;
    case "udp":
      s = `udp,id=${alias},host=${src.connectHost ?? ""},port=${src.connectService ?? ""},localaddr=${src.bindHost ?? ""},localport=${src.bindService ?? "0"}`;
      break;
    case "tcp":
      s = `socket,id=${alias},host=${src.host ?? ""},port=${src.service ?? ""}`;
      if (src.protocol === "telnet") s += ",telnet=on";
      if (src.listen) {
        s += ",server=on";
        if (!priv.wait) s += ",wait=off";
      }
      s += reconnect(src);
      if (priv.tlsCredsAlias) s += `,tls-creds=${priv.tlsCredsAlias}`;
      break;
    case "unix":
      s = `socket,id=${alias}`;
      if (priv.directFd !== void 0) s += `,fd=${priv.directFd}`;
      else s += `,path=${escapeComma(src.path ?? "")}`;
      if (src.listen) {
        s += ",server=on";
        if (!priv.wait) s += ",wait=off";
      }
      s += reconnect(src);
      break;
    case "spicevmc":
      s = `spicevmc,id=${alias},name=${spicevmcName}`;
      break;
    case "spiceport":
      s = `spiceport,id=${alias},name=${src.channel ?? ""}`;
      break;
    case "qemu-vdagent":
      s = `qemu-vdagent,id=${alias},name=vdagent`;
      if (src.clipboardCopypaste !== void 0) s += `,clipboard=${src.clipboardCopypaste ? "on" : "off"}`;
      if (src.mouseMode === "client") s += ",mouse=on";
      else if (src.mouseMode === "server") s += ",mouse=off";
      break;
    case "dbus":
      s = `dbus,id=${alias},name=${src.channel ?? ""}`;
      break;
    default:
      throw new VirtError13("CONFIG_UNSUPPORTED", `unsupported chardev '${src.type}'`, { origin: "qemu" });
  }
  if (src.log) {
    let path = src.log.file;
    let append = src.log.append;
    if (priv.logFd) {
      path = fdPassPath(priv.logFd);
      append = true;
    }
    s += `,logfile=${escapeComma(path)}`;
    if (append !== void 0) s += `,logappend=${append ? "on" : "off"}`;
  }
  return s;
}
function emitChardev(cmd, state, src, alias, spicevmcName) {
  const priv = state.chrPriv(src);
  if (src.type === "tcp" && priv.tlsCertPath) {
    if (priv.tlsSecret) cmd.arg("-object", toJson(secretProps(priv.tlsSecret)));
    const objAlias = `obj${alias}_tls0`;
    cmd.arg("-object", toJson(tlsCredsProps(priv.tlsCertPath, !!src.listen, !!priv.tlsVerify, objAlias, priv.tlsSecret?.alias)));
    priv.tlsCredsAlias = objAlias;
  }
  if (src.type === "file") emitFdPass(cmd, priv.sourceFd);
  emitFdPass(cmd, priv.logFd);
  cmd.arg("-chardev", chardevString(state, src, alias, spicevmcName));
}

// src/command/device-props.ts
import {
  VirtError as VirtError14,
  diskNameToIndex as diskNameToIndex2
} from "@virtkit/core";

// src/command/alias.ts
import { diskNameToIndex } from "@virtkit/core";
function aliasIndex(info, prefix) {
  const a = info.alias;
  if (!a || !a.startsWith(prefix)) return -1;
  const rest = a.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : -1;
}
function nextIndex(infos, prefix) {
  let idx = 0;
  for (const i of infos) {
    const n = aliasIndex(i, prefix);
    if (n >= idx) idx = n + 1;
  }
  return idx;
}
function hasBuiltinIDE(def2) {
  return isI440FX(def2) || def2.os.machine === "isapc";
}
function findScsiController(def2, controller) {
  return def2.devices.controllers.find((c) => c.type === "scsi" && c.index === controller);
}
function diskAlias(def2, disk) {
  if (disk.info.alias) return;
  const a = disk.info.address;
  const prefix = disk.bus ?? "ide";
  if (a?.type === "drive") {
    const model = disk.bus === "scsi" ? findScsiController(def2, a.controller)?.model : void 0;
    if (disk.bus !== "scsi" || model === "lsilogic") disk.info.alias = `${prefix}${a.controller}-${a.bus}-${a.unit}`;
    else disk.info.alias = `${prefix}${a.controller}-${a.bus}-${a.target}-${a.unit}`;
  } else {
    disk.info.alias = `${prefix}-disk${diskNameToIndex(disk.dst)}`;
  }
}
function controllerAlias(def2, c) {
  if (c.info.alias) return;
  if (c.type === "pci") {
    c.info.alias = c.model === "pcie-root" ? `pcie.${c.index}` : `pci.${c.index}`;
    return;
  }
  if (c.type === "ide" && hasBuiltinIDE(def2) && c.index === 0) {
    c.info.alias = "ide";
    return;
  }
  if (c.type === "sata" && isQ35(def2) && c.index === 0) {
    c.info.alias = "ide";
    return;
  }
  if (c.type === "usb" && c.index === 0) {
    c.info.alias = "usb";
    return;
  }
  if (c.type === "scsi" && c.model === "ncr53c90" && c.index === 0) {
    c.info.alias = "scsi";
    return;
  }
  c.info.alias = `${c.type}${c.index}`;
}
function hostdevAlias(def2, info) {
  if (info.alias) return;
  const infos = [...def2.devices.hostdevs.map((h) => h.info), ...def2.devices.interfaces.filter((n) => n.type === "hostdev").map((n) => n.info)];
  info.alias = `hostdev${nextIndex(infos, "hostdev")}`;
}
var MEMORY_PREFIX = { dimm: "dimm", nvdimm: "nvdimm", "virtio-pmem": "virtiopmem", "virtio-mem": "virtiomem", "sgx-epc": "epc" };
function assignDeviceAliases(def2) {
  const d = def2.devices;
  for (const disk of d.disks) diskAlias(def2, disk);
  for (const net of d.interfaces) {
    if (net.info.alias) continue;
    if (net.type === "hostdev") {
      hostdevAlias(def2, net.info);
      continue;
    }
    net.info.alias = `net${nextIndex(d.interfaces.map((n) => n.info), "net")}`;
  }
  for (const fs of d.filesystems) if (!fs.info.alias) fs.info.alias = `fs${nextIndex(d.filesystems.map((f) => f.info), "fs")}`;
  d.sounds.forEach((s, i) => {
    if (!s.info.alias) s.info.alias = `sound${i}`;
  });
  for (const h of d.hostdevs) hostdevAlias(def2, h.info);
  d.redirdevs.forEach((r, i) => {
    if (!r.info.alias) r.info.alias = `redir${i}`;
  });
  d.videos.forEach((v, i) => {
    if (!v.info.alias) v.info.alias = `video${i}`;
  });
  for (const c of d.controllers) controllerAlias(def2, c);
  d.inputs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `input${i}`;
  });
  d.parallels.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `parallel${i}`;
  });
  d.serials.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `serial${i}`;
  });
  d.channels.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `channel${i}`;
  });
  d.consoles.forEach((x, i) => {
    if (x.info.alias) return;
    if (i === 0 && x.targetType === "serial" && d.serials[0]) x.info.alias = d.serials[0].info.alias;
    else x.info.alias = `console${i}`;
  });
  d.hubs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `hub${i}`;
  });
  for (const s of d.shmems) if (!s.info.alias) s.info.alias = `shmem${nextIndex(d.shmems.map((x) => x.info), "shmem")}`;
  d.smartcards.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `smartcard${i}`;
  });
  d.watchdogs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `watchdog${i}`;
  });
  if (d.memballoon && !d.memballoon.info.alias) d.memballoon.info.alias = "balloon0";
  d.rngs.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `rng${i}`;
  });
  d.tpms.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `tpm${i}`;
  });
  for (const m of d.memories) {
    if (m.info.alias) continue;
    const prefix = MEMORY_PREFIX[m.model] ?? "dimm";
    let max = 0;
    for (const o of d.memories) {
      const n = aliasIndex(o.info, prefix);
      if (n >= max) max = n + 1;
    }
    m.info.alias = `${prefix}${max}`;
  }
  if (d.vsock && !d.vsock.info.alias) d.vsock.info.alias = "vsock0";
  if (d.iommu && !d.iommu.info.alias) d.iommu.info.alias = "iommu0";
  d.cryptos.forEach((x, i) => {
    if (!x.info.alias) x.info.alias = `crypto${i}`;
  });
}

// src/command/device-props.ts
function internal4(msg) {
  return new VirtError14("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function controllerAlias2(def2, type, index) {
  const c = def2.devices.controllers.find((x) => x.type === type && x.index === index);
  if (!c?.info.alias) throw internal4(`Could not find ${type} controller with index ${index} required for device`);
  return c.info.alias;
}
function pciBus(def2, bus) {
  const c = def2.devices.controllers.find((x) => x.type === "pci" && x.index === bus);
  if (!c?.info.alias) throw internal4(`Could not find PCI controller with index '${bus}' required for device`);
  let alias = c.info.alias;
  if (alias.startsWith("ua-")) {
    if (!isPSeries(def2) && c.model === "pci-root") alias = "pci.0";
    else if (c.model === "pcie-root") alias = "pcie.0";
  }
  return alias;
}
function addAddressProps(o, def2, info, diskBus) {
  const a = info.address;
  if (!a) return o;
  switch (a.type) {
    case "pci": {
      const addr = a.function !== 0 ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`;
      return addProps(o, [["bus", pciBus(def2, a.bus)], ["multifunction", a.multifunction], ["addr", addr], ["acpi-index", nz(info.acpiIndex)]]);
    }
    case "usb":
      return addProps(o, [["bus", `${controllerAlias2(def2, "usb", a.bus)}.0`], ["port", a.port || void 0]]);
    case "isa":
      return addProps(o, [["iobase", a.iobase ?? 0], ["irq", nz(a.irq)]]);
    case "dimm":
      return addProps(o, [["slot", a.slot], ["addr", a.base !== void 0 && a.base !== 0n ? Number(a.base) : void 0]]);
    case "virtio-serial":
      return addProps(o, [["bus", `${controllerAlias2(def2, "virtio-serial", a.controller)}.${a.bus}`], ["nr", a.port]]);
    case "ccw": {
      const h = (n, w) => (n ?? 0).toString(16).padStart(w, "0");
      return addProps(o, [["devno", `${h(a.cssid, 1)}.${h(a.ssid, 1)}.${h(a.devno, 4)}`]]);
    }
    case "drive":
      return addDriveAddress(o, def2, info, diskBus);
    case "spapr-vio":
      return addProps(o, [["reg", a.reg]]);
    default:
      return o;
  }
}
function addDriveAddress(o, def2, info, diskBus) {
  const a = info.address;
  if (a?.type !== "drive") return o;
  switch (diskBus) {
    case "ide": {
      const alias = hasBuiltinIDE(def2) ? "ide" : controllerAlias2(def2, "ide", a.controller);
      return addProps(o, [["bus", `${alias}.${a.bus}`], ["unit", a.unit]]);
    }
    case "sata": {
      const alias = isQ35(def2) && a.controller === 0 ? "ide" : controllerAlias2(def2, "sata", a.controller);
      return addProps(o, [["bus", `${alias}.${a.unit}`]]);
    }
    case "fdc":
      return addProps(o, [["unit", a.unit]]);
    case "scsi": {
      const c = findScsiController(def2, a.controller);
      if (!c) throw internal4(`unable to find a SCSI controller for idx=${a.controller}`);
      switch (c.model) {
        case "lsilogic":
        case "ncr53c90":
        case "dc390":
        case "am53c974":
          return addProps(o, [["bus", `${c.info.alias}.${a.bus}`], ["scsi-id", a.unit]]);
        default:
          return addProps(o, [["bus", `${c.info.alias}.0`], ["channel", a.bus], ["scsi-id", a.target], ["lun", a.unit]]);
      }
    }
    default:
      throw internal4(`address type drive is not supported for bus '${diskBus ?? ""}'`);
  }
}
function virtioDevProps(base, info, caps2, model, virtio, busSuffix = true) {
  let name = base;
  const a = info.address;
  let impl;
  switch (a?.type) {
    case "pci":
      impl = "pci";
      break;
    case "virtio-mmio":
      impl = "device";
      break;
    case "ccw":
      impl = "ccw";
      break;
    default:
      throw internal4(`Unexpected address type for '${base}'`);
  }
  if (busSuffix) name += `-${impl}`;
  if (model === "virtio-transitional") {
    if (caps2.has("virtio-pci-non-transitional")) name += "-transitional";
  } else if (model === "virtio-non-transitional") {
    if (!caps2.has("virtio-pci-non-transitional")) throw new VirtError14("CONFIG_UNSUPPORTED", "virtio non-transitional model not supported for this qemu", { origin: "qemu" });
    name += "-non-transitional";
  }
  return props([
    ["driver", name],
    ["iommu_platform", virtio?.iommu],
    ["ats", virtio?.ats],
    ["packed", virtio?.packed],
    ["page-per-vq", virtio?.pagePerVq]
  ]);
}
function addRomProps(o, info) {
  const rom = info.rom;
  if (!rom || rom.enabled === void 0 && rom.bar === void 0 && rom.file === void 0) return o;
  if (info.address?.type !== "pci") throw new VirtError14("CONFIG_UNSUPPORTED", "ROM tuning is only supported for PCI devices", { origin: "qemu" });
  let romfile;
  let rombar;
  if (rom.enabled === false) romfile = "";
  else {
    romfile = rom.file;
    if (rom.bar !== void 0) rombar = rom.bar ? 1 : 0;
  }
  return addProps(o, [["rombar", rombar], ["romfile", romfile]]);
}
function diskBackendNode(state, disk) {
  const cor = state.corNodes.get(disk.dst);
  if (cor) return cor;
  const p = state.srcPriv(disk.src);
  return p?.formatNode;
}
function escapeSpaces(s) {
  return s.replace(/ /g, "\\ ");
}
function diskDeviceProps(state, disk, bootindex, emptyDrive) {
  const { def: def2, caps: caps2 } = state;
  let o = {};
  let driver;
  let scsiVPD;
  let removable;
  switch (disk.bus) {
    case "ide":
    case "sata":
      driver = disk.device === "cdrom" ? "ide-cd" : "ide-hd";
      break;
    case "scsi":
      if (disk.device === "lun") driver = "scsi-block";
      else {
        if (disk.device === "cdrom") driver = "scsi-cd";
        else {
          driver = "scsi-hd";
          removable = disk.removable;
        }
        scsiVPD = disk.serial ?? `drive-${disk.info.alias ?? ""}`;
      }
      break;
    case "virtio": {
      let scsi;
      if (disk.src.type !== "vhostuser" && caps2.has("virtio-blk-pci.scsi")) {
        if (disk.device === "lun") scsi = true;
        else if (!caps2.has("virtio-blk-pci.scsi.default.disabled")) scsi = false;
      }
      const base = disk.src.type === "vhostuser" ? "vhost-user-blk" : "virtio-blk";
      o = virtioDevProps(base, disk.info, caps2, disk.model, disk.virtio);
      addProps(o, [
        ["iothread", disk.driver.iothread ? `iothread${disk.driver.iothread}` : void 0],
        ["ioeventfd", disk.driver.ioeventfd],
        ["event_idx", disk.driver.eventIdx],
        ["scsi", scsi],
        ["num-queues", nz(disk.driver.queues)],
        ["queue-size", nz(disk.driver.queueSize)]
      ]);
      break;
    }
    case "usb":
      driver = "usb-storage";
      removable = disk.removable ?? false;
      break;
    case "fdc":
      driver = "floppy";
      break;
    default:
      throw internal4(`unsupported disk bus '${disk.bus ?? ""}' with device setup`);
  }
  if (driver) o.driver = driver;
  addAddressProps(o, def2, disk.info, disk.bus);
  let writeCache;
  if (disk.device !== "lun") {
    const f = cachemodeFlags(disk.driver.cache ?? (disk.shareable && !disk.readonly ? "none" : void 0));
    if (f) writeCache = f.writeback;
  }
  let wpolicy = disk.driver.errorPolicy;
  let rpolicy = disk.driver.rerrorPolicy;
  if (wpolicy === "enospace") wpolicy = "enospc";
  else if (!rpolicy) rpolicy = wpolicy;
  let wwn;
  const drive = disk.src.type === "vhostuser" || emptyDrive ? void 0 : diskBackendNode(state, disk);
  addProps(o, [
    ["device_id", scsiVPD],
    ["share-rw", disk.shareable ? true : void 0],
    ["drive", drive],
    ["chardev", disk.src.type === "vhostuser" ? `chr-vu-${disk.info.alias ?? ""}` : void 0],
    ["id", disk.info.alias ?? ""],
    ["bootindex", disk.device !== "floppy" ? nz(bootindex) : void 0],
    ["logical_block_size", nz(disk.blockio?.logicalBlockSize)],
    ["physical_block_size", nz(disk.blockio?.physicalBlockSize)],
    ["discard_granularity", nz(disk.blockio?.discardGranularity)]
  ]);
  if (disk.wwn) {
    wwn = BigInt(`0x${disk.wwn.replace(/^0x/, "")}`);
    o.wwn = wwn;
  }
  addProps(o, [
    ["rotation_rate", nz(disk.rotationRate)],
    ["vendor", disk.vendor],
    ["product", disk.product],
    ["removable", removable],
    ["write-cache", onOff(writeCache)],
    ["cyls", nz(disk.geometry?.cylinders)],
    ["heads", nz(disk.geometry?.heads)],
    ["secs", nz(disk.geometry?.sectors)],
    ["bios-chs-trans", disk.geometry?.trans],
    ["serial", disk.serial !== void 0 ? escapeSpaces(disk.serial) : void 0],
    ["werror", wpolicy],
    ["rerror", rpolicy]
  ]);
  return o;
}
var USB_MODEL_DRIVER = {
  "piix3-uhci": "piix3-usb-uhci",
  "piix4-uhci": "piix4-usb-uhci",
  ehci: "usb-ehci",
  "ich9-ehci1": "ich9-usb-ehci1",
  "ich9-uhci1": "ich9-usb-uhci1",
  "ich9-uhci2": "ich9-usb-uhci2",
  "ich9-uhci3": "ich9-usb-uhci3",
  "vt82c686b-uhci": "vt82c686b-usb-uhci",
  "pci-ohci": "pci-ohci",
  "nec-xhci": "nec-usb-xhci",
  "qemu-xhci": "qemu-xhci"
};
var USB_MODEL_CAP = {
  "piix3-uhci": "piix3-usb-uhci",
  "piix4-uhci": "piix4-usb-uhci",
  ehci: "usb-ehci",
  "ich9-ehci1": "ich9-usb-ehci1",
  "ich9-uhci1": "ich9-usb-ehci1",
  "ich9-uhci2": "ich9-usb-ehci1",
  "ich9-uhci3": "ich9-usb-ehci1",
  "vt82c686b-uhci": "vt82c686b-usb-uhci",
  "pci-ohci": "pci-ohci",
  "nec-xhci": "nec-usb-xhci",
  "qemu-xhci": "qemu-xhci"
};
function unsupported3(msg) {
  return new VirtError14("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function controllerDevProps(def2, c, caps2) {
  let o;
  switch (c.type) {
    case "scsi":
      switch (c.model) {
        case "virtio-scsi":
        case "virtio-transitional":
        case "virtio-non-transitional":
          o = virtioDevProps("virtio-scsi", c.info, caps2, c.model === "virtio-scsi" ? void 0 : c.model, c.driver?.virtio);
          addProps(o, [
            ["iothread", c.driver?.iothread ? `iothread${c.driver.iothread}` : void 0],
            ["id", c.info.alias ?? ""],
            ["num_queues", nz(c.driver?.queues)],
            ["cmd_per_lun", nz(c.driver?.cmdPerLun)],
            ["max_sectors", nz(c.driver?.maxSectors)],
            ["ioeventfd", c.driver?.ioeventfd]
          ]);
          break;
        default: {
          const drivers = {
            lsilogic: "lsi",
            ibmvscsi: "spapr-vscsi",
            lsisas1068: "mptsas1068",
            lsisas1078: "megasas",
            vmpvscsi: "pvscsi",
            am53c974: "am53c974",
            dc390: "dc-390"
          };
          const d = drivers[c.model ?? ""];
          if (!d) throw unsupported3(`Unsupported controller model: ${c.model ?? ""}`);
          o = props([["driver", d], ["id", c.info.alias ?? ""]]);
        }
      }
      break;
    case "virtio-serial":
      o = virtioDevProps("virtio-serial", c.info, caps2, c.model === "virtio" ? void 0 : c.model, c.driver?.virtio);
      addProps(o, [["id", c.info.alias ?? ""], ["max_ports", c.ports], ["vectors", c.vectors]]);
      break;
    case "ccid":
      o = props([["driver", "usb-ccid"], ["id", c.info.alias ?? ""]]);
      break;
    case "sata":
      o = props([["driver", "ahci"], ["id", c.info.alias ?? ""]]);
      break;
    case "usb": {
      if (!c.model) throw unsupported3("no model provided for USB controller");
      const cap = USB_MODEL_CAP[c.model];
      if (!cap || !caps2.has(cap)) throw unsupported3(`USB controller model '${c.model}' not supported in this QEMU binary`);
      if (c.ports !== void 0 && c.model !== "nec-xhci" && c.model !== "qemu-xhci") {
        throw unsupported3(`usb controller type '${c.model}' doesn't support 'ports' with this QEMU binary`);
      }
      o = props([["driver", USB_MODEL_DRIVER[c.model]], ["p2", c.ports], ["p3", c.ports]]);
      if (c.info.usbMasterStartport !== void 0) {
        const master = def2.devices.controllers.find((x) => x.type === "usb" && x.index === c.index && x.info.usbMasterStartport === void 0);
        if (!master?.info.alias) throw internal4("masterbus not found");
        addProps(o, [["masterbus", `${master.info.alias}.0`], ["firstport", c.info.usbMasterStartport]]);
      } else o.id = c.info.alias ?? "";
      break;
    }
    case "pci": {
      const p = c.pci ?? {};
      const name = p.modelName;
      if (c.model === "pci-root" && name === "spapr-pci-host-bridge" && p.targetIndex === 0) return void 0;
      if (!name) throw internal4(`Unknown PCI controller model name for controller ${c.index}`);
      switch (c.model) {
        case "pci-bridge":
          o = props([["driver", name], ["chassis_nr", p.chassisNr ?? c.index], ["id", c.info.alias ?? ""]]);
          break;
        case "pci-expander-bus":
        case "pcie-expander-bus":
          o = props([["driver", name], ["bus_nr", p.busNr ?? -1], ["id", c.info.alias ?? ""], ["numa_node", p.numaNode]]);
          break;
        case "dmi-to-pci-bridge":
        case "pcie-switch-upstream-port":
        case "pcie-to-pci-bridge":
          o = props([["driver", name], ["id", c.info.alias ?? ""]]);
          break;
        case "pcie-root-port":
        case "pcie-switch-downstream-port":
          o = props([["driver", name], ["port", p.port ?? 0], ["chassis", p.chassis ?? 0], ["id", c.info.alias ?? ""], ["hotplug", p.hotplug]]);
          break;
        case "pci-root":
          o = props([["driver", name], ["index", p.targetIndex ?? 0], ["id", c.info.alias ?? ""], ["numa_node", p.numaNode]]);
          break;
        default:
          throw unsupported3("Unsupported PCI Express root controller");
      }
      break;
    }
    default:
      throw unsupported3(`Unsupported controller type: ${c.type}`);
  }
  if (!o) return void 0;
  return addAddressProps(o, def2, c.info);
}

// src/command/graphics.ts
import { VirtError as VirtError15, SPICE_CHANNELS } from "@virtkit/core";
function unsupported4(msg) {
  return new VirtError15("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function internal5(msg) {
  return new VirtError15("INTERNAL_ERROR", msg, { origin: "qemu" });
}
var AUDIO_DRIVER = { pulseaudio: "pa", file: "wav" };
function audioIdString(def2, id) {
  const a = id ? def2.devices.audios.find((x) => x.id === id) : def2.devices.audios[0];
  if (!a) throw internal5("unable to find audio backend for sound device");
  return `audio${a.id}`;
}
function val(v) {
  if (v === "yes") return true;
  if (v === "no") return false;
  if (/^-?[0-9]+$/.test(v)) return Number(v);
  return v;
}
var IO_PROP = {
  dev: "dev",
  bufferCount: "buffer-count",
  tryPoll: "try-poll",
  serverName: "server-name",
  clientName: "client-name",
  connectPorts: "connect-ports",
  exactName: "exact-name",
  name: "name",
  streamName: "stream-name",
  latency: "latency"
};
function audioIo(io) {
  if (!io) return void 0;
  const o = {};
  const fixed = io.fixedSettings === true;
  addProps(o, [
    ["mixing-engine", io.mixingEngine],
    ["fixed-settings", io.fixedSettings],
    ["voices", nz(io.voices)],
    ["buffer-length", nz(io.bufferLength)],
    ["frequency", fixed ? nz(io.settings?.frequency) : void 0],
    ["channels", fixed ? nz(io.settings?.channels) : void 0],
    ["format", fixed ? io.settings?.format : void 0]
  ]);
  for (const [k, v] of io.extra) {
    const p = IO_PROP[k];
    if (p) o[p] = k === "dev" || k.endsWith("Name") || k === "connectPorts" || k === "name" ? v : val(v);
  }
  return Object.keys(o).length ? o : void 0;
}
function buildAudio(cmd, state) {
  for (const a of state.def.devices.audios) {
    const o = props([["id", `audio${a.id}`], ["driver", AUDIO_DRIVER[a.type] ?? a.type], ["timer-period", nz(a.timerPeriod)]]);
    const extra = new Map(a.extra);
    if (a.type === "oss") {
      addProps(o, [
        ["try-mmap", extra.has("tryMMap") ? extra.get("tryMMap") === "yes" : void 0],
        ["exclusive", extra.has("exclusive") ? extra.get("exclusive") === "yes" : void 0],
        ["dsp-policy", extra.has("dspPolicy") ? Number(extra.get("dspPolicy")) : void 0]
      ]);
    } else if (a.type === "pulseaudio") addProps(o, [["server", extra.get("serverName")]]);
    else if (a.type === "sdl") {
      const d = extra.get("driver");
      if (d) cmd.setEnv("SDL_AUDIODRIVER", d);
    } else if (a.type === "file") addProps(o, [["path", extra.get("path")]]);
    addProps(o, [["in", audioIo(a.input)], ["out", audioIo(a.output)]]);
    cmd.arg("-audiodev", toJson(o));
  }
}
function vnc(cmd, state, g2) {
  const { cfg, def: def2 } = state;
  const audio = audioIdString(def2, g2.audioId);
  const l = g2.listens[0];
  if (!l) throw internal5("missing listen element");
  let s = "";
  switch (l.type) {
    case "socket":
      s = `vnc=unix:${escapeComma(l.socket ?? "")}`;
      break;
    case "address":
    case "network": {
      const port = g2.port ?? 0;
      if (!g2.autoport && (port < 5900 || port > 65535)) throw unsupported4("vnc port must be in range [5900,65535]");
      if (l.address) s += l.address.includes(":") ? `[${l.address}]` : l.address;
      s += `:${port - 5900}`;
      if (g2.websocket) s += `,websocket=${g2.websocket}`;
      break;
    }
    case "none":
      s = "none";
      break;
  }
  if (g2.sharePolicy) s += `,share=${g2.sharePolicy}`;
  if (g2.auth?.passwd !== void 0 || cfg.vncPassword) s += ",password=on";
  if (cfg.vncTLS) {
    const alias = "vnc-tls-creds0";
    let secretAlias;
    if (cfg.vncTLSx509secretUUID) {
      const sec = state.secret(`${alias}-secret0`, state.lookupSecret({ uuid: cfg.vncTLSx509secretUUID }, "tls"));
      cmd.arg("-object", toJson(secretProps(sec)));
      secretAlias = sec.alias;
    }
    cmd.arg("-object", toJson(tlsCredsProps(cfg.vncTLSx509certdir, true, cfg.vncTLSx509verify, alias, secretAlias)));
    s += `,tls-creds=${alias}`;
  }
  if (cfg.vncSASL) {
    s += ",sasl=on";
    if (cfg.vncSASLdir) cmd.setEnv("SASL_CONF_PATH", cfg.vncSASLdir);
  }
  if (g2.powerControl !== void 0) s += `,power-control=${g2.powerControl ? "on" : "off"}`;
  s += `,audiodev=${audio}`;
  cmd.arg("-vnc", s);
  if (g2.keymap) cmd.arg("-k", g2.keymap);
}
function spice(cmd, state, g2) {
  const { cfg } = state;
  const l = g2.listens[0];
  if (!l) throw internal5("missing listen element");
  let s = "";
  let hasSecure = false;
  let hasInsecure = false;
  const port = g2.port ?? 0;
  const tlsPort = g2.tlsPort ?? 0;
  switch (l.type) {
    case "socket":
      s += `unix,addr=${escapeComma(l.socket ?? "")},`;
      hasInsecure = true;
      break;
    case "address":
    case "network":
      if (port > 0) {
        s += `port=${port},`;
        hasInsecure = true;
      }
      if (tlsPort > 0) {
        s += `tls-port=${tlsPort},`;
        hasSecure = true;
      }
      if ((port > 0 || tlsPort > 0) && l.address) s += `addr=${l.address},`;
      break;
    case "none":
      s += "port=0,";
      hasInsecure = true;
      break;
  }
  if (cfg.spiceSASL) {
    s += "sasl=on,";
    if (cfg.spiceSASLdir) cmd.setEnv("SASL_CONF_PATH", cfg.spiceSASLdir);
  }
  if (g2.mouseMode === "server") s += "agent-mouse=off,";
  else if (g2.mouseMode === "client") s += "agent-mouse=on,";
  if (g2.auth?.passwd === void 0 && !cfg.spicePassword) s += "disable-ticketing=on,";
  if (hasSecure) s += `x509-dir=${escapeComma(cfg.spiceTLSx509certdir)},`;
  if (g2.defaultMode === "secure") {
    if (!hasSecure) throw unsupported4("spice defaultMode secure requested in XML configuration, but TLS connection is not available");
    s += "tls-channel=default,";
  } else if (g2.defaultMode === "insecure") {
    if (!hasInsecure) throw unsupported4("spice defaultMode insecure requested in XML configuration, but plaintext connection is not available");
    s += "plaintext-channel=default,";
  }
  for (const ch of SPICE_CHANNELS) {
    const m = g2.channels?.[ch];
    if (m === "secure") {
      if (!hasSecure) throw unsupported4("spice secure channels set in XML configuration, but TLS connection is not available");
      s += `tls-channel=${ch},`;
    } else if (m === "insecure") {
      if (!hasInsecure) throw unsupported4("spice insecure channels set in XML configuration, but plaintext connection is not available");
      s += `plaintext-channel=${ch},`;
    }
  }
  if (g2.imageCompression) s += `image-compression=${g2.imageCompression},`;
  if (g2.jpegCompression) s += `jpeg-wan-compression=${g2.jpegCompression},`;
  if (g2.zlibCompression) s += `zlib-glz-wan-compression=${g2.zlibCompression},`;
  if (g2.playbackCompression !== void 0) s += `playback-compression=${g2.playbackCompression ? "on" : "off"},`;
  if (g2.streamingMode) s += `streaming-video=${g2.streamingMode},`;
  if (g2.copypaste === false) s += "disable-copy-paste=on,";
  if (g2.filetransfer === false) s += "disable-agent-file-xfer=on,";
  if (g2.gl?.enable) {
    s += "gl=on,";
    if (g2.gl.rendernode) s += `rendernode=${escapeComma(g2.gl.rendernode)},`;
  }
  s += "seamless-migration=on";
  cmd.arg("-spice", s);
  if (g2.keymap) cmd.arg("-k", g2.keymap);
}
function buildGraphics(cmd, state) {
  for (const g2 of state.def.devices.graphics) {
    switch (g2.type) {
      case "sdl": {
        if (g2.xauth) cmd.setEnv("XAUTHORITY", g2.xauth);
        if (g2.display) cmd.setEnv("DISPLAY", g2.display);
        if (g2.fullscreen) cmd.arg("-full-screen");
        let s = "sdl";
        if (g2.gl?.enable !== void 0) s += `,gl=${g2.gl.enable ? "on" : "off"}`;
        cmd.arg("-display", s);
        break;
      }
      case "vnc":
        vnc(cmd, state, g2);
        break;
      case "spice":
        spice(cmd, state, g2);
        break;
      case "egl-headless": {
        let s = "egl-headless";
        if (g2.gl?.rendernode) s += `,rendernode=${escapeComma(g2.gl.rendernode)}`;
        cmd.arg("-display", s);
        break;
      }
      case "dbus": {
        let s = "dbus";
        if (g2.p2p) s += ",p2p=on";
        else s += `,addr=${escapeComma(g2.dbusAddress ?? "")}`;
        if (g2.gl?.enable !== void 0) s += `,gl=${g2.gl.enable ? "on" : "off"}`;
        if (g2.gl?.rendernode) s += `,rendernode=${escapeComma(g2.gl.rendernode)}`;
        if (g2.audioId) s += `,audiodev=${audioIdString(state.def, g2.audioId)}`;
        cmd.arg("-display", s);
        break;
      }
      default:
        throw unsupported4(`unsupported graphics type '${g2.type}'`);
    }
  }
}
function supportsVideoVga(v, caps2) {
  if (v.type === "virtio") {
    if (v.backend === "vhostuser") return caps2.has("vhost-user-vga");
    return caps2.has("virtio-vga");
  }
  return true;
}
function videoModel(v, caps2) {
  const primaryVga = !!v.primary && supportsVideoVga(v, caps2);
  const accel3d = v.accel?.accel3d === true;
  if (v.backend === "vhostuser") return primaryVga ? { model: "vhost-user-vga", virtio: false, busSuffix: false } : { model: "vhost-user-gpu", virtio: true, busSuffix: true };
  if (primaryVga) {
    switch (v.type) {
      case "vga":
        return { model: "VGA", virtio: false, busSuffix: false };
      case "cirrus":
        return { model: "cirrus-vga", virtio: false, busSuffix: false };
      case "vmvga":
        return { model: "vmware-svga", virtio: false, busSuffix: false };
      case "qxl":
        return { model: "qxl-vga", virtio: false, busSuffix: false };
      case "virtio":
        return { model: caps2.has("virtio-vga-gl") && accel3d ? "virtio-vga-gl" : "virtio-vga", virtio: true, busSuffix: false };
      case "bochs":
        return { model: "bochs-display", virtio: false, busSuffix: false };
      case "ramfb":
        return { model: "ramfb", virtio: false, busSuffix: false };
      default:
        break;
    }
  } else {
    switch (v.type) {
      case "qxl":
        return { model: "qxl", virtio: false, busSuffix: false };
      case "virtio":
        return { model: caps2.has("virtio-gpu-gl-pci") && accel3d ? "virtio-gpu-gl" : "virtio-gpu", virtio: true, busSuffix: true };
      default:
        break;
    }
  }
  throw internal5(`invalid model for video type '${v.type ?? ""}'`);
}
function buildVideos(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  for (const v of def2.devices.videos) {
    if (v.type === "none") continue;
    const alias = v.info.alias ?? "";
    if (v.backend === "vhostuser") {
      const fd = state.fakeFds?.vhostUserGpu;
      cmd.arg("-chardev", fd !== void 0 ? `socket,id=chr-vu-${alias},fd=${fd}` : `socket,id=chr-vu-${alias},path=${escapeComma(`${state.libDir}/${alias}-vhost-user-gpu.sock`)}`);
    }
    const m = videoModel(v, caps2);
    let o;
    if (m.virtio) {
      const base = m.busSuffix ? m.model : m.model;
      o = virtioDevProps(base, v.info, caps2, void 0, v.virtio, m.busSuffix);
    } else o = props([["driver", m.model]]);
    let virgl;
    if (v.backend !== "vhostuser" && v.type === "virtio" && v.accel && caps2.has("virtio-gpu.virgl")) virgl = v.accel.accel3d;
    const maxOutputs = v.type === "qxl" || v.type === "virtio" ? nz(v.heads) : void 0;
    addProps(o, [["id", alias], ["virgl", virgl], ["max_outputs", maxOutputs]]);
    if (v.type === "qxl") {
      addProps(o, [["ram_size", nz((v.ram ?? 0) * 1024)], ["vram_size", nz((v.vram ?? 0) * 1024)]]);
      if (caps2.has("qxl.vram64_size_mb")) o.vram64_size_mb = Math.floor((v.vram64 ?? 0) / 1024);
      if (caps2.has("qxl.vgamem_mb")) o.vgamem_mb = Math.floor((v.vgamem ?? 0) / 1024);
    } else if (v.backend === "vhostuser") {
      o.chardev = `chr-vu-${alias}`;
    } else if (v.type === "vga" && caps2.has("VGA.vgamem_mb") || v.type === "vmvga" && caps2.has("vmware-svga.vgamem_mb")) {
      addProps(o, [["vgamem_mb", nz(Math.floor((v.vram ?? 0) / 1024))]]);
    } else if (v.type === "bochs") addProps(o, [["vgamem", nz((v.vram ?? 0) * 1024)]]);
    if (v.resolution) addProps(o, [["xres", nz(v.resolution.x)], ["yres", nz(v.resolution.y)]]);
    addAddressProps(o, def2, v.info);
    cmd.arg("-device", toJson(o));
  }
}

// src/command/prepare.ts
import {
  SPICE_CHANNELS as SPICE_CHANNEL_NAMES,
  VirtError as VirtError16
} from "@virtkit/core";

// src/command/host-probe.ts
import { readFileSync, readdirSync, realpathSync } from "node:fs";
import { basename } from "node:path";
function isCdromDevice(path) {
  try {
    const dev = basename(realpathSync(path));
    return readFileSync(`/sys/class/block/${dev}/device/type`, "utf8").trim() === "5";
  } catch {
    return false;
  }
}
function hostDrmRenderNode() {
  try {
    const nodes = readdirSync("/dev/dri").filter((n) => n.startsWith("renderD")).sort();
    return nodes[0] ? `/dev/dri/${nodes[0]}` : void 0;
  } catch {
    return void 0;
  }
}

// src/command/prepare.ts
function internal6(msg) {
  return new VirtError16("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function unsupported5(msg) {
  return new VirtError16("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function memoryInitial(def2) {
  const cells = def2.cpu?.numa?.cells;
  if (cells && cells.length) return cells.reduce((a, c) => a + c.memory, 0);
  let hot = 0;
  for (const m of def2.devices.memories) hot += m.size;
  return def2.memory.total - hot;
}
function hasMemoryHotplug(def2) {
  return !!def2.memory.max && !!def2.memory.slots;
}
var roundUp = (n, a) => Math.ceil(n / a) * a;
function alignMemorySizes(def2) {
  const align = 1024;
  let initial = 0;
  const cells = def2.cpu?.numa?.cells ?? [];
  for (const c of cells) {
    c.memory = roundUp(c.memory, align);
    initial += c.memory;
  }
  if (initial === 0) initial = roundUp(memoryInitial(def2), align);
  if (def2.memory.max) def2.memory.max = roundUp(def2.memory.max, align);
  let hot = 0;
  for (const m of def2.devices.memories) {
    m.size = roundUp(m.size, 2048);
    hot += m.size;
  }
  def2.memory.total = initial + hot;
}
function prepareBootorder(def2, bootIndex) {
  const d = def2.devices;
  for (const disk of d.disks) if (disk.info.bootOrder) bootIndex.set(disk.info, disk.info.bootOrder);
  for (const n of d.interfaces) if (n.info.bootOrder) bootIndex.set(n.info, n.info.bootOrder);
  for (const h of d.hostdevs) if (h.info.bootOrder) bootIndex.set(h.info, h.info.bootOrder);
  const devs = def2.os.bootDevs;
  if (!devs.length) return;
  let cd = 0;
  let fd = 0;
  let hd = 0;
  let net = 0;
  devs.forEach((b, i) => {
    if (b === "cdrom") cd = i + 1;
    else if (b === "fd") fd = i + 1;
    else if (b === "hd") hd = i + 1;
    else if (b === "network") net = i + 1;
  });
  for (const disk of d.disks) {
    if (disk.device === "cdrom") {
      if (cd) bootIndex.set(disk.info, cd);
      cd = 0;
    } else if (disk.device === "floppy") {
      if (fd) bootIndex.set(disk.info, fd);
      fd = 0;
    } else {
      if (hd) bootIndex.set(disk.info, hd);
      hd = 0;
    }
  }
  if (d.interfaces.length && net) {
    const n0 = d.interfaces[0];
    if (n0.type === "hostdev") {
      const h = d.hostdevs.find((x) => x.mode === "subsystem" && x.type === "pci" && x.info === n0.info);
      if (h) bootIndex.set(h.info, net);
    } else bootIndex.set(n0.info, net);
  }
}
function prepareGraphics(state) {
  const { def: def2, cfg, opts, caps: caps2 } = state;
  for (const g2 of def2.devices.graphics) {
    const wantsNode = g2.type === "egl-headless" || (g2.type === "spice" || g2.type === "dbus") && g2.gl?.enable === true;
    if (wantsNode && !g2.gl?.rendernode && (g2.type !== "spice" || caps2.has("spice-rendernode"))) {
      const node = (opts.drmRenderNode ?? hostDrmRenderNode)();
      if (!node) throw new VirtError16("INTERNAL_ERROR", "no DRM render nodes available", { origin: "qemu" });
      g2.gl = { ...g2.gl, rendernode: node };
    }
  }
  for (const g2 of def2.devices.graphics) {
    if (g2.type !== "vnc" && g2.type !== "spice") continue;
    const kind = g2.type;
    const useSocket = kind === "vnc" ? cfg.vncAutoUnixSocket : cfg.spiceAutoUnixSocket;
    const listenAddr = kind === "vnc" ? cfg.vncListen : cfg.spiceListen;
    if (!g2.listens.length) g2.listens.push({ type: "address" });
    for (let i = 0; i < g2.listens.length; i++) {
      const l = g2.listens[i];
      if (l.type === "address" && !l.address) {
        if (useSocket) g2.listens[i] = { type: "socket", socket: `${state.libDir}/${kind}.sock`, fromConfig: true };
        else if (listenAddr) {
          l.address = listenAddr;
          l.fromConfig = true;
        }
      } else if (l.type === "socket" && !l.socket) {
        l.socket = `${state.libDir}/${kind}.sock`;
        l.autoGenerated = true;
      }
    }
  }
  for (const g2 of def2.devices.graphics) {
    const l = g2.listens[0];
    if (l && l.type !== "address" && l.type !== "network") continue;
    if (g2.type === "vnc") {
      if (g2.autoport) g2.port = opts.allocatePort ? opts.allocatePort("display") : 5900;
      if (g2.websocket === -1) g2.websocket = opts.allocatePort ? opts.allocatePort("websocket") : 5700;
    } else if (g2.type === "spice") {
      let needPort = false;
      let needTls = false;
      if (g2.autoport) {
        for (const ch of SPICE_CHANNEL_NAMES) {
          const mode = g2.channels?.[ch];
          if (mode === "secure") needTls = true;
          else if (mode === "insecure") needPort = true;
          else {
            if (cfg.spiceTLS) needTls = true;
            needPort = true;
          }
        }
      }
      if (needPort || g2.port === -1) g2.port = opts.allocatePort ? opts.allocatePort("display") : 5901;
      if (needTls || g2.tlsPort === -1) g2.tlsPort = opts.allocatePort ? opts.allocatePort("display") : 5902;
    }
  }
}
function cachemodeOf(disk) {
  const c = disk.driver.cache;
  if (!c && disk.shareable && !disk.readonly) return "none";
  return c;
}
function chain(src) {
  const out2 = [];
  let n = src;
  while (n) {
    out2.push(n);
    n = n.backingStore;
  }
  return out2;
}
function isEmptySource(src) {
  if (src.type === "network" || src.type === "nvme" || src.type === "vhostuser") return false;
  if (src.type === "volume") return !src.pool;
  return !src.path && !src.fdgroup;
}
function translateVolume(state, disk) {
  const src = disk.src;
  if (src.type !== "volume" || !src.pool || !src.volume) return;
  const what = `disk '${disk.dst}'`;
  const pool = state.opts.lookupPool?.(src.pool);
  if (!pool) throw new VirtError16("NO_STORAGE_POOL", `${what}: storage pool '${src.pool}' not found`, { origin: "qemu" });
  const vol = state.opts.lookupVolume?.(src.pool, src.volume);
  if (!vol) throw new VirtError16("NO_STORAGE_VOL", `${what}: storage volume '${src.volume}' not found in pool '${src.pool}'`, { origin: "qemu" });
  if (src.volumeMode && pool.type !== "iscsi") {
    throw unsupported5(`${what}: disk source mode is only valid when storage pool is of iscsi type`);
  }
  delete src.hosts;
  delete src.auth;
  switch (pool.type) {
    case "dir":
    case "fs":
    case "netfs":
    case "logical":
    case "disk":
    case "scsi":
    case "zfs":
    case "vstorage": {
      if (src.startupPolicy && vol.type !== "file") throw unsupported5(`${what}: 'startupPolicy' is only valid for 'file' type volume`);
      if (vol.type === "file" || vol.type === "ploop") src.type = "file";
      else if (vol.type === "dir") src.type = "dir";
      else if (vol.type === "block") src.type = "block";
      else throw unsupported5(`${what}: unexpected storage volume type '${vol.type}' for storage pool type '${pool.type}'`);
      src.path = vol.path;
      break;
    }
    case "iscsi": {
      if (src.startupPolicy) throw unsupported5(`${what}: 'startupPolicy' is only valid for 'file' type volume`);
      if (src.volumeMode !== "direct") {
        src.volumeMode = "host";
        src.type = "block";
        src.path = vol.path;
        break;
      }
      src.type = "network";
      src.protocol = "iscsi";
      const pauth = pool.source.auth;
      if (pauth) {
        src.auth = { username: pauth.username, secret: { type: pauth.secretType ?? "iscsi", ...pauth.secret } };
        if (pauth.type) src.auth.authType = pauth.type;
      }
      const host = pool.source.hosts[0];
      if (!host) throw internal6(`${what}: iSCSI storage pool '${pool.name}' has no host`);
      const tokens = src.volume.split(":");
      if (tokens.length !== 4) throw unsupported5(`${what}: unexpected iscsi volume name '${src.volume}'`);
      src.hosts = [{ name: host.name, port: host.port || 3260, transport: "tcp" }];
      src.path = `${pool.source.devices[0]?.path ?? ""}/${tokens[3]}`;
      break;
    }
    default:
      throw unsupported5(`${what}: using '${pool.type}' pools for backing 'volume' disks isn't yet supported`);
  }
  if (!src.format) src.format = "raw";
}
function prepareSourceTls(state, src, priv) {
  const { cfg } = state;
  if (src.type !== "network") return;
  if (src.protocol === "nbd") {
    const tls = src.tls ?? (cfg.nbdTLS ? true : void 0);
    if (!tls) return;
    priv.tlsAlias = `obj${priv.storageNode}_tls0`;
    priv.tlsCertdir = cfg.nbdTLSx509certdir;
    if (cfg.nbdTLSx509secretUUID) {
      priv.tlsKeySecret = state.secret(`${priv.tlsAlias}-secret0`, state.lookupSecret({ uuid: cfg.nbdTLSx509secretUUID }, "tls"));
    }
  } else if (src.protocol === "vxhs") {
    const tls = src.tls ?? (cfg.vxhsTLS ? true : void 0);
    if (!tls) return;
    priv.tlsAlias = `obj${priv.storageNode}_tls0`;
    priv.tlsCertdir = cfg.vxhsTLSx509certdir;
  }
}
function prepareSource(state, disk, src, top) {
  const id = ++state.nodeIndex;
  const priv = {
    id,
    storageNode: `libvirt-${id}-storage`,
    formatNode: `libvirt-${id}-format`,
    readonly: top ? !!disk?.readonly || disk?.device === "cdrom" : true,
    shared: top ? !!disk?.shareable : false
  };
  if (src.slices && src.slices.length && (src.format !== "raw" || src.encryption)) priv.sliceNode = `libvirt-${id}-slice-sto`;
  if (disk) {
    if (top && disk.driver.detectZeroes) priv.detectZeroes = disk.driver.detectZeroes;
    if (disk.driver.io) priv.iomode = disk.driver.io;
    const cache = cachemodeOf(disk);
    if (cache) priv.cachemode = cache;
    if (disk.driver.discard) priv.discard = disk.driver.discard;
    if (disk.device === "floppy") priv.floppyimg = true;
    const res = src.reservations;
    if (top && res && res.enabled !== false) {
      priv.prManager = res.managed ? { alias: MANAGED_PR_ALIAS } : { alias: `pr-helper-${priv.storageNode}`, path: res.source?.path ?? "" };
    }
    if (top && disk.device === "cdrom" && src.type === "block" && src.format === "raw" && src.path) {
      if ((state.opts.isCdrom ?? isCdromDevice)(src.path)) priv.hostcdrom = true;
    }
  }
  state.src.set(src, priv);
  const enc = src.encryption;
  if (enc && enc.engine !== "librbd" && (enc.format === "luks" || enc.format === "qcow")) {
    priv.encSecrets = enc.secrets.map((ref, i) => state.secret(`${priv.formatNode}-encryption-secret${i}`, state.lookupSecret(ref, "volume")));
  } else if (enc && enc.engine === "librbd") {
    priv.encSecrets = enc.secrets.map((ref, i) => state.secret(`${priv.formatNode}-encryption-secret${i}`, state.lookupSecret(ref, "volume")));
  }
  if (src.auth && src.type === "network") {
    const usage = src.protocol === "rbd" ? "ceph" : "iscsi";
    priv.authSecret = state.secret(`${priv.storageNode}-auth-secret0`, state.lookupSecret(src.auth.secret, usage), src.auth.username);
  }
  prepareSourceTls(state, src, priv);
  if (src.type === "network" && src.protocol === "gluster") priv.debugLevel = 4;
  if (src.fdgroup) {
    const fds = state.opts.fdGroups?.[src.fdgroup];
    if (!fds) throw new VirtError16("INVALID_ARG", `file descriptor group '${src.fdgroup}' was not associated with the domain`, { origin: "qemu" });
    const pass = state.newFdPass();
    fds.forEach((fd, i) => pass.fds.push({ fd, opaque: `${priv.storageNode}${i}` }));
    priv.fdpass = pass;
  }
  return priv;
}
function prepareStorage(state) {
  const disks = state.def.devices.disks;
  for (let i = disks.length - 1; i >= 0; i--) {
    const disk = disks[i];
    translateVolume(state, disk);
    if (disk.src.type === "vhostuser") continue;
    if (disk.driver.copyOnRead === true) state.corNodes.set(disk.dst, `libvirt-CoR-${disk.dst}`);
    chain(disk.src).forEach((src, idx) => prepareSource(state, disk, src, idx === 0));
  }
}
function prepareChardev(state, src, devAlias, allowDirectFd = true) {
  const priv = state.chrPriv(src);
  const fake = state.fakeFds;
  const { cfg } = state;
  if (src.type === "tcp") {
    const tls = src.tls ?? (cfg.chardevTLS ? true : void 0);
    if (tls && cfg.chardevTLS) {
      priv.tlsCertPath = cfg.chardevTLSx509certdir;
      priv.tlsVerify = src.listen ? cfg.chardevTLSx509verify : true;
      if (cfg.chardevTLSx509secretUUID) {
        priv.tlsSecret = state.secret(`char${devAlias}-secret0`, state.lookupSecret({ uuid: cfg.chardevTLSx509secretUUID }, "tls"));
      }
    }
  }
  if (!fake) return;
  if (src.type === "file") {
    const p = state.newFdPass();
    p.fds.push({ fd: fake.chardevFile, opaque: `${devAlias}-source` });
    priv.sourceFd = p;
  } else if (src.type === "unix" && src.listen && allowDirectFd) {
    priv.directFd = fake.chardevListen;
  }
  if (src.log) {
    const p = state.newFdPass();
    p.fds.push({ fd: fake.chardevLog, opaque: `${devAlias}-log` });
    priv.logFd = p;
  }
}
function prepareChardevs(state) {
  const d = state.def.devices;
  for (const c of d.serials) prepareChardev(state, c.source, c.info.alias ?? "");
  for (const c of d.parallels) prepareChardev(state, c.source, c.info.alias ?? "");
  for (const c of d.channels) prepareChardev(state, c.source, c.info.alias ?? "");
  d.consoles.forEach((c, i) => {
    if (i === 0 && c.targetType === "serial" && d.serials.length) return;
    prepareChardev(state, c.source, c.info.alias ?? "");
  });
  for (const s of d.smartcards) if (s.passthrough) prepareChardev(state, s.passthrough, s.info.alias ?? "");
  for (const r of d.redirdevs) prepareChardev(state, r.source, r.info.alias ?? "");
  for (const r of d.rngs) if (r.chardev) prepareChardev(state, r.chardev, r.info.alias ?? "");
  for (const n of d.interfaces) if (n.type === "vhostuser" && n.vhostuser) state.chrPriv(n.vhostuser).wait = true;
}
function prepareChannelPaths(state) {
  for (const c of state.def.devices.channels) {
    if (c.targetType !== "virtio" || c.source.type !== "unix" || c.source.path) continue;
    if (!c.name) continue;
    c.source.path = `${state.cfg.channelTargetDir}/domain-${state.shortName}/${c.name}`;
  }
}
function ensureNvram(state) {
  const os = state.def.os;
  const l = os.loader;
  if (!l || l.type !== "pflash" || l.readonly !== true || l.stateless === true) return;
  if (os.nvram?.path || os.nvram?.source) return;
  os.nvram = { ...os.nvram, path: `${state.cfg.nvramDir}/${state.def.name}_VARS.fd` };
  if (!os.nvram.format && l.format) os.nvram.format = l.format;
}
var MANAGED_PR_ALIAS = "pr-helper0";
function hasManagedPR(def2) {
  return def2.devices.disks.some((d) => d.src.reservations?.managed === true && d.src.reservations.enabled !== false);
}
function prepareDomain(state) {
  const { def: def2, caps: caps2 } = state;
  if (!def2.os.firmware) ensureNvram(state);
  assignQemuAddresses(def2, caps2, true);
  assignDeviceAliases(def2);
  alignMemorySizes(def2);
  const bootIndex = /* @__PURE__ */ new Map();
  prepareBootorder(def2, bootIndex);
  prepareGraphics(state);
  prepareChannelPaths(state);
  prepareStorage(state);
  prepareChardevs(state);
  if (def2.devices.vsock && def2.devices.vsock.autoCid !== false && !def2.devices.vsock.cid) {
    def2.devices.vsock.cid = state.opts.vsockAutoCid ?? 3;
  }
  return { bootIndex };
}

// src/command/system.ts
import { VirtError as VirtError17, formatIdList } from "@virtkit/core";
function unsupported6(msg) {
  return new VirtError17("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function internal7(msg) {
  return new VirtError17("INTERNAL_ERROR", msg, { origin: "qemu" });
}
function buildName(cmd, state) {
  let s = `guest=${escapeComma(state.def.name)}`;
  if (state.cfg.setProcessName) s += `,process=qemu:${state.def.name}`;
  s += ",debug-threads=on";
  cmd.arg("-name", s);
}
function defaultRamId(state) {
  const m = state.caps.machines(accelOf(state.def)).find((x) => x.name === state.def.os.machine);
  return m?.defaultRamId;
}
function numaCells(def2) {
  return def2.cpu?.numa?.cells ?? [];
}
function buildMachine(cmd, state, pflash) {
  const { def: def2, caps: caps2, cfg } = state;
  const f = def2.features;
  let s = `${def2.os.machine ?? ""},usb=off`;
  if (f?.states.vmport !== void 0) s += `,vmport=${f.states.vmport ? "on" : "off"}`;
  if (f?.states.smm !== void 0) s += `,smm=${f.states.smm ? "on" : "off"}`;
  if (f?.states.gic) s += f.gicVersion && f.gicVersion !== "2" ? `,gic-version=${f.gicVersion}` : "";
  if (f?.ioapicDriver === "qemu") s += ",kernel_irqchip=split";
  else if (f?.ioapicDriver === "kvm") s += ",kernel_irqchip=on";
  if (f?.states.hpt && f.hpt) {
    if (f.hpt.resizing) s += `,resize-hpt=${f.hpt.resizing}`;
    if (f.hpt.maxpagesize) s += `,cap-hpt-max-page-size=${f.hpt.maxpagesize}k`;
  }
  if (f?.states.htm !== void 0) s += `,cap-htm=${f.states.htm ? "on" : "off"}`;
  if (f?.states["nested-hv"] !== void 0) s += `,cap-nested-hv=${f.states["nested-hv"] ? "on" : "off"}`;
  if (f?.states["ccf-assist"] !== void 0) s += `,cap-ccf-assist=${f.states["ccf-assist"] ? "on" : "off"}`;
  if (f?.cfpc) s += `,cap-cfpc=${f.cfpc}`;
  if (f?.sbbc) s += `,cap-sbbc=${f.sbbc}`;
  if (f?.ibs) s += `,cap-ibs=${f.ibs}`;
  if (def2.devices.iommu?.model === "smmuv3") s += ",iommu=smmuv3";
  const dump = def2.memory.dumpCore ?? cfg.dumpGuestCore;
  s += `,dump-guest-core=${dump ? "on" : "off"}`;
  if (def2.memoryBacking?.nosharepages) s += ",mem-merge=off";
  if (def2.devices.memories.some((m) => m.model === "nvdimm")) s += ",nvdimm=on";
  if (numaCells(def2).length === 0) {
    const ramId = defaultRamId(state);
    if (ramId) s += `,memory-backend=${ramId}`;
  }
  if (def2.cpu?.model && def2.cpu.mode === "host-model" && isPSeries(def2)) s += `,max-cpu-compat=${def2.cpu.model}`;
  if (def2.launchSecurity) s += caps2.has("confidential-guest-support") || def2.launchSecurity.type !== "sev" ? ",confidential-guest-support=lsec0" : ",memory-encryption=lsec0";
  if (pflash.pflash0) s += `,pflash0=${pflash.pflash0}`;
  if (pflash.pflash1) s += `,pflash1=${pflash.pflash1}`;
  if (def2.cpu?.numa?.interconnects?.length || numaCells(def2).some((c) => c.caches?.length)) s += ",hmat=on";
  if (def2.os.bios?.useserial) s += ",graphics=off";
  for (const t of def2.clock.timers) {
    if (t.name === "hpet" && caps2.has("machine-hpet") && t.present !== void 0) s += `,hpet=${t.present ? "on" : "off"}`;
  }
  const pcspk = def2.devices.sounds.find((x) => x.model === "pcspk");
  if (pcspk) s += `,pcspk-audiodev=audio${pcspk.audioId ?? 1}`;
  cmd.arg("-machine", s);
}
function buildAccel(cmd, def2) {
  let s;
  if (def2.type === "kvm") {
    s = "kvm";
    if (def2.features?.kvm?.["dirty-ring"]) s += `,dirty-ring-size=${def2.features.kvmDirtyRingSize ?? 0}`;
  } else if (def2.type === "hvf") s = "hvf";
  else {
    s = "tcg";
    if (def2.features?.states.tcg && def2.features.tcgTbCache) s += `,tb-size=${def2.features.tcgTbCache >> 10}`;
  }
  cmd.arg("-accel", s);
}
var CPU_FEATURE_QEMU = {
  cmp_legacy: "cmp-legacy",
  ds_cpl: "ds-cpl",
  fxsr_opt: "fxsr-opt",
  kvm_pv_eoi: "kvm-pv-eoi",
  kvm_pv_unhalt: "kvm-pv-unhalt",
  lahf_lm: "lahf-lm",
  nodeid_msr: "nodeid-msr",
  pclmuldq: "pclmulqdq",
  perfctr_core: "perfctr-core",
  perfctr_nb: "perfctr-nb",
  tsc_adjust: "tsc-adjust"
};
var HYPERV_ORDER = ["relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic"];
function buildCpu(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  const cpu = def2.cpu;
  let model = "";
  if (cpu && (cpu.mode !== "custom" || cpu.model)) {
    switch (cpu.mode) {
      case "host-passthrough":
      case "maximum":
        model = cpu.mode === "maximum" ? "max" : "host";
        if (cpu.migratable !== void 0 && caps2.has("cpu.migratable")) model += `,migratable=${cpu.migratable ? "on" : "off"}`;
        break;
      case "host-model":
        if (def2.os.arch === "ppc64" || def2.os.arch === "ppc64le") model = "host";
        else throw internal7(`unexpected host-model CPU for ${def2.os.arch ?? ""} architecture`);
        break;
      default:
        model = cpu.model ?? "";
    }
    if (cpu.vendorId) model += `,vendor=${cpu.vendorId}`;
    for (const f of cpu.features) {
      const name = CPU_FEATURE_QEMU[f.name] ?? f.name;
      if (f.policy === "force" || f.policy === "require") model += `,${name}=on`;
      else if (f.policy === "disable" || f.policy === "forbid") model += `,${name}=off`;
    }
  } else if (def2.os.arch === "i686" && (def2.devices.emulator ?? "").includes("x86_64")) {
    model = "qemu32";
  }
  let flags = "";
  for (const t of def2.clock.timers) {
    if (t.name === "kvmclock" && t.present !== void 0) flags += `,kvmclock=${t.present ? "on" : "off"}`;
    else if (t.name === "hypervclock" && t.present) flags += ",hv-time=on";
    else if (t.name === "tsc" && t.frequency) flags += `,tsc-frequency=${t.frequency}`;
    else if (t.name === "armvtimer") {
      if (t.tickpolicy === "delay") flags += ",kvm-no-adjvtime=off";
      else if (t.tickpolicy === "discard") flags += ",kvm-no-adjvtime=on";
    }
  }
  const fe = def2.features;
  if (fe?.apicEoi !== void 0) flags += `,kvm-pv-eoi=${fe.apicEoi ? "on" : "off"}`;
  if (fe?.states.pvspinlock !== void 0) flags += `,kvm-pv-unhalt=${fe.states.pvspinlock ? "on" : "off"}`;
  if (fe?.hyperv) {
    const hv = fe.hyperv;
    if (hv.mode === "passthrough") flags += ",hv-passthrough=on";
    for (const name of HYPERV_ORDER) {
      if (hv.features[name] !== true) continue;
      if (name === "spinlocks") flags += `,hv-spinlocks=0x${(hv.spinlockRetries ?? 0).toString(16)}`;
      else if (name === "vendor_id") flags += `,hv-vendor-id=${hv.vendorId ?? ""}`;
      else {
        flags += `,hv-${name}=on`;
        if (name === "stimer" && hv.stimerDirect) flags += ",hv-stimer-direct=on";
      }
    }
  }
  if (def2.devices.panics.some((p) => p.model === "hyperv")) flags += ",hv-crash";
  if (fe?.states.kvm && fe.kvm) {
    if (fe.kvm.hidden) flags += ",kvm=off";
    if (fe.kvm["hint-dedicated"]) flags += ",kvm-hint-dedicated=on";
    if (fe.kvm["poll-control"]) flags += ",kvm-poll-control=on";
    if (fe.kvm["pv-ipi"] === false) flags += ",kvm-pv-ipi=off";
  }
  if (fe?.states.pmu !== void 0 && def2.os.arch !== "ppc64" && def2.os.arch !== "ppc64le") flags += `,pmu=${fe.states.pmu ? "on" : "off"}`;
  if (cpu?.cache) {
    let hostOff = false;
    let l3Off = false;
    if (cpu.cache.mode === "emulate") {
      flags += ",l3-cache=on";
      hostOff = true;
    } else if (cpu.cache.mode === "passthrough") {
      flags += ",host-cache-info=on";
      l3Off = true;
    } else if (cpu.cache.mode === "disable") hostOff = l3Off = true;
    if (hostOff && (cpu.mode === "host-passthrough" || cpu.mode === "maximum")) flags += ",host-cache-info=off";
    if (l3Off) flags += ",l3-cache=off";
  }
  if (cpu?.maxphysaddr) {
    const a = cpu.maxphysaddr;
    if (a.mode === "passthrough") {
      flags += ",host-phys-bits=on";
      if (a.limit) flags += `,host-phys-bits-limit=${a.limit}`;
    } else if (a.mode === "emulate") flags += a.bits ? `,phys-bits=${a.bits}` : ",host-phys-bits=off";
  }
  if (flags && !model) {
    if (def2.os.arch === "i686") model = "qemu32";
    else if (def2.os.arch === "x86_64") model = "qemu64";
    else throw unsupported6(`CPU flags requested but can't determine default CPU for arch ${def2.os.arch ?? ""}`);
  }
  if (model) cmd.arg("-cpu", model + flags);
}
function hugepagePath(state, pageSizeKiB) {
  const mounts = state.cfg.hugetlbfs;
  const m = mounts.find((x) => x.size === pageSizeKiB);
  if (!m) throw internal7(`Unable to find any usable hugetlbfs mount for ${pageSizeKiB} KiB`);
  return `${m.mnt}/libvirt/qemu/${state.shortName}`;
}
function defaultHugepageSize(state) {
  const mounts = state.cfg.hugetlbfs;
  if (!mounts.length) throw internal7("hugetlbfs filesystem is not mounted or disabled by administrator config");
  return (mounts.find((m) => m.default) ?? mounts[0]).size;
}
function memoryPagesize(state, mem) {
  const { def: def2 } = state;
  const systemPage = state.opts.hostPageSizeKiB ?? state.cfg.hostPageSizeKiB;
  let pagesize = mem.pagesize ?? 0;
  let needHugepage = !!pagesize;
  let useHugepage = !!pagesize;
  if (pagesize === 0) {
    const given = def2.memoryBacking?.hugepages;
    const pages = given && given.length === 0 ? [{ size: 0 }] : given ?? [];
    let master;
    let found;
    for (const hp2 of pages) {
      if (!hp2.nodeset) {
        master = hp2;
        continue;
      }
      if (mem.targetNode < 0) continue;
      if (hp2.nodeset.includes(mem.targetNode)) {
        found = hp2;
        needHugepage = true;
        break;
      }
    }
    const hp = found ?? master;
    if (hp) {
      pagesize = hp.size;
      useHugepage = true;
    }
  }
  if (pagesize === systemPage) {
    pagesize = 0;
    needHugepage = false;
    useHugepage = false;
  } else if (useHugepage && pagesize === 0) pagesize = defaultHugepageSize(state);
  let prealloc = def2.memoryBacking?.allocation?.mode === "immediate";
  if (mem.nvdimmPath) {
    if (mem.model === "nvdimm" && !mem.pmem) prealloc = true;
  } else if (useHugepage) prealloc = true;
  return { pagesize, needHugepage, useHugepage, prealloc };
}
function numatuneNodeset(def2, cell) {
  const nt = def2.numatune;
  const memnode = cell >= 0 ? nt?.memnodes.find((m2) => m2.cellid === cell) : void 0;
  if (memnode) return { nodeset: memnode.nodeset, mode: memnode.mode ?? "strict" };
  const m = nt?.memory;
  if (m && m.placement !== "auto" && m.nodeset) return { nodeset: m.nodeset, mode: m.mode };
  return { mode: m?.mode ?? "strict" };
}
var NUMA_POLICY = { strict: "bind", preferred: "preferred", interleave: "interleave", restrictive: "restrictive" };
function memoryBackendProps(state, mem, force, systemMemory) {
  const { def: def2, caps: caps2 } = state;
  const cells = numaCells(def2);
  let access3 = mem.access;
  let discard = mem.discard;
  if (mem.targetNode >= 0) {
    if (!access3) access3 = cells[mem.targetNode]?.memAccess;
    if (discard === void 0) discard = cells[mem.targetNode]?.discard;
  }
  if (!access3) access3 = def2.memoryBacking?.access;
  if (discard === void 0) discard = def2.memoryBacking?.discard;
  const nt = numatuneNodeset(def2, mem.targetNode);
  const nodeSpecified = mem.targetNode >= 0 && !!def2.numatune?.memnodes.some((m) => m.cellid === mem.targetNode);
  const ps = memoryPagesize(state, mem);
  const source = def2.memoryBacking?.source;
  const o = {};
  let backendType = "memory-backend-file";
  let nodemask = mem.nodemask;
  const hasSourceNodes = !!nodemask;
  let disableCanonical = false;
  if (!mem.nvdimmPath && source === "memfd") {
    backendType = "memory-backend-memfd";
    if (ps.useHugepage) {
      o.hugetlb = true;
      o.hugetlbsize = ps.pagesize * 1024;
    }
    if (access3) o.share = access3 === "shared";
    if (systemMemory) disableCanonical = true;
  } else if (ps.useHugepage || mem.nvdimmPath || access3 || source === "file") {
    let memPath;
    if (mem.nvdimmPath) memPath = mem.nvdimmPath;
    else if (ps.useHugepage) memPath = hugepagePath(state, ps.pagesize);
    else memPath = `${state.cfg.memoryBackingDir}/${state.shortName}/${mem.pathName ?? mem.alias}`;
    o["mem-path"] = memPath;
    if (!mem.nvdimmPath && discard !== void 0) o["discard-data"] = discard;
    if (access3) o.share = access3 === "shared";
    if (systemMemory) disableCanonical = true;
  } else backendType = "memory-backend-ram";
  if (disableCanonical && caps2.has("memory-backend-file.x-use-canonical-path-for-ramblock-id")) o["x-use-canonical-path-for-ramblock-id"] = false;
  if (mem.model === "virtio-mem") {
    if (caps2.has("memory-backend-file.reserve")) o.reserve = false;
  } else {
    if (ps.prealloc) o.prealloc = true;
    const threads = def2.memoryBacking?.allocation?.threads;
    if (threads) o["prealloc-threads"] = threads;
  }
  o.size = mem.size * 1024;
  if (mem.model === "nvdimm" && mem.alignsize) o.align = mem.alignsize * 1024;
  if (mem.model === "nvdimm" && mem.pmem) o.pmem = true;
  if (!hasSourceNodes && nt.nodeset) nodemask = nt.nodeset;
  if (nodemask) {
    const avail = state.opts.hostNumaNodes;
    if (avail) {
      for (const n of nodemask) if (!avail.includes(n)) throw unsupported6(`NUMA node ${n} is unavailable`);
    }
    if (nt.mode !== "restrictive") {
      o["host-nodes"] = nodemask;
      o.policy = NUMA_POLICY[nt.mode] ?? "bind";
    }
  }
  const needed = !(!ps.needHugepage && !hasSourceNodes && !nodeSpecified && !mem.nvdimmPath && !access3 && source !== "file" && source !== "memfd" && !force);
  const out2 = { "qom-type": backendType, id: mem.alias, ...o };
  return nodemask ? { props: out2, needed, nodemask } : { props: out2, needed };
}
function threadContext(state, memProps, nodemask) {
  if (!state.caps.has("thread-context") || !nodemask || memProps.prealloc !== true) return void 0;
  const alias = `tc-${String(memProps.id)}`;
  memProps["prealloc-context"] = alias;
  return props([["qom-type", "thread-context"], ["id", alias], ["node-affinity", nodemask]]);
}
function emitMemObject(cmd, state, r) {
  const tc = threadContext(state, r.props, r.nodemask);
  if (tc) cmd.arg("-object", toJson(tc));
  cmd.arg("-object", toJson(r.props));
}
function buildMemory(cmd, state) {
  const { def: def2 } = state;
  const initial = memoryInitial(def2);
  if (hasMemoryHotplug(def2)) cmd.arg("-m", `size=${initial}k,slots=${def2.memory.slots},maxmem=${def2.memory.max}k`);
  else cmd.arg("-m", String(Math.floor(initial / 1024)));
  const ramId = defaultRamId(state);
  if (ramId && numaCells(def2).length === 0) {
    const r = memoryBackendProps(state, { size: initial, targetNode: -1, alias: ramId }, false, true);
    emitMemObject(cmd, state, r);
  } else if (!ramId && numaCells(def2).length === 0) buildMemPath(cmd, state);
  cmd.arg("-overcommit", `mem-lock=${def2.memoryBacking?.locked ? "on" : "off"}`);
}
function buildMemPath(cmd, state) {
  const { def: def2 } = state;
  const systemPage = state.opts.hostPageSizeKiB ?? state.cfg.hostPageSizeKiB;
  let memPath;
  let prealloc = false;
  const hp = def2.memoryBacking?.hugepages;
  if (hp && (hp[0]?.size ?? 0) !== systemPage) {
    const size = hp[0]?.size || defaultHugepageSize(state);
    memPath = hugepagePath(state, size);
    prealloc = true;
  } else if (def2.memoryBacking?.source === "file") memPath = `${state.cfg.memoryBackingDir}/${state.shortName}/ram`;
  if (def2.memoryBacking?.allocation?.mode === "immediate") prealloc = true;
  if (prealloc) cmd.arg("-mem-prealloc");
  if (memPath) cmd.arg("-mem-path", memPath);
}
function buildSmp(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  const max = def2.vcpu.max;
  let n = 0;
  if (def2.vcpu.vcpus) {
    def2.vcpu.vcpus.forEach((v) => {
      if (v.enabled && v.hotpluggable === false) n++;
    });
  } else n = def2.vcpu.current;
  let s = String(n);
  if (n !== max) s += `,maxcpus=${max}`;
  const t = def2.cpu?.topology;
  if (t && t.sockets) {
    if (t.dies !== 1 && !caps2.has("smp-dies")) throw unsupported6("Only 1 die per socket is supported");
    s += `,sockets=${t.sockets}`;
    if (caps2.has("smp-dies")) s += `,dies=${t.dies}`;
    s += `,cores=${t.cores},threads=${t.threads}`;
  } else s += `,sockets=${max},cores=1,threads=1`;
  cmd.arg("-smp", s);
}
function buildIothreads(cmd, state) {
  const { def: def2 } = state;
  for (const io of def2.iothreadids) {
    const o = props([
      ["qom-type", "iothread"],
      ["id", `iothread${io.id}`],
      ["thread-pool-min", nonneg(io.threadPoolMin)],
      ["thread-pool-max", nonneg(io.threadPoolMax)],
      ["poll-max-ns", io.poll?.max],
      ["poll-grow", io.poll?.grow],
      ["poll-shrink", io.poll?.shrink]
    ]);
    cmd.arg("-object", toJson(o));
  }
  if (def2.defaultIothread) {
    cmd.arg("-object", toJson(props([
      ["qom-type", "main-loop"],
      ["id", "main-loop"],
      ["thread-pool-min", nonneg(def2.defaultIothread.threadPoolMin)],
      ["thread-pool-max", nonneg(def2.defaultIothread.threadPoolMax)]
    ])));
  }
}
function numaNodeInitiator(def2, node) {
  const cells = numaCells(def2);
  if (cells[node]?.cpus?.length) return node;
  let minLat = Infinity;
  let maxBw = 0;
  let byLat = -1;
  let byBw = -1;
  for (const l of def2.cpu?.numa?.interconnects ?? []) {
    if (l.target !== node) continue;
    if (l.kind === "latency" && l.value < minLat) {
      minLat = l.value;
      byLat = l.initiator;
    } else if (l.kind === "bandwidth" && l.value > maxBw) {
      maxBw = l.value;
      byBw = l.initiator;
    }
  }
  return byLat >= 0 ? byLat : byBw;
}
function buildNuma(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  const cells = numaCells(def2);
  if (!cells.length) return;
  const machine = caps2.machines(accelOf(def2)).find((m) => m.name === def2.os.machine);
  let needBackend = !machine?.numaMemSupported;
  const hmat = !!def2.cpu?.numa?.interconnects?.length || cells.some((c) => c.caches?.length);
  if (hmat) needBackend = true;
  const backends = cells.map((c, i) => {
    const r = memoryBackendProps(state, { size: c.memory, targetNode: i, alias: `ram-node${i}` }, false, false);
    if (r.needed) needBackend = true;
    return r;
  });
  if (!needBackend) buildMemPath(cmd, state);
  const master = cells.findIndex((c) => c.cpus && c.cpus.length);
  if (master < 0) throw unsupported6("At least one NUMA node has to have CPUs");
  cells.forEach((c, i) => {
    if (needBackend) emitMemObject(cmd, state, backends[i]);
    let s = `node,nodeid=${i}`;
    if (c.cpus && c.cpus.length) for (const part of formatIdList(c.cpus).split(",")) s += `,cpus=${part}`;
    if (hmat) {
      const ini = numaNodeInitiator(def2, i);
      s += `,initiator=${ini < 0 ? master : ini}`;
    }
    if (needBackend) s += `,memdev=ram-node${i}`;
    else s += `,mem=${Math.floor(c.memory / 1024)}`;
    cmd.arg("-numa", s);
  });
  if (cells.some((c) => c.distances && c.distances.length)) {
    for (let i = 0; i < cells.length; i++) {
      for (let j = 0; j < cells.length; j++) {
        const d = cells[i].distances?.find((x) => x.id === j)?.value ?? cells[j].distances?.find((x) => x.id === i)?.value ?? (i === j ? 10 : 20);
        cmd.arg("-numa", `dist,src=${i},dst=${j},val=${d}`);
      }
    }
  }
  if (hmat) {
    const hier = ["memory", "first-level", "second-level", "third-level"];
    for (const ic of def2.cpu?.numa?.interconnects ?? []) {
      let s = `hmat-lb,initiator=${ic.initiator},target=${ic.target},hierarchy=${hier[ic.cache ?? 0]},data-type=${ic.type}-`;
      s += ic.kind === "latency" ? `latency,latency=${ic.value}` : `bandwidth,bandwidth=${ic.value}K`;
      cmd.arg("-numa", s);
    }
    cells.forEach((c, i) => {
      for (const ca of c.caches ?? []) {
        let s = `hmat-cache,node-id=${i},size=${ca.size}K,level=${ca.level}`;
        s += `,associativity=${ca.associativity === "full" ? "complex" : ca.associativity}`;
        s += `,policy=${ca.policy === "writeback" ? "write-back" : ca.policy === "writethrough" ? "write-through" : ca.policy}`;
        if (ca.line) s += `,line=${ca.line}`;
        cmd.arg("-numa", s);
      }
    });
  }
}
function buildMemoryDevices(cmd, state, addrProps) {
  const { def: def2, caps: caps2 } = state;
  for (const m of def2.devices.memories) {
    const alias = m.info.alias ?? "";
    const nvdimmPath = m.model === "nvdimm" || m.model === "virtio-pmem" ? m.path : void 0;
    const r = memoryBackendProps(state, {
      model: m.model,
      size: m.size,
      targetNode: m.targetNode ?? -1,
      alias: `mem${alias}`,
      pathName: alias,
      access: m.access,
      discard: m.discard,
      pagesize: m.pagesize,
      nodemask: m.nodemask,
      nvdimmPath,
      pmem: m.pmem,
      alignsize: m.alignsize
    }, true, false);
    emitMemObject(cmd, state, r);
    if (m.model === "sgx-epc") continue;
    const devices = { dimm: "pc-dimm", nvdimm: "nvdimm", "virtio-pmem": "virtio-pmem-pci", "virtio-mem": "virtio-mem-pci" };
    let prealloc;
    if (m.model === "virtio-mem" && caps2.has("virtio-mem-pci.prealloc")) {
      prealloc = memoryPagesize(state, { model: m.model, pagesize: m.pagesize, targetNode: m.targetNode ?? -1 }).prealloc;
    }
    const o = props([
      ["driver", devices[m.model]],
      ["node", nonneg(m.targetNode)],
      ["label-size", nz((m.labelSize ?? 0) * 1024)],
      ["block-size", nz((m.blockSize ?? 0) * 1024)],
      ["requested-size", nz((m.requestedSize ?? 0) * 1024)],
      ["uuid", m.model === "nvdimm" ? m.uuid : void 0],
      ["unarmed", m.model === "nvdimm" && m.readonly ? true : void 0],
      ["memdev", `mem${alias}`],
      ["prealloc", trueOnly(prealloc)],
      ["id", alias]
    ]);
    cmd.arg("-device", toJson(addrProps(o, m)));
  }
}
function kids(el, name) {
  return el.elements(name);
}
function entries(el) {
  const out2 = /* @__PURE__ */ new Map();
  for (const e of el?.elements("entry") ?? []) {
    const n = e.attr("name");
    if (n) out2.set(n, e.text());
  }
  return out2;
}
function buildSmbios(cmd, state) {
  const { def: def2 } = state;
  const mode = def2.os.smbios;
  if (!mode || mode === "emulate") return;
  if (mode === "host") throw unsupported6("Host SMBIOS information is not available");
  const si = (def2.sysinfo ?? []).find((s) => (s.attr("type") ?? "smbios") === "smbios");
  if (!si) throw new VirtError17("XML_ERROR", `Domain '${def2.name}' sysinfo are not available`, { origin: "qemu" });
  const add = (s, k, v) => v !== void 0 ? `${s},${k}=${escapeComma(v)}` : s;
  const bios = si.child("bios");
  if (bios) {
    const e = entries(bios);
    let s = "type=0";
    s = add(s, "vendor", e.get("vendor"));
    s = add(s, "version", e.get("version"));
    s = add(s, "date", e.get("date"));
    s = add(s, "release", e.get("release"));
    cmd.arg("-smbios", s);
  }
  const sys = si.child("system");
  if (sys) {
    const e = entries(sys);
    let s = "type=1";
    for (const k of ["manufacturer", "product", "version", "serial", "uuid", "sku", "family"]) s = add(s, k, e.get(k));
    cmd.arg("-smbios", s);
  }
  for (const bb of kids(si, "baseBoard")) {
    const e = entries(bb);
    let s = `type=2,manufacturer=${escapeComma(e.get("manufacturer") ?? "")}`;
    for (const k of ["product", "version", "serial", "asset", "location"]) s = add(s, k, e.get(k));
    cmd.arg("-smbios", s);
  }
  const ch = si.child("chassis");
  if (ch) {
    const e = entries(ch);
    let s = `type=3,manufacturer=${escapeComma(e.get("manufacturer") ?? "")}`;
    for (const k of ["version", "serial", "asset", "sku"]) s = add(s, k, e.get(k));
    cmd.arg("-smbios", s);
  }
  const oem = si.child("oemStrings");
  if (oem) {
    let s = "type=11";
    for (const v of oem.elements("entry")) s += `,value=${escapeComma(v.text())}`;
    cmd.arg("-smbios", s);
  }
}
function buildSysinfoFwcfg(cmd, state) {
  for (const si of state.def.sysinfo ?? []) {
    if (si.attr("type") !== "fwcfg") continue;
    for (const e of si.elements("entry")) {
      const name = e.attr("name") ?? "";
      const file = e.attr("file");
      const text = e.text();
      cmd.arg("-fw_cfg", file && !text ? `name=${name},file=${file}` : `name=${name},string=${text}`);
    }
  }
}
function isoUtc(seconds) {
  return new Date(seconds * 1e3).toISOString().slice(0, 19);
}
function buildClock(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  const c = def2.clock;
  let s;
  switch (c.offset) {
    case "utc":
      s = "base=utc";
      break;
    case "localtime":
    case "timezone":
      s = "base=localtime";
      break;
    case "variable": {
      const now = state.opts.now ? state.opts.now() : Math.floor(Date.now() / 1e3);
      if (c.basis === "localtime") {
        const local2 = state.opts.localUtcOffset ? state.opts.localUtcOffset() : -new Date(now * 1e3).getTimezoneOffset() * 60;
        c.adjustment = (c.adjustment ?? 0) + local2;
        c.basis = "utc";
      }
      s = `base=${isoUtc(now + (c.adjustment ?? 0))}`;
      break;
    }
    case "absolute":
      s = `base=${isoUtc(c.start ?? 0)}`;
      break;
    default:
      throw unsupported6(`unsupported clock offset '${String(c.offset)}'`);
  }
  const rtc = c.timers.find((t) => t.name === "rtc");
  if (rtc) {
    if (rtc.track === "guest") s += ",clock=vm";
    else if (rtc.track === "wall") s += ",clock=host";
    else if (rtc.track === "realtime") s += ",clock=rt";
    if (rtc.tickpolicy === "catchup") s += ",driftfix=slew";
  }
  cmd.arg("-rtc", s);
  if (c.offset === "timezone" && c.timezone) cmd.setEnv("TZ", c.timezone);
  for (const t of c.timers) {
    if (t.name === "pit") {
      if ((t.tickpolicy === void 0 || t.tickpolicy === "delay") && caps2.has("kvm-pit-lost-tick-policy")) cmd.arg("-global", "kvm-pit.lost_tick_policy=delay");
      else if (t.tickpolicy === "discard" && caps2.has("kvm-pit-lost-tick-policy")) cmd.arg("-global", "kvm-pit.lost_tick_policy=discard");
    } else if (t.name === "hpet") {
      if (t.present === false && !caps2.has("machine-hpet") && isX86(def2.os.arch)) cmd.arg("-no-hpet");
    }
  }
}
function buildPm(cmd, state) {
  const { def: def2, caps: caps2 } = state;
  if (caps2.has("set-action")) cmd.arg("-no-shutdown");
  else cmd.arg("-no-shutdown");
  const m = caps2.machines(accelOf(def2)).find((x) => x.name === def2.os.machine);
  if (m?.acpi === void 0 && (isX86(def2.os.arch) || def2.os.arch === "aarch64")) {
    if (def2.features?.states.acpi !== true) cmd.arg("-no-acpi");
  }
  const pm = def2.pm;
  if (pm && (pm.suspendToMem !== void 0 || pm.suspendToDisk !== void 0)) {
    const obj = isQ35(def2) ? "ICH9-LPC" : "PIIX4_PM";
    if (pm.suspendToMem !== void 0) cmd.arg("-global", `${obj}.disable_s3=${pm.suspendToMem ? 0 : 1}`);
    if (pm.suspendToDisk !== void 0) cmd.arg("-global", `${obj}.disable_s4=${pm.suspendToDisk ? 0 : 1}`);
  }
}
function buildBoot(cmd, state) {
  const { def: def2 } = state;
  const os = def2.os;
  let s = "";
  if (os.bootmenu) s += os.bootmenu.enable ? "menu=on," : "menu=off,";
  if (os.bios?.rebootTimeout !== void 0) s += `reboot-timeout=${os.bios.rebootTimeout},`;
  if (os.bootmenu?.timeout !== void 0) s += `splash-time=${os.bootmenu.timeout},`;
  s += "strict=on";
  cmd.arg("-boot", s);
  if (os.kernel) cmd.arg("-kernel", os.kernel);
  if (os.initrd) cmd.arg("-initrd", os.initrd);
  if (os.cmdline !== void 0) cmd.arg("-append", os.cmdline);
  if (os.dtb) cmd.arg("-dtb", os.dtb);
  if (os.slicTable) cmd.arg("-acpitable", `sig=SLIC,file=${escapeComma(os.slicTable)}`);
}

// src/command/build.ts
function unsupported7(msg) {
  return new VirtError18("CONFIG_UNSUPPORTED", msg, { origin: "qemu" });
}
function internal8(msg) {
  return new VirtError18("INTERNAL_ERROR", msg, { origin: "qemu" });
}
var Builder = class {
  constructor(state) {
    this.state = state;
    this.cmd = new QemuCommand(state.def.devices.emulator ?? state.caps.binary);
  }
  state;
  cmd;
  prepared;
  get def() {
    return this.state.def;
  }
  /** -device with the qemu:override properties applied. */
  device(o) {
    const ns = qemuNamespaceData(this.def);
    const id = typeof o.id === "string" ? o.id : void 0;
    if (ns && id) {
      for (const ov of ns.overrides) {
        if (ov.alias !== id) continue;
        for (const p of ov.frontend) {
          delete o[p.name];
          switch (p.type) {
            case "string":
              o[p.name] = p.value ?? "";
              break;
            case "signed":
            case "unsigned":
              o[p.name] = Number(p.value);
              break;
            case "bool":
              o[p.name] = p.value === "true";
              break;
            default:
              break;
          }
        }
      }
    }
    this.cmd.arg("-device", toJson(o));
  }
  bootIndex(info) {
    return this.prepared.bootIndex.get(info);
  }
  build() {
    const { state, cmd, def: def2 } = this;
    const { cfg, caps: caps2 } = state;
    this.validate();
    this.prepared = prepareDomain(state);
    cmd.setEnv("LC_ALL", "C");
    const env = state.opts.env ?? process.env;
    cmd.setEnv("PATH", env.PATH ?? "/usr/bin:/bin");
    cmd.setEnv("HOME", state.libDir);
    cmd.setEnv("USER", env.USER ?? "root");
    cmd.setEnv("LOGNAME", env.LOGNAME ?? "root");
    cmd.setEnv("XDG_DATA_HOME", `${state.libDir}/.local/share`);
    cmd.setEnv("XDG_CACHE_HOME", `${state.libDir}/.cache`);
    cmd.setEnv("XDG_CONFIG_HOME", `${state.libDir}/.config`);
    buildName(cmd, state);
    cmd.arg("-S");
    cmd.arg("-object", toJson(props([["qom-type", "secret"], ["id", "masterKey0"], ["format", "raw"], ["file", `${state.libDir}/master-key.aes`]])));
    if (hasManagedPR(def2)) {
      cmd.arg("-object", toJson(prManagerProps(MANAGED_PR_ALIAS, `${state.libDir}/${MANAGED_PR_ALIAS}.sock`)));
    }
    const pflash = this.pflash();
    if (state.opts.hostFips && caps2.has("enable-fips")) cmd.arg("-enable-fips");
    buildMachine(cmd, state, pflash);
    buildAccel(cmd, def2);
    if (def2.features?.smmTseg !== void 0 && def2.features.states.smm) cmd.arg("-global", `mch.extended-tseg-mbytes=${def2.features.smmTseg / (1024 * 1024)}`);
    buildCpu(cmd, state);
    this.loader();
    buildMemory(cmd, state);
    buildSmp(cmd, state);
    buildIothreads(cmd, state);
    buildNuma(cmd, state);
    cmd.arg("-uuid", def2.uuid);
    buildSmbios(cmd, state);
    buildSysinfoFwcfg(cmd, state);
    if (def2.genid) this.device(props([["driver", "vmgenid"], ["guid", def2.genid], ["id", "vmgenid0"]]));
    if (!def2.devices.graphics.length) cmd.arg("-display", "none");
    cmd.arg("-no-user-config", "-nodefaults");
    this.monitor();
    buildClock(cmd, state);
    buildPm(cmd, state);
    buildBoot(cmd, state);
    this.iommu();
    for (const c of def2.devices.controllers) {
      if (c.type === "pci" && c.pci?.pcihole64 !== void 0 && c.pci.pcihole64 > 0) {
        const host = c.model === "pci-root" ? "i440FX-pcihost" : c.model === "pcie-root" ? "q35-pcihost" : void 0;
        if (!host) throw internal8("64-bit PCI hole setting is only for root PCI controllers");
        cmd.arg("-global", `${host}.pci-hole64-size=${c.pci.pcihole64}K`);
      }
    }
    this.controllers();
    buildMemoryDevices(cmd, state, (o, m) => addAddressProps(o, def2, m.info));
    for (const h of def2.devices.hubs) {
      this.device(addAddressProps(props([["driver", "usb-hub"], ["id", h.info.alias ?? ""]]), def2, h.info));
    }
    this.controllersOfType(["ccid"]);
    this.disks();
    this.filesystems();
    this.nets();
    this.smartcards();
    this.serials();
    this.parallels();
    this.channels();
    this.consoles();
    this.tpms();
    this.inputs();
    buildAudio(cmd, state);
    buildGraphics(cmd, state);
    buildVideos(cmd, state);
    this.sounds();
    this.watchdogs();
    this.redirdevs();
    this.hostdevs();
    this.memballoon();
    this.rngs();
    if (def2.features?.states.vmcoreinfo === true) this.device(props([["driver", "vmcoreinfo"]]));
    this.launchSecurity();
    const ns = qemuNamespaceData(def2);
    if (ns) {
      for (const a of ns.args) cmd.arg(a);
      for (const e of ns.env) cmd.setEnv(e.name, e.value ?? "");
    }
    if (cfg.seccompSandbox === 0) {
      if (caps2.has("seccomp-sandbox")) cmd.arg("-sandbox", "off");
    } else if (caps2.has("seccomp-sandbox")) cmd.arg("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    this.panics();
    this.shmems();
    this.vsock();
    this.cryptos();
    cmd.arg("-msg", "timestamp=on");
    return cmd;
  }
  /** qemuBuildCommandLineValidate. */
  validate() {
    const counts = /* @__PURE__ */ new Map();
    for (const g2 of this.def.devices.graphics) counts.set(g2.type, (counts.get(g2.type) ?? 0) + 1);
    for (const [, n] of counts) {
      if (n > 1) throw unsupported7("only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported");
    }
  }
  pflash() {
    const { def: def2, cmd, state } = this;
    const loader = def2.os.loader;
    if (!loader || loader.type !== "pflash" || !loader.path) return {};
    const out2 = {};
    const ro = loader.readonly === true;
    cmd.arg("-blockdev", toJson(props([
      ["driver", "file"],
      ["filename", loader.path],
      ["node-name", "libvirt-pflash0-storage"],
      ["auto-read-only", true],
      ["discard", "unmap"]
    ])));
    cmd.arg("-blockdev", toJson(props([
      ["node-name", "libvirt-pflash0-format"],
      ["read-only", ro],
      ["driver", loader.format ?? "raw"],
      ["file", "libvirt-pflash0-storage"]
    ])));
    out2.pflash0 = "libvirt-pflash0-format";
    const nv = def2.os.nvram;
    if (nv && (nv.path || nv.source)) {
      const src = nv.source ?? { type: "file", path: nv.path };
      const id = 0;
      void id;
      const priv = {
        id: 0,
        storageNode: "libvirt-pflash1-storage",
        formatNode: "libvirt-pflash1-format",
        readonly: false,
        shared: false
      };
      if (src.auth && src.type === "network") {
        priv.authSecret = state.secret("libvirt-pflash1-storage-auth-secret0", state.lookupSecret(src.auth.secret, src.protocol === "rbd" ? "ceph" : "iscsi"), src.auth.username);
      }
      state.src.set(src, priv);
      for (const o of sourceDependencies(priv)) cmd.arg("-object", toJson(o));
      cmd.arg("-blockdev", toJson(backendProps(state, src, priv)));
      cmd.arg("-blockdev", toJson(props([
        ["node-name", "libvirt-pflash1-format"],
        ["read-only", false],
        ["driver", nv.format ?? src.format ?? "raw"],
        ["file", "libvirt-pflash1-storage"]
      ])));
      out2.pflash1 = "libvirt-pflash1-format";
    }
    return out2;
  }
  loader() {
    const loader = this.def.os.loader;
    if (!loader) return;
    if (loader.type === "rom" || !loader.type && loader.path && this.def.os.loader?.type !== "pflash") {
      if (loader.path) this.cmd.arg("-bios", loader.path);
    } else if (loader.type === "pflash" && loader.secure) {
      this.cmd.arg("-global", "driver=cfi.pflash01,property=secure,value=on");
    }
  }
  monitor() {
    const { cmd, state } = this;
    const fd = state.fakeFds?.monitor;
    if (fd !== void 0) cmd.arg("-chardev", `socket,id=charmonitor,fd=${fd},server=on,wait=off`);
    else cmd.arg("-chardev", `socket,id=charmonitor,path=${escapeComma(`${state.libDir}/monitor.sock`)},server=on,wait=off`);
    cmd.arg("-mon", "chardev=charmonitor,id=monitor,mode=control");
  }
  iommu() {
    const i = this.def.devices.iommu;
    if (!i) return;
    if (i.model === "intel") {
      this.device(props([
        ["driver", "intel-iommu"],
        ["id", i.info.alias ?? ""],
        ["intremap", i.intremap === void 0 ? void 0 : i.intremap ? "on" : "off"],
        ["caching-mode", i.cachingMode],
        ["eim", i.eim === void 0 ? void 0 : i.eim ? "on" : "off"],
        ["device-iotlb", i.iotlb],
        ["aw-bits", nz(i.awBits)]
      ]));
    } else if (i.model === "virtio") {
      this.device(addAddressProps(props([["driver", "virtio-iommu"], ["id", i.info.alias ?? ""]]), this.def, i.info));
    }
  }
  skipController(c) {
    const def2 = this.def;
    if (c.type === "pci" && c.model === "pcie-root") return true;
    if (c.type === "pci" && c.model === "pci-root") return true;
    if (c.type === "sata" && c.index === 0 && isQ35(def2)) return true;
    if (c.type === "ide" && c.index === 0 && (def2.os.machine === "pc" || def2.os.machine?.startsWith("pc-i440fx") || def2.os.machine?.startsWith("pc-0") || def2.os.machine?.startsWith("pc-1") || def2.os.machine === "isapc")) return true;
    return false;
  }
  controllersOfType(types) {
    const def2 = this.def;
    for (const type of types) {
      for (const c of def2.devices.controllers) {
        if (c.type !== type) continue;
        if (c.type === "pci" && c.model === "pci-root" && c.index === 0 && c.pci?.hotplug !== void 0) {
          this.cmd.arg("-global", `PIIX4_PM.acpi-root-pci-hotplug=${c.pci.hotplug ? "on" : "off"}`);
        }
        if (this.skipController(c)) continue;
        if (c.type === "usb" && c.model === "none") continue;
        if (c.type === "usb" && c.model === void 0 && !isQ35(def2)) continue;
        const o = controllerDevProps(def2, c, this.state.caps);
        if (o) this.device(o);
      }
    }
  }
  controllers() {
    this.controllersOfType(["pci", "usb", "scsi", "ide", "sata", "virtio-serial"]);
    const usb = this.def.devices.controllers.filter((c) => c.type === "usb");
    if (usb.some((c) => c.model === "none")) return;
    const legacy = usb.filter((c) => c.model === void 0).length;
    if (legacy > 1) throw unsupported7("Multiple legacy USB controllers are not supported");
    if (usb.length - legacy === 0 && !isQ35(this.def) && this.def.os.arch !== "s390" && this.def.os.arch !== "s390x") this.cmd.arg("-usb");
  }
  disks() {
    const { def: def2, cmd, state } = this;
    let bootA = 0;
    let bootB = 0;
    let hasFloppy = false;
    for (const d of def2.devices.disks) {
      if (d.bus !== "fdc") continue;
      hasFloppy = true;
      const a = d.info.address;
      const bi = this.bootIndex(d.info) ?? 0;
      if (a?.type === "drive" && a.unit) bootB = bi;
      else bootA = bi;
    }
    if (hasFloppy) {
      if (needsFDC(def2)) this.device(props([["driver", "isa-fdc"], ["bootindexA", nz(bootA)], ["bootindexB", nz(bootB)]]));
      else {
        if (bootA > 0) cmd.arg("-global", `isa-fdc.bootindexA=${bootA}`);
        if (bootB > 0) cmd.arg("-global", `isa-fdc.bootindexB=${bootB}`);
      }
    }
    for (const disk of def2.devices.disks) {
      if (disk.transient && disk.transientShareBacking) continue;
      let empty = false;
      if (disk.src.type === "vhostuser") {
        const src = { type: "unix", path: disk.src.path, ...disk.src.reconnect?.enabled !== void 0 ? { reconnect: { enabled: disk.src.reconnect.enabled, ...disk.src.reconnect.timeout !== void 0 ? { timeout: disk.src.reconnect.timeout } : {} } } : {} };
        emitChardev(cmd, state, src, `chr-vu-${disk.info.alias ?? ""}`);
      } else if (isEmptySource(disk.src)) {
        empty = true;
      } else {
        emitChainBlockdevs(cmd, state, disk.src);
        const cor = state.corNodes.get(disk.dst);
        if (cor) {
          cmd.arg("-blockdev", toJson(props([["driver", "copy-on-read"], ["node-name", cor], ["file", state.srcPriv(disk.src)?.formatNode ?? ""], ["discard", "unmap"]])));
        }
      }
      this.device(diskDeviceProps(state, disk, this.bootIndex(disk.info), empty));
    }
  }
  filesystems() {
    const { def: def2, cmd, state } = this;
    for (const fs of def2.devices.filesystems) {
      const drv = fs.driver?.type;
      const alias = fs.info.alias ?? "";
      if (drv === void 0 || drv === "path" || drv === "handle") {
        let s = drv === "handle" ? "handle" : "local";
        if (drv !== "handle") {
          if (fs.accessmode === "mapped") s += ",security_model=mapped";
          else if (fs.accessmode === "squash") s += ",security_model=none";
          else s += ",security_model=passthrough";
          if (fs.multidevs) s += `,multidevs=${fs.multidevs}`;
          if (fs.fmode) s += `,fmode=${fs.fmode.toString(8).padStart(4, "0")}`;
          if (fs.dmode) s += `,dmode=${fs.dmode.toString(8).padStart(4, "0")}`;
        }
        if (fs.driver?.wrpolicy) s += `,writeout=${fs.driver.wrpolicy}`;
        s += `,id=fsdev-${alias},path=${escapeComma(fs.src ?? "")}`;
        if (fs.readonly) s += ",readonly";
        cmd.arg("-fsdev", s);
        const o = virtioDevProps("virtio-9p", fs.info, state.caps, fs.model, fs.virtio);
        addProps(o, [["id", alias], ["fsdev", `fsdev-${alias}`], ["mount_tag", fs.dst]]);
        this.device(addAddressProps(o, def2, fs.info));
      } else if (drv === "virtiofs") {
        const path = fs.socket ?? `${state.libDir}/${alias}-fs.sock`;
        cmd.arg("-chardev", `socket,id=chr-vu-${alias},path=${escapeComma(path)}`);
        const o = virtioDevProps("vhost-user-fs", fs.info, state.caps, fs.model, fs.virtio);
        addProps(o, [["id", alias], ["chardev", `chr-vu-${alias}`], ["queue-size", nz(fs.driver?.queue)], ["tag", fs.dst], ["bootindex", nz(fs.info.bootOrder)]]);
        this.device(addAddressProps(o, def2, fs.info));
      }
    }
  }
  nicProps(net) {
    const { def: def2, state } = this;
    const alias = net.info.alias ?? "";
    let o;
    const model = net.model ?? "";
    if (model === "virtio" || model === "virtio-transitional" || model === "virtio-non-transitional") {
      const drv = net.driver;
      let tx;
      if (drv?.txmode === "iothread") tx = "bh";
      else if (drv?.txmode === "timer") tx = "timer";
      let mq;
      let vectors;
      if ((drv?.queues ?? 0) > 1) {
        mq = true;
        if (net.info.address?.type !== "ccw") vectors = 2 * drv.queues + 2;
      }
      o = virtioDevProps("virtio-net", net.info, state.caps, model === "virtio" ? void 0 : model, drv?.virtio);
      const h = drv?.host ?? {};
      const g2 = drv?.guest ?? {};
      addProps(o, [
        ["tx", tx],
        ["ioeventfd", drv?.ioeventfd],
        ["event_idx", drv?.eventIdx],
        ["csum", h.csum],
        ["gso", h.gso],
        ["host_tso4", h.tso4],
        ["host_tso6", h.tso6],
        ["host_ecn", h.ecn],
        ["host_ufo", h.ufo],
        ["mrg_rxbuf", h.mrg_rxbuf],
        ["guest_csum", g2.csum],
        ["guest_tso4", g2.tso4],
        ["guest_tso6", g2.tso6],
        ["guest_ecn", g2.ecn],
        ["guest_ufo", g2.ufo],
        ["mq", mq],
        ["vectors", vectors],
        ["rx_queue_size", nz(drv?.rxQueueSize)],
        ["tx_queue_size", nz(drv?.txQueueSize)],
        ["rss", drv?.rss],
        ["hash", drv?.rssHashReport],
        ["host_mtu", nz(net.mtu)],
        ["failover", net.teaming?.type === "persistent" ? true : void 0]
      ]);
    } else o = props([["driver", model]]);
    addProps(o, [["netdev", `host${alias}`], ["id", alias], ["mac", net.mac], ["bootindex", nz(this.bootIndex(net.info))]]);
    addAddressProps(o, def2, net.info);
    addRomProps(o, net.info);
    return o;
  }
  nets() {
    const { def: def2, cmd, state } = this;
    let tapFd = state.fakeFds?.tapStart ?? 3;
    let vhostFd = state.fakeFds?.vhostNetStart ?? 44;
    for (const net of def2.devices.interfaces) {
      const alias = net.info.alias ?? "";
      if (net.type === "hostdev") continue;
      let netdev;
      switch (net.type) {
        case "network":
        case "bridge":
        case "direct":
        case "ethernet": {
          if (!state.fakeFds) throw unsupported7(`interface type '${net.type}' needs a tap device opened by the driver`);
          const queues = Math.max(1, net.driver?.queues ?? 1);
          const taps = [];
          for (let i = 0; i < queues; i++) taps.push(String(tapFd++));
          const vhost = [];
          const wantVhost = def2.type === "kvm" && net.driver?.name !== "qemu" && (net.model === "virtio" || net.model === "virtio-transitional" || net.model === "virtio-non-transitional") && state.caps.has("vhost-net");
          if (wantVhost) for (let i = 0; i < queues; i++) vhost.push(String(vhostFd++));
          netdev = props([
            ["type", "tap"],
            [taps.length > 1 ? "fds" : "fd", taps.join(":")],
            ["vhost", vhost.length ? true : void 0],
            [vhost.length > 1 ? "vhostfds" : "vhostfd", vhost.length ? vhost.join(":") : void 0],
            ["sndbuf", net.sndbuf]
          ]);
          break;
        }
        case "client":
          netdev = props([["type", "socket"], ["connect", `${net.sourceAddress ?? ""}:${net.sourcePort ?? 0}`]]);
          break;
        case "server":
          netdev = props([["type", "socket"], ["listen", `${net.sourceAddress ?? ""}:${net.sourcePort ?? 0}`]]);
          break;
        case "mcast":
          netdev = props([["type", "socket"], ["mcast", `${net.sourceAddress ?? ""}:${net.sourcePort ?? 0}`]]);
          break;
        case "udp":
          netdev = props([["type", "socket"], ["udp", `${net.sourceAddress ?? ""}:${net.sourcePort ?? 0}`], ["localaddr", `${net.localAddress ?? ""}:${net.localPort ?? 0}`]]);
          break;
        case "user":
          if (net.backend?.type === "passt") {
            netdev = props([
              ["type", "stream"],
              ["addr", { type: "unix", path: `${state.cfg.stateDir}/passt/${state.shortName}-${alias}.socket` }],
              ["server", false]
            ]);
          } else {
            netdev = props([["type", "user"]]);
            for (const ip of net.ips) {
              if (ip.address.includes(":")) addProps(netdev, [["ipv6-prefix", ip.address], ["ipv6-prefixlen", nz(ip.prefix)]]);
              else netdev.net = ip.prefix ? `${ip.address}/${ip.prefix}` : ip.address;
            }
          }
          break;
        case "internal":
          netdev = props([["type", "user"]]);
          break;
        case "vhostuser": {
          if (!net.vhostuser) throw internal8("vhost-user interface without a socket");
          emitChardev(cmd, state, net.vhostuser, `char${alias}`);
          netdev = props([["type", "vhost-user"], ["chardev", `char${alias}`]]);
          if ((net.driver?.queues ?? 0) > 1) netdev.queues = net.driver.queues;
          break;
        }
        case "vdpa": {
          const fd = state.fakeFds?.vdpa;
          if (fd === void 0) throw unsupported7("vDPA interfaces need the device opened by the driver");
          const p = state.newFdPass();
          p.fds.push({ fd, opaque: `${alias}-vdpa` });
          cmd.arg("-add-fd", `set=${p.set},fd=${fd},opaque=${alias}-vdpa`);
          netdev = props([["type", "vhost-vdpa"], ["vhostdev", `/dev/fdset/${p.set}`]]);
          if ((net.driver?.queues ?? 0) > 1) netdev.queues = net.driver.queues;
          break;
        }
        default:
          throw unsupported7(`network device type '${net.type}' is not supported by this hypervisor`);
      }
      netdev.id = `host${alias}`;
      cmd.arg("-netdev", toJson(netdev));
      this.device(this.nicProps(net));
    }
  }
  smartcards() {
    const { def: def2, cmd, state } = this;
    const sc = def2.devices.smartcards[0];
    if (!sc) return;
    let o;
    switch (sc.mode) {
      case "host":
        o = props([["driver", "ccid-card-emulated"], ["backend", "nss-emulated"]]);
        break;
      case "host-certificates": {
        const c2 = sc.certificates ?? [];
        o = props([["driver", "ccid-card-emulated"], ["backend", "certificates"], ["cert1", c2[0] ?? ""], ["cert2", c2[1] ?? ""], ["cert3", c2[2] ?? ""], ["db", sc.database ?? "/etc/pki/nssdb"]]);
        break;
      }
      default: {
        const alias = `char${sc.info.alias ?? ""}`;
        if (sc.passthrough) emitChardev(cmd, state, sc.passthrough, alias, "smartcard");
        o = props([["driver", "ccid-card-passthru"], ["chardev", alias]]);
      }
    }
    const a = sc.info.address;
    const ctrl = a?.type === "ccid" ? a.controller : 0;
    const c = def2.devices.controllers.find((x) => x.type === "ccid" && x.index === ctrl);
    addProps(o, [["id", sc.info.alias ?? ""], ["bus", `${c?.info.alias ?? ""}.0`]]);
    this.device(o);
  }
  serials() {
    const { def: def2, cmd, state } = this;
    const haveSpice = def2.devices.graphics.some((g2) => g2.type === "spice");
    for (const s of def2.devices.serials) {
      const alias = s.info.alias ?? "";
      if (s.source.type === "spiceport" && !haveSpice) continue;
      emitChardev(cmd, state, s.source, `char${alias}`);
      if (s.targetType === void 0 || s.targetType === "system-serial" && (s.targetModel === "pl011" || s.targetModel === "16550a")) {
        cmd.arg("-serial", `chardev:char${alias}`);
        continue;
      }
      const model = s.targetModel ?? "isa-serial";
      const capOf = { "isa-serial": "isa-serial", "usb-serial": "usb-serial", "pci-serial": "pci-serial", "spapr-vty": "spapr-vty" };
      const cap = capOf[model];
      if (cap && !state.caps.has(cap)) throw unsupported7(`'${model}' is not supported in this QEMU binary`);
      const o = props([["driver", model], ["chardev", `char${alias}`], ["id", alias]]);
      if (model === "isa-serial" && s.port >= 0) o.index = s.port;
      this.device(addAddressProps(o, def2, s.info));
    }
  }
  parallels() {
    const { def: def2, cmd, state } = this;
    for (const p of def2.devices.parallels) {
      const alias = p.info.alias ?? "";
      emitChardev(cmd, state, p.source, `char${alias}`);
      this.device(props([["driver", "isa-parallel"], ["chardev", `char${alias}`], ["id", alias]]));
    }
  }
  virtioSerialPort(chr) {
    const def2 = this.def;
    const driver = chr.deviceType === "console" ? "virtconsole" : "virtserialport";
    if (chr.deviceType === "channel" && chr.source.type === "spicevmc" && chr.name && chr.name !== "com.redhat.spice.0") {
      throw unsupported7(`Unsupported spicevmc target name '${chr.name}'`);
    }
    const o = props([["driver", driver]]);
    addAddressProps(o, def2, chr.info);
    let name;
    if (chr.deviceType === "channel" && (chr.source.type === "spicevmc" || chr.name)) name = chr.name ?? "com.redhat.spice.0";
    addProps(o, [["chardev", `char${chr.info.alias ?? ""}`], ["id", chr.info.alias ?? ""], ["name", name]]);
    return o;
  }
  channels() {
    const { def: def2, cmd, state } = this;
    for (const c of def2.devices.channels) {
      const alias = c.info.alias ?? "";
      emitChardev(cmd, state, c.source, `char${alias}`);
      if (c.targetType === "guestfwd") {
        const addr = c.address ?? "";
        cmd.arg("-netdev", toJson(props([["type", "user"], ["guestfwd", [{ str: `tcp:${addr}:${c.addressPort ?? 0}-chardev:char${alias}` }]], ["id", alias]])));
      } else if (c.targetType === "virtio") {
        this.device(this.virtioSerialPort(c));
      } else throw unsupported7(`unsupported channel target type '${c.targetType ?? ""}'`);
    }
  }
  consoles() {
    const { def: def2, cmd, state } = this;
    def2.devices.consoles.forEach((c) => {
      const alias = c.info.alias ?? "";
      switch (c.targetType) {
        case "virtio":
          emitChardev(cmd, state, c.source, `char${alias}`);
          this.device(this.virtioSerialPort(c));
          break;
        case "sclp":
        case "sclplm":
          emitChardev(cmd, state, c.source, `char${alias}`);
          this.device(props([["driver", c.targetType === "sclp" ? "sclpconsole" : "sclplmconsole"], ["chardev", `char${alias}`], ["id", alias]]));
          break;
        case "serial":
          break;
        default:
          throw unsupported7(`unsupported console target type ${c.targetType ?? ""}`);
      }
    });
  }
  tpms() {
    const { def: def2, cmd, state } = this;
    for (const tpm of def2.devices.tpms) {
      const alias = tpm.info.alias ?? "";
      if (tpm.model === "spapr-tpm-proxy") {
        this.device(props([["driver", "spapr-tpm-proxy"], ["id", alias], ["host-path", tpm.devicePath ?? ""]]));
        continue;
      }
      let backend = "";
      if (tpm.backend === "passthrough") {
        const f = state.fakeFds;
        if (!f) throw unsupported7("TPM passthrough needs the device opened by the driver");
        const p1 = state.newFdPass();
        const p2 = state.newFdPass();
        cmd.arg("-add-fd", `set=${p1.set},fd=${f.tpm},opaque=${alias}-tpm`);
        cmd.arg("-add-fd", `set=${p2.set},fd=${f.tpmCancel},opaque=${alias}-cancel`);
        backend = `passthrough,id=tpm-${alias},path=/dev/fdset/${p1.set},cancel-path=/dev/fdset/${p2.set}`;
      } else {
        const path = tpm.backend === "external" ? tpm.source?.path ?? "" : state.opts.config ? swtpmSocket(state) : swtpmSocket(state);
        cmd.arg("-chardev", `socket,id=chrtpm,path=${escapeComma(path)}`);
        backend = `emulator,id=tpm-${alias},chardev=chrtpm`;
      }
      cmd.arg("-tpmdev", backend);
      let model = tpm.model ?? "tpm-tis";
      if (model === "tpm-tis" && def2.os.arch !== "x86_64" && def2.os.arch !== "i686") model = "tpm-tis-device";
      this.device(addAddressProps(props([["driver", model], ["tpmdev", `tpm-${alias}`], ["id", alias]]), def2, tpm.info));
    }
  }
  inputs() {
    const { def: def2, cmd, state } = this;
    for (const i of def2.devices.inputs) {
      const alias = i.info.alias ?? "";
      if (i.type === "evdev") {
        const o = props([["qom-type", "input-linux"], ["id", alias], ["evdev", i.dev ?? ""], ["repeat", i.repeat]]);
        if (i.grab === "all") o.grab_all = true;
        if (i.grabToggle) o["grab-toggle"] = i.grabToggle;
        cmd.arg("-object", toJson(o));
        continue;
      }
      if (i.bus === "usb") {
        const drv = i.type === "mouse" ? "usb-mouse" : i.type === "tablet" ? "usb-tablet" : "usb-kbd";
        this.device(addAddressProps(props([["driver", drv], ["id", alias]]), def2, i.info));
      } else if (i.bus === "virtio") {
        const base = i.type === "mouse" ? "virtio-mouse" : i.type === "tablet" ? "virtio-tablet" : i.type === "keyboard" ? "virtio-keyboard" : "virtio-input-host";
        const o = virtioDevProps(base, i.info, state.caps, i.model, i.virtio);
        addProps(o, [["id", alias], ["evdev", i.type === "passthrough" ? i.evdev : void 0]]);
        this.device(addAddressProps(o, def2, i.info));
      }
    }
  }
  sounds() {
    const { def: def2 } = this;
    const models = { es1370: "ES1370", ac97: "AC97", ich6: "intel-hda", usb: "usb-audio", ich9: "ich9-intel-hda", sb16: "sb16" };
    for (const s of def2.devices.sounds) {
      if (s.model === "pcspk") continue;
      const model = models[s.model];
      if (!model) throw unsupported7(`sound card model '${s.model}' is not supported by qemu`);
      const codecs = s.model === "ich6" || s.model === "ich9" || s.model === "ich7";
      const alias = s.info.alias ?? "";
      const o = props([["driver", model], ["id", alias], ["audiodev", codecs ? void 0 : audioIdString(def2, s.audioId)]]);
      this.device(addAddressProps(o, def2, s.info));
      if (codecs) {
        const list = s.codecs.length ? s.codecs : ["duplex"];
        list.forEach((c, cad) => {
          this.device(props([["driver", `hda-${c}`], ["id", `${alias}-codec${cad}`], ["bus", `${alias}.0`], ["cad", cad], ["audiodev", audioIdString(def2, s.audioId)]]));
        });
      }
    }
  }
  watchdogs() {
    const { def: def2, cmd } = this;
    if (!def2.devices.watchdogs.length) return;
    let itco = false;
    let last = def2.devices.watchdogs[0];
    for (const w of def2.devices.watchdogs) {
      last = w;
      if (w.model === "itco") {
        itco = true;
        continue;
      }
      this.device(addAddressProps(props([["driver", w.model], ["id", w.info.alias ?? ""]]), def2, w.info));
    }
    if (itco) cmd.arg("-global", "ICH9-LPC.noreboot=off");
    const action = last.action === "dump" ? "pause" : last.action;
    cmd.arg("-watchdog-action", action);
  }
  redirdevs() {
    const { def: def2, cmd, state } = this;
    for (const r of def2.devices.redirdevs) {
      const alias = r.info.alias ?? "";
      emitChardev(cmd, state, r.source, `char${alias}`, "usbredir");
      let filter;
      const f = def2.devices.redirfilter;
      if (f) {
        const hex = (n, w) => n === void 0 || n < 0 ? "-1" : `0x${n.toString(16).toUpperCase().padStart(w, "0")}`;
        filter = f.map((u) => `${hex(u.usbClass, 2)}:${hex(u.vendor, 4)}:${hex(u.product, 4)}:${hex(u.version, 4)}:${u.allow ? 1 : 0}`).join("|");
      }
      const o = props([["driver", "usb-redir"], ["chardev", `char${alias}`], ["id", alias], ["filter", filter], ["bootindex", nz(r.info.bootOrder)]]);
      this.device(addAddressProps(o, def2, r.info));
    }
  }
  hostdevs() {
    const { def: def2, cmd, state } = this;
    let scsiFd = state.fakeFds?.tapStart ?? 3;
    for (const h of def2.devices.hostdevs) {
      if (h.mode !== "subsystem") continue;
      const alias = h.info.alias ?? "";
      switch (h.type) {
        case "usb": {
          const hostdevice = h.usbBus !== void 0 && h.usbDevice !== void 0 ? `/dev/bus/usb/${String(h.usbBus).padStart(3, "0")}/${String(h.usbDevice).padStart(3, "0")}` : void 0;
          let guestReset;
          let resetsAll;
          if (h.guestReset === "off") guestReset = false;
          else if (h.guestReset === "uninitialized") {
            guestReset = true;
            resetsAll = false;
          } else if (h.guestReset === "on") {
            guestReset = true;
            resetsAll = true;
          }
          const o = props([
            ["driver", "usb-host"],
            ["hostdevice", hostdevice],
            ["id", alias],
            ["bootindex", nz(h.info.bootOrder)],
            ["guest-reset", guestReset],
            ["guest-resets-all", resetsAll]
          ]);
          this.device(addAddressProps(o, def2, h.info));
          break;
        }
        case "pci": {
          if (h.info.address?.type === "unassigned") continue;
          const a = h.pciAddress;
          const hx = (n, w) => n.toString(16).padStart(w, "0");
          const host = a ? `${hx(a.domain, 4)}:${hx(a.bus, 2)}:${hx(a.slot, 2)}.${a.function}` : "";
          const o = props([["driver", "vfio-pci"], ["host", host], ["id", alias], ["bootindex", nz(this.bootIndex(h.info))]]);
          addAddressProps(o, def2, h.info);
          addRomProps(o, h.info);
          this.device(o);
          break;
        }
        case "scsi":
          this.hostdevScsi(h);
          break;
        case "scsi_host": {
          const fd = String(scsiFd++);
          const o = virtioDevProps("vhost-scsi", h.info, state.caps, h.scsiHostModel, void 0);
          addProps(o, [["wwpn", h.wwpn ?? ""], ["vhostfd", fd], ["id", alias]]);
          this.device(addAddressProps(o, def2, h.info));
          break;
        }
        case "mdev": {
          const model = h.mdevModel === "vfio-pci" && h.ramfb ? "vfio-pci-nohotplug" : h.mdevModel ?? "vfio-pci";
          const o = props([
            ["driver", model],
            ["id", alias],
            ["sysfsdev", `/sys/bus/mdev/devices/${h.mdevUuid ?? ""}`],
            ["display", h.display === void 0 ? void 0 : h.display ? "on" : "off"],
            ["ramfb", h.ramfb ? true : void 0],
            ["bootindex", nz(h.info.bootOrder)]
          ]);
          this.device(addAddressProps(o, def2, h.info));
          break;
        }
        default:
          break;
      }
    }
    void cmd;
  }
  hostdevScsi(h) {
    const { def: def2, cmd, state } = this;
    const id = ++state.nodeIndex;
    const backend = `libvirt-${id}-backend`;
    if (h.scsiProtocol === "iscsi") {
      const src = { type: "network", protocol: "iscsi", path: h.iscsiName, hosts: h.iscsiHosts, ...h.iscsiAuth ? { auth: h.iscsiAuth } : {}, initiatorIqn: h.initiatorIqn };
      const priv = { id, storageNode: backend, formatNode: backend, readonly: !!h.readonly, shared: !!h.shareable };
      if (h.iscsiAuth) priv.authSecret = state.secret(`${backend}-secret0`, state.lookupSecret(h.iscsiAuth.secret, "iscsi"), h.iscsiAuth.username);
      state.src.set(src, priv);
      if (priv.authSecret) cmd.arg("-object", toJson(secretProps(priv.authSecret)));
      cmd.arg("-blockdev", toJson(backendProps(state, src, priv, { autoReadOnly: false, skipUnmap: true })));
    } else {
      const sg = state.opts.config ? "/dev/sg0" : "/dev/sg0";
      const o2 = props([["driver", "host_device"], ["filename", sg], ["node-name", backend], ["read-only", !!h.readonly]]);
      cmd.arg("-blockdev", toJson(o2));
    }
    const o = props([["driver", "scsi-generic"], ["drive", backend], ["id", h.info.alias ?? ""], ["bootindex", nz(h.info.bootOrder)]]);
    this.device(addAddressProps(o, def2, h.info, "scsi"));
  }
  memballoon() {
    const { def: def2, state } = this;
    const b = def2.devices.memballoon;
    if (!b || b.model === "none" || b.model === "xen") return;
    const o = virtioDevProps("virtio-balloon", b.info, state.caps, b.model === "virtio" ? void 0 : b.model, b.virtio);
    addProps(o, [["id", b.info.alias ?? ""], ["deflate-on-oom", b.autodeflate], ["free-page-reporting", b.freePageReporting]]);
    this.device(addAddressProps(o, def2, b.info));
  }
  rngs() {
    const { def: def2, cmd, state } = this;
    for (const r of def2.devices.rngs) {
      const alias = r.info.alias ?? "";
      if (r.backend === "egd" && r.chardev) emitChardev(cmd, state, r.chardev, `char${alias}`);
      let obj;
      if (r.backend === "random") obj = props([["qom-type", "rng-random"], ["id", `obj${alias}`], ["filename", r.file ?? "/dev/urandom"]]);
      else if (r.backend === "egd") obj = props([["qom-type", "rng-egd"], ["id", `obj${alias}`], ["chardev", `char${alias}`]]);
      else obj = props([["qom-type", "rng-builtin"], ["id", `obj${alias}`]]);
      cmd.arg("-object", toJson(obj));
      const o = virtioDevProps("virtio-rng", r.info, state.caps, r.model === "virtio" ? void 0 : r.model, r.virtio);
      const bytes = r.rate?.bytes ?? 0;
      addProps(o, [["rng", `obj${alias}`], ["id", alias], ["max-bytes", nz(bytes)], ["period", bytes ? r.rate?.period || 1e3 : void 0]]);
      this.device(addAddressProps(o, def2, r.info));
    }
  }
  launchSecurity() {
    const { def: def2, cmd, state } = this;
    const ls = def2.launchSecurity;
    if (!ls) return;
    if (ls.type === "sev") {
      cmd.arg("-object", toJson(props([
        ["qom-type", "sev-guest"],
        ["id", "lsec0"],
        ["cbitpos", ls.cbitpos ?? 0],
        ["reduced-phys-bits", ls.reducedPhysBits ?? 0],
        ["policy", ls.policy ?? 0],
        ["dh-cert-file", ls.dhCert ? `${state.libDir}/dh_cert.base64` : void 0],
        ["session-file", ls.session ? `${state.libDir}/session.base64` : void 0],
        ["kernel-hashes", ls.kernelHashes]
      ])));
    } else if (ls.type === "s390-pv") cmd.arg("-object", toJson(props([["qom-type", "s390-pv-guest"], ["id", "lsec0"]])));
  }
  panics() {
    const { def: def2 } = this;
    for (const p of def2.devices.panics) {
      if (p.model === "isa") {
        const o = props([["driver", "pvpanic"]]);
        const a = p.info.address;
        if (a?.type === "isa") o.ioport = a.iobase ?? 0;
        this.device(o);
      } else if (p.model === "pvpanic") {
        this.device(addAddressProps(props([["driver", "pvpanic-pci"]]), def2, p.info));
      }
    }
  }
  shmems() {
    const { def: def2, cmd, state } = this;
    for (const s of def2.devices.shmems) {
      const alias = s.info.alias ?? "";
      if (s.size && (s.size & s.size - 1) !== 0) throw new VirtError18("XML_ERROR", "shmem size must be a power of two", { origin: "qemu" });
      if (s.size && s.size < 1024 * 1024) throw new VirtError18("XML_ERROR", "shmem size must be at least 1 MiB (1024 KiB)", { origin: "qemu" });
      if (s.info.address?.type !== "pci") throw unsupported7("only 'pci' addresses are supported for the shared memory device");
      if (s.model === "ivshmem-plain") {
        cmd.arg("-object", toJson(props([["qom-type", "memory-backend-file"], ["id", `shmmem-${alias}`], ["mem-path", `/dev/shm/${s.name}`], ["size", s.size ?? 0], ["share", true]])));
      }
      const server = !!s.server;
      const master = s.role === "master" ? "on" : s.role === "peer" ? "off" : void 0;
      const o = props([
        ["driver", s.model],
        ["id", alias],
        ["chardev", server ? `char${alias}` : void 0],
        ["memdev", server ? void 0 : `shmmem-${alias}`],
        ["master", server ? void 0 : master],
        ["vectors", nz(s.msi?.vectors)],
        ["ioeventfd", s.msi?.ioeventfd]
      ]);
      this.device(addAddressProps(o, def2, s.info));
      if (server) {
        emitChardev(cmd, state, { type: "unix", path: s.server?.path ?? `/var/lib/libvirt/shmem-${s.name}-sock` }, `char${alias}`);
      }
    }
  }
  vsock() {
    const { def: def2, state } = this;
    const v = def2.devices.vsock;
    if (!v) return;
    const fd = state.fakeFds?.vsockVhost;
    if (fd === void 0) throw unsupported7("vsock needs /dev/vhost-vsock opened by the driver");
    const o = virtioDevProps("vhost-vsock", v.info, state.caps, v.model === "virtio" ? void 0 : v.model, v.virtio);
    addProps(o, [["id", v.info.alias ?? ""], ["guest-cid", v.cid ?? 0], ["vhostfd", String(fd)]]);
    this.device(addAddressProps(o, def2, v.info));
  }
  cryptos() {
    const { def: def2, cmd, state } = this;
    for (const c of def2.devices.cryptos) {
      const alias = c.info.alias ?? "";
      const cc = c;
      const be = cc.backend === "lkcf" ? "cryptodev-backend-lkcf" : "cryptodev-backend-builtin";
      cmd.arg("-object", toJson(props([["qom-type", be], ["id", `obj${alias}`], ["queues", nz(cc.queues)]])));
      const o = virtioDevProps("virtio-crypto", c.info, state.caps, void 0, cc.virtio);
      addProps(o, [["cryptodev", `obj${alias}`], ["id", alias]]);
      this.device(addAddressProps(o, def2, c.info));
    }
  }
};
function swtpmSocket(state) {
  return state.opts.swtpmSocketPath ?? `${state.cfg.stateDir}/swtpm/${state.shortName}-swtpm.sock`;
}
function needsFDC(def2) {
  if (!isQ35(def2)) return false;
  const m = def2.os.machine ?? "";
  const v = m.startsWith("pc-q35-") ? m.slice(7) : void 0;
  if (v && (v.startsWith("1.") || v === "2.0" || v === "2.1" || v === "2.2" || v === "2.3")) return false;
  return true;
}
function buildQemuCommandLine(def2, caps2, opts = {}) {
  const cfg = opts.config ?? defaultQemuDriverConfig();
  const state = new BuildState(def2, caps2, cfg, opts);
  const cmd = new Builder(state).build();
  return { binary: cmd.binary, env: cmd.env, args: cmd.args };
}

// src/test-guest/build.ts
import { createHash as createHash2 } from "node:crypto";
import { access as access2, mkdir as mkdir3, readdir, readFile as readFile6, rename as rename2, unlink as unlink2, writeFile as writeFile2 } from "node:fs/promises";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join7 } from "node:path";
import { gzipSync } from "node:zlib";
import { VirtError as VirtError20 } from "@virtkit/core";

// src/test-guest/cpio.ts
var S_IFDIR = 16384;
var S_IFREG = 32768;
var S_IFLNK = 40960;
var S_IFCHR = 8192;
function hex8(n) {
  return n.toString(16).padStart(8, "0");
}
function pad4(len) {
  return (4 - len % 4) % 4;
}
function writeCpio(entries2) {
  const parts = [];
  let ino = 1;
  const push = (name, mode, data, rdevMajor = 0, rdevMinor = 0) => {
    const nameBuf = Buffer.from(name + "\0", "utf8");
    const header = "070701" + hex8(ino++) + hex8(mode) + hex8(0) + // uid
    hex8(0) + // gid
    hex8((mode & 61440) === S_IFDIR ? 2 : 1) + hex8(0) + // mtime: fixed, so the archive is reproducible
    hex8(data.length) + hex8(0) + hex8(0) + hex8(rdevMajor) + hex8(rdevMinor) + hex8(nameBuf.length) + hex8(0);
    const head = Buffer.concat([Buffer.from(header, "ascii"), nameBuf]);
    parts.push(head, Buffer.alloc(pad4(head.length)));
    if (data.length > 0) parts.push(data, Buffer.alloc(pad4(data.length)));
  };
  for (const e of entries2) {
    const name = e.path.replace(/^\/+/, "");
    switch (e.type) {
      case "dir":
        push(name, S_IFDIR | (e.mode ?? 493), Buffer.alloc(0));
        break;
      case "file":
        push(name, S_IFREG | (e.mode ?? 420), typeof e.data === "string" ? Buffer.from(e.data, "utf8") : Buffer.from(e.data));
        break;
      case "symlink":
        push(name, S_IFLNK | 511, Buffer.from(e.target, "utf8"));
        break;
      case "chardev":
        push(name, S_IFCHR | (e.mode ?? 384), Buffer.alloc(0), e.major, e.minor);
        break;
    }
  }
  push("TRAILER!!!", 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

// src/test-guest/init-script.ts
var TEST_GUEST_READY = "VIRTKIT-GUEST-READY";
var TEST_GUEST_PROMPT = "virtkit# ";
function initScript(modules) {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname virtkit-guest

for m in ${modules.map((m) => `/lib/modules/${m}`).join(" ")}; do
  insmod "$m" 2>/dev/null
done

# ACPI power button (system_powerdown): the button driver reports it as a key
# press on an input device named "Power Button"; one event is enough. The
# device node appears asynchronously (devtmpfs), so the watcher waits for
# both the input device and its node instead of missing them at boot.
( i=0
  while [ $i -lt 100 ]; do
    found=
    for d in /sys/class/input/event*; do
      [ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] || continue
      found=1
      ( n="/dev/input/\${d##*/}"
        until dd if="$n" of=/dev/null bs=24 count=1 2>/dev/null; do sleep 0.1; done
        echo "power button pressed, powering off"; sync; poweroff -f ) &
    done
    [ -n "$found" ] && break
    sleep 0.1; i=$((i+1))
  done ) &

# No udev: online hot-plugged CPUs and memory blocks as they appear.
( while :; do
    for f in /sys/devices/system/cpu/cpu*/online /sys/devices/system/memory/memory*/online; do
      [ -e "$f" ] || continue
      { read v < "$f" && [ "$v" = 0 ] && echo 1 > "$f"; } 2>/dev/null
    done
    sleep 0.3
  done ) &

export PS1='${TEST_GUEST_PROMPT}' HOME=/ TERM=dumb
echo ${TEST_GUEST_READY}
while :; do
  setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
done
`;
}

// src/test-guest/modules.ts
import { readFile as readFile5 } from "node:fs/promises";
import { join as join6 } from "node:path";
import { VirtError as VirtError19 } from "@virtkit/core";
var TEST_GUEST_MODULES = [
  "virtio_pci",
  "virtio_blk",
  "virtio_net",
  "virtio_console",
  "virtio_balloon",
  "virtio_scsi",
  "virtio_rng",
  "virtio_input",
  // The ACPI power button: without it system_powerdown reaches nobody.
  "button",
  // /dev/input/event*: how the init script hears the power button.
  "evdev"
];
function moduleName(path) {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}
async function resolveModules(moduleDir, wanted) {
  let depText;
  try {
    depText = await readFile5(join6(moduleDir, "modules.dep"), "utf8");
  } catch (err) {
    throw new VirtError19("SYSTEM_ERROR", `test guest: cannot read ${join6(moduleDir, "modules.dep")}: ${err.message}`, { cause: err });
  }
  const builtin = /* @__PURE__ */ new Set();
  try {
    for (const line of (await readFile5(join6(moduleDir, "modules.builtin"), "utf8")).split("\n")) if (line) builtin.add(moduleName(line));
  } catch {
  }
  const deps = /* @__PURE__ */ new Map();
  for (const line of depText.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(moduleName(path), { path, deps: rest ? rest.split(/\s+/) : [] });
  }
  const order = [];
  const seen = /* @__PURE__ */ new Set();
  const visit = (name, chain2) => {
    if (seen.has(name)) return;
    const entry = deps.get(name);
    if (!entry) {
      if (builtin.has(name)) return;
      throw new VirtError19("NO_SUPPORT", `test guest: kernel module '${name}' (needed by ${chain2.join(" <- ") || "the guest"}) is not in ${moduleDir}`);
    }
    seen.add(name);
    for (const d of entry.deps) visit(moduleName(d), [name, ...chain2]);
    order.push(entry.path);
  };
  for (const w of wanted) visit(w.replace(/-/g, "_"), []);
  return order;
}

// src/test-guest/build.ts
var BUILDER_VERSION = 5;
var BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];
async function exists(path) {
  try {
    await access2(path);
    return true;
  } catch {
    return false;
  }
}
function compareVersions(a, b) {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
async function pickKernel(bootDir) {
  let names;
  try {
    names = await readdir(bootDir);
  } catch (err) {
    throw new VirtError20("NO_SUPPORT", `test guest: cannot list ${bootDir}: ${err.message}`, { cause: err });
  }
  const versions = names.filter((n) => n.startsWith("vmlinuz-")).map((n) => n.slice("vmlinuz-".length));
  const cloud = versions.filter((v) => v.endsWith("-cloud-amd64"));
  const pool = cloud.length > 0 ? cloud : versions;
  if (pool.length === 0) {
    throw new VirtError20("NO_SUPPORT", `test guest: no kernel in ${bootDir} (install linux-image-cloud-amd64)`);
  }
  return pool.sort(compareVersions).at(-1);
}
async function buildTestGuest(options = {}) {
  const bootDir = options.bootDir ?? "/boot";
  const modulesRoot = options.modulesRoot ?? "/lib/modules";
  const kernelVersion = options.kernelVersion ?? await pickKernel(bootDir);
  const kernel = join7(bootDir, `vmlinuz-${kernelVersion}`);
  if (!await exists(kernel)) throw new VirtError20("NO_SUPPORT", `test guest: kernel ${kernel} not found`);
  let busybox = options.busybox;
  if (!busybox) {
    for (const c of BUSYBOX_CANDIDATES) if (await exists(c)) {
      busybox = c;
      break;
    }
  }
  if (!busybox) throw new VirtError20("NO_SUPPORT", "test guest: busybox not found (install busybox-static)");
  const cmdline = "console=ttyS0 quiet panic=-1 tsc=unstable no_timer_check";
  const cacheDir = options.cacheDir ?? join7(tmpdir2(), "virtkit-test-guest");
  const moduleDir = join7(modulesRoot, kernelVersion);
  const modules = await resolveModules(moduleDir, TEST_GUEST_MODULES);
  const key = createHash2("sha256").update(JSON.stringify({ v: BUILDER_VERSION, kernelVersion, busybox, modules })).digest("hex").slice(0, 12);
  const initrd = join7(cacheDir, `initrd-${kernelVersion}-${key}.img`);
  const guest = { kernel, initrd, cmdline, kernelVersion, readyMarker: TEST_GUEST_READY, prompt: TEST_GUEST_PROMPT };
  if (await exists(initrd)) return guest;
  const bb = await readFile6(busybox);
  const entries2 = [
    { type: "dir", path: "bin" },
    { type: "dir", path: "dev" },
    { type: "chardev", path: "dev/console", major: 5, minor: 1 },
    { type: "chardev", path: "dev/null", major: 1, minor: 3, mode: 438 },
    { type: "dir", path: "etc" },
    { type: "dir", path: "lib" },
    { type: "dir", path: "lib/modules" },
    { type: "dir", path: "proc" },
    { type: "dir", path: "sys" },
    { type: "dir", path: "tmp", mode: 1023 },
    { type: "file", path: "bin/busybox", data: bb, mode: 493 },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    { type: "file", path: "etc/passwd", data: "root:x:0:0:root:/:/bin/sh\n" }
  ];
  const names = [];
  for (const rel of modules) {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    names.push(name);
    entries2.push({ type: "file", path: `lib/modules/${name}`, data: await readFile6(join7(moduleDir, rel)) });
  }
  entries2.push({ type: "file", path: "init", data: initScript(names), mode: 493 });
  const image = gzipSync(writeCpio(entries2), { level: 6 });
  await mkdir3(cacheDir, { recursive: true });
  const tmp = `${initrd}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile2(tmp, image);
    await rename2(tmp, initrd);
  } catch (err) {
    await unlink2(tmp).catch(() => {
    });
    throw new VirtError20("SYSTEM_ERROR", `test guest: cannot write ${initrd}: ${err.message}`, { cause: err });
  }
  return guest;
}

// src/test-guest/domain-xml.ts
import { escapeXml } from "@virtkit/core";
function testGuestDomainXml(guest, name, o = {}) {
  const mem = o.memoryMiB ?? 256;
  const vcpus = o.vcpus ?? 1;
  const max = o.maxVcpus ?? vcpus;
  const serial = o.console && o.console !== "pty" ? `<serial type='unix'><source mode='bind' path='${escapeXml(o.console.unix)}'/></serial>` : `<serial type='pty'/>`;
  return `<domain type='qemu'>
  <name>${escapeXml(name)}</name>${o.uuid ? `
  <uuid>${o.uuid}</uuid>` : ""}
  <memory unit='MiB'>${mem}</memory>${o.maxMemory ? `
  <maxMemory slots='${o.maxMemory.slots}' unit='MiB'>${o.maxMemory.mib}</maxMemory>` : ""}
  <vcpu placement='static'${max !== vcpus ? ` current='${vcpus}'` : ""}>${max}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${escapeXml(guest.kernel)}</kernel>
    <initrd>${escapeXml(guest.initrd)}</initrd>
    <cmdline>${escapeXml(guest.cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    ${serial}
    <console type='${o.console && o.console !== "pty" ? "unix" : "pty"}'>${o.console && o.console !== "pty" ? `<source mode='bind' path='${escapeXml(o.console.unix)}'/>` : ""}<target type='serial'/></console>
    <memballoon model='virtio'/>${o.devices ? `
    ${o.devices}` : ""}
  </devices>
</domain>
`;
}

// .exp/argv.ts
var g = await buildTestGuest();
var caps = await probeQemuCaps();
var config = defaultQemuDriverConfig({ libDir: "/tmp/xx/run/qemu" });
var xml = testGuestDomainXml(g, "argvtest", { maxMemory: { mib: 1024, slots: 4 }, vcpus: 1, maxVcpus: 4, devices: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/tmp/a.qcow2'/><target dev='vda' bus='virtio'/></disk><interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface><memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>` });
var def = parseDomainXml2(xml, { config: qemuParserConfig(caps, { config }), inactive: true });
def.id = 5;
var t0 = performance.now();
var out = buildQemuCommandLine(def, caps, { config, domainId: 5 });
console.log("ms", performance.now() - t0);
console.log(out.env, out.binary);
console.log(out.args.join("\n"));
