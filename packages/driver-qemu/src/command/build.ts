/**
 * buildQemuCommandLine: the QEMU command line of a domain, following
 * libvirt 9.0's qemuBuildCommandLine section by section.
 */
import {
  VirtError, formatDomainXml, parseDomainXml,
  type ChrDef, type DomainDef, type HostdevDef,
} from '@virtkit/core';
import type { QemuCapabilities } from '../caps/index.js';
import { defaultQemuDriverConfig } from '../defaults/config.js';
import { qemuNamespaceData } from '../defaults/namespace.js';
import { isQ35 } from '../defaults/machine.js';
import { qemuParserConfig } from '../defaults/parser-config.js';
import { QemuCommand } from './argv.js';
import { emitChardev } from './chardev.js';
import { scsiGenericName } from './host-probe.js';
import { addAddressProps, addRomProps, controllerDevProps, virtioDevProps } from './device-props.js';
import { diskParts, memoryDeviceParts, nicParts } from './devices.js';
import { audioIdString, buildAudio, buildGraphics, buildVideos } from './graphics.js';
import { addProps, escapeComma, nz, props, toJson, type JsonObject } from './json.js';
import type { QemuCommandOptions } from './options.js';
import type { DeviceParts } from './parts.js';
import { MANAGED_PR_ALIAS, hasManagedPR, prepareDomain, type PreparedDomain } from './prepare.js';
import { BuildState } from './state.js';
import { backendProps, prManagerProps, secretProps, sourceDependencies } from './storage.js';
import {
  buildAccel, buildBoot, buildClock, buildCpu, buildIothreads, buildMachine, buildMemory, buildName, buildNuma, buildPm,
  buildSmbios, buildSmp, buildSysinfoFwcfg,
} from './system.js';

function unsupported(msg: string): VirtError {
  return new VirtError('CONFIG_UNSUPPORTED', msg, { origin: 'qemu' });
}
function internal(msg: string): VirtError {
  return new VirtError('INTERNAL_ERROR', msg, { origin: 'qemu' });
}

export interface QemuCommandLine {
  binary: string;
  env: Array<[string, string]>;
  args: string[];
}

class Builder {
  readonly cmd: QemuCommand;
  prepared!: PreparedDomain;

  constructor(readonly state: BuildState) {
    this.cmd = new QemuCommand(state.def.devices.emulator ?? state.caps.binary);
  }

  get def(): DomainDef {
    return this.state.def;
  }

  /** -device with the qemu:override properties applied. */
  device(o: JsonObject): void {
    const ns = qemuNamespaceData(this.def);
    const id = typeof o.id === 'string' ? o.id : undefined;
    if (ns && id) {
      for (const ov of ns.overrides) {
        if (ov.alias !== id) continue;
        for (const p of ov.frontend) {
          delete o[p.name];
          switch (p.type) {
            case 'string': o[p.name] = p.value ?? ''; break;
            case 'signed':
            case 'unsigned': o[p.name] = Number(p.value); break;
            case 'bool': o[p.name] = p.value === 'true'; break;
            default: break;
          }
        }
      }
    }
    this.cmd.arg('-device', toJson(o));
  }

  /** A device's backends, then the device. */
  parts(p: DeviceParts): void {
    this.cmd.backends(p.backends);
    this.device(p.device);
  }

  bootIndex(info: { bootOrder?: number }): number | undefined {
    return this.prepared.bootIndex.get(info as never);
  }

  build(): QemuCommand {
    const { state, cmd, def } = this;
    const { cfg, caps } = state;
    this.validate();
    this.prepared = prepareDomain(state);
    cmd.setEnv('LC_ALL', 'C');
    const env = state.opts.env ?? process.env;
    cmd.setEnv('PATH', env.PATH ?? '/usr/bin:/bin');
    cmd.setEnv('HOME', state.libDir);
    cmd.setEnv('USER', env.USER ?? 'root');
    cmd.setEnv('LOGNAME', env.LOGNAME ?? 'root');
    cmd.setEnv('XDG_DATA_HOME', `${state.libDir}/.local/share`);
    cmd.setEnv('XDG_CACHE_HOME', `${state.libDir}/.cache`);
    cmd.setEnv('XDG_CONFIG_HOME', `${state.libDir}/.config`);
    buildName(cmd, state);
    cmd.arg('-S');
    cmd.arg('-object', toJson(props([['qom-type', 'secret'], ['id', 'masterKey0'], ['format', 'raw'], ['file', `${state.libDir}/master-key.aes`]])));
    if (hasManagedPR(def)) {
      cmd.arg('-object', toJson(prManagerProps(MANAGED_PR_ALIAS, `${state.libDir}/${MANAGED_PR_ALIAS}.sock`)));
    }
    const pflash = this.pflash();
    if (state.opts.hostFips && caps.has('enable-fips')) cmd.arg('-enable-fips');
    buildMachine(cmd, state, pflash);
    buildAccel(cmd, def);
    if (def.features?.smmTseg !== undefined && def.features.states.smm) cmd.arg('-global', `mch.extended-tseg-mbytes=${def.features.smmTseg / (1024 * 1024)}`);
    buildCpu(cmd, state);
    this.loader();
    buildMemory(cmd, state);
    buildSmp(cmd, state);
    buildIothreads(cmd, state);
    buildNuma(cmd, state);
    cmd.arg('-uuid', def.uuid);
    buildSmbios(cmd, state);
    buildSysinfoFwcfg(cmd, state);
    if (def.genid) this.device(props([['driver', 'vmgenid'], ['guid', def.genid], ['id', 'vmgenid0']]));
    if (!def.devices.graphics.length) cmd.arg('-display', 'none');
    cmd.arg('-no-user-config', '-nodefaults');
    this.monitor();
    buildClock(cmd, state);
    buildPm(cmd, state);
    buildBoot(cmd, state);
    this.iommu();
    for (const c of def.devices.controllers) {
      if (c.type === 'pci' && c.pci?.pcihole64 !== undefined && c.pci.pcihole64 > 0) {
        const host = c.model === 'pci-root' ? 'i440FX-pcihost' : c.model === 'pcie-root' ? 'q35-pcihost' : undefined;
        if (!host) throw internal('64-bit PCI hole setting is only for root PCI controllers');
        cmd.arg('-global', `${host}.pci-hole64-size=${c.pci.pcihole64}K`);
      }
    }
    this.controllers();
    for (const m of def.devices.memories) {
      const p = memoryDeviceParts(state, m);
      cmd.backends(p.backends);
      if (p.device) this.device(p.device);
    }
    for (const h of def.devices.hubs) {
      this.device(addAddressProps(props([['driver', 'usb-hub'], ['id', h.info.alias ?? '']]), def, h.info));
    }
    this.controllersOfType(['ccid']);
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
    if (def.features?.states.vmcoreinfo === true) this.device(props([['driver', 'vmcoreinfo']]));
    this.launchSecurity();
    const ns = qemuNamespaceData(def);
    if (ns) {
      for (const a of ns.args) cmd.arg(a);
      for (const e of ns.env) cmd.setEnv(e.name, e.value ?? '');
    }
    if (cfg.seccompSandbox === 0) {
      if (caps.has('seccomp-sandbox')) cmd.arg('-sandbox', 'off');
    } else if (caps.has('seccomp-sandbox')) cmd.arg('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
    this.panics();
    this.shmems();
    this.vsock();
    this.cryptos();
    cmd.arg('-msg', 'timestamp=on');
    return cmd;
  }

  /** qemuBuildCommandLineValidate. */
  validate(): void {
    const counts = new Map<string, number>();
    for (const g of this.def.devices.graphics) counts.set(g.type, (counts.get(g.type) ?? 0) + 1);
    for (const [, n] of counts) {
      if (n > 1) throw unsupported('only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported');
    }
  }

  pflash(): { pflash0?: string; pflash1?: string } {
    const { def, cmd, state } = this;
    const loader = def.os.loader;
    if (!loader || loader.type !== 'pflash' || !loader.path) return {};
    const out: { pflash0?: string; pflash1?: string } = {};
    const ro = loader.readonly === true;
    cmd.arg('-blockdev', toJson(props([
      ['driver', 'file'], ['filename', loader.path], ['node-name', 'libvirt-pflash0-storage'], ['auto-read-only', true], ['discard', 'unmap'],
    ])));
    cmd.arg('-blockdev', toJson(props([
      ['node-name', 'libvirt-pflash0-format'], ['read-only', ro], ['driver', loader.format ?? 'raw'], ['file', 'libvirt-pflash0-storage'],
    ])));
    out.pflash0 = 'libvirt-pflash0-format';
    const nv = def.os.nvram;
    if (nv && (nv.path || nv.source)) {
      const src = nv.source ?? { type: 'file' as const, path: nv.path };
      const id = 0;
      void id;
      const priv = {
        id: 0, storageNode: 'libvirt-pflash1-storage', formatNode: 'libvirt-pflash1-format', readonly: false, shared: false,
      } as import('./state.js').SourcePriv;
      if (src.auth && src.type === 'network') {
        priv.authSecret = state.secret('libvirt-pflash1-storage-auth-secret0', state.lookupSecret(src.auth.secret, src.protocol === 'rbd' ? 'ceph' : 'iscsi'), src.auth.username);
      }
      state.src.set(src, priv);
      for (const o of sourceDependencies(priv)) cmd.arg('-object', toJson(o));
      cmd.arg('-blockdev', toJson(backendProps(state, src, priv)));
      cmd.arg('-blockdev', toJson(props([
        ['node-name', 'libvirt-pflash1-format'], ['read-only', false], ['driver', nv.format ?? src.format ?? 'raw'], ['file', 'libvirt-pflash1-storage'],
      ])));
      out.pflash1 = 'libvirt-pflash1-format';
    }
    return out;
  }

  loader(): void {
    const loader = this.def.os.loader;
    if (!loader) return;
    if (loader.type === 'rom' || (!loader.type && loader.path && this.def.os.loader?.type !== 'pflash')) {
      if (loader.path) this.cmd.arg('-bios', loader.path);
    } else if (loader.type === 'pflash' && loader.secure) {
      this.cmd.arg('-global', 'driver=cfi.pflash01,property=secure,value=on');
    }
  }

  monitor(): void {
    const { cmd, state } = this;
    const fd = state.opts.monitorFd ?? state.fakeFds?.monitor;
    if (fd !== undefined) cmd.arg('-chardev', `socket,id=charmonitor,fd=${fd},server=on,wait=off`);
    else cmd.arg('-chardev', `socket,id=charmonitor,path=${escapeComma(`${state.libDir}/monitor.sock`)},server=on,wait=off`);
    cmd.arg('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  }

  iommu(): void {
    const i = this.def.devices.iommu;
    if (!i) return;
    if (i.model === 'intel') {
      this.device(props([
        ['driver', 'intel-iommu'], ['id', i.info.alias ?? ''], ['intremap', i.intremap === undefined ? undefined : i.intremap ? 'on' : 'off'],
        ['caching-mode', i.cachingMode], ['eim', i.eim === undefined ? undefined : i.eim ? 'on' : 'off'], ['device-iotlb', i.iotlb], ['aw-bits', nz(i.awBits)],
      ]));
    } else if (i.model === 'virtio') {
      this.device(addAddressProps(props([['driver', 'virtio-iommu'], ['id', i.info.alias ?? '']]), this.def, i.info));
    }
  }

  skipController(c: DomainDef['devices']['controllers'][number]): boolean {
    const def = this.def;
    if (c.type === 'pci' && c.model === 'pcie-root') return true;
    if (c.type === 'pci' && c.model === 'pci-root') return true;
    if (c.type === 'sata' && c.index === 0 && isQ35(def)) return true;
    if (c.type === 'ide' && c.index === 0 && (def.os.machine === 'pc' || def.os.machine?.startsWith('pc-i440fx') || def.os.machine?.startsWith('pc-0') || def.os.machine?.startsWith('pc-1') || def.os.machine === 'isapc')) return true;
    return false;
  }

  controllersOfType(types: string[]): void {
    const def = this.def;
    for (const type of types) {
      for (const c of def.devices.controllers) {
        if (c.type !== type) continue;
        if (c.type === 'pci' && c.model === 'pci-root' && c.index === 0 && c.pci?.hotplug !== undefined) {
          this.cmd.arg('-global', `PIIX4_PM.acpi-root-pci-hotplug=${c.pci.hotplug ? 'on' : 'off'}`);
        }
        if (this.skipController(c)) continue;
        if (c.type === 'usb' && c.model === 'none') continue;
        if (c.type === 'usb' && c.model === undefined && !isQ35(def)) continue;
        const o = controllerDevProps(def, c, this.state.caps);
        if (o) this.device(o);
      }
    }
  }

  controllers(): void {
    this.controllersOfType(['pci', 'usb', 'scsi', 'ide', 'sata', 'virtio-serial']);
    const usb = this.def.devices.controllers.filter((c) => c.type === 'usb');
    if (usb.some((c) => c.model === 'none')) return;
    const legacy = usb.filter((c) => c.model === undefined).length;
    if (legacy > 1) throw unsupported('Multiple legacy USB controllers are not supported');
    if (usb.length - legacy === 0 && !isQ35(this.def) && this.def.os.arch !== 's390' && this.def.os.arch !== 's390x') this.cmd.arg('-usb');
  }

  disks(): void {
    const { def, cmd, state } = this;
    let bootA = 0;
    let bootB = 0;
    let hasFloppy = false;
    for (const d of def.devices.disks) {
      if (d.bus !== 'fdc') continue;
      hasFloppy = true;
      const a = d.info.address;
      const bi = this.bootIndex(d.info) ?? 0;
      if (a?.type === 'drive' && a.unit) bootB = bi;
      else bootA = bi;
    }
    if (hasFloppy) {
      if (needsFDC(def)) this.device(props([['driver', 'isa-fdc'], ['bootindexA', nz(bootA)], ['bootindexB', nz(bootB)]]));
      else {
        if (bootA > 0) cmd.arg('-global', `isa-fdc.bootindexA=${bootA}`);
        if (bootB > 0) cmd.arg('-global', `isa-fdc.bootindexB=${bootB}`);
      }
    }
    for (const disk of def.devices.disks) {
      if (disk.transient && disk.transientShareBacking) continue;
      this.parts(diskParts(state, disk, this.bootIndex(disk.info)));
    }
  }

  filesystems(): void {
    const { def, cmd, state } = this;
    for (const fs of def.devices.filesystems) {
      const drv = fs.driver?.type;
      const alias = fs.info.alias ?? '';
      if (drv === undefined || drv === 'path' || drv === 'handle') {
        let s = drv === 'handle' ? 'handle' : 'local';
        if (drv !== 'handle') {
          if (fs.accessmode === 'mapped') s += ',security_model=mapped';
          else if (fs.accessmode === 'squash') s += ',security_model=none';
          else s += ',security_model=passthrough';
          if (fs.multidevs) s += `,multidevs=${fs.multidevs}`;
          if (fs.fmode) s += `,fmode=${fs.fmode.toString(8).padStart(4, '0')}`;
          if (fs.dmode) s += `,dmode=${fs.dmode.toString(8).padStart(4, '0')}`;
        }
        if (fs.driver?.wrpolicy) s += `,writeout=${fs.driver.wrpolicy}`;
        s += `,id=fsdev-${alias},path=${escapeComma(fs.src ?? '')}`;
        if (fs.readonly) s += ',readonly';
        cmd.arg('-fsdev', s);
        const o = virtioDevProps('virtio-9p', fs.info, state.caps, fs.model, fs.virtio);
        addProps(o, [['id', alias], ['fsdev', `fsdev-${alias}`], ['mount_tag', fs.dst]]);
        this.device(addAddressProps(o, def, fs.info));
      } else if (drv === 'virtiofs') {
        const path = fs.socket ?? `${state.libDir}/${alias}-fs.sock`;
        cmd.arg('-chardev', `socket,id=chr-vu-${alias},path=${escapeComma(path)}`);
        const o = virtioDevProps('vhost-user-fs', fs.info, state.caps, fs.model, fs.virtio);
        addProps(o, [['id', alias], ['chardev', `chr-vu-${alias}`], ['queue-size', nz(fs.driver?.queue)], ['tag', fs.dst], ['bootindex', nz(fs.info.bootOrder)]]);
        this.device(addAddressProps(o, def, fs.info));
      }
    }
  }

  nets(): void {
    for (const net of this.def.devices.interfaces) {
      if (net.type === 'hostdev') continue;
      this.parts(nicParts(this.state, net, this.bootIndex(net.info)));
    }
  }

  smartcards(): void {
    const { def, cmd, state } = this;
    const sc = def.devices.smartcards[0];
    if (!sc) return;
    let o: JsonObject;
    switch (sc.mode) {
      case 'host':
        o = props([['driver', 'ccid-card-emulated'], ['backend', 'nss-emulated']]);
        break;
      case 'host-certificates': {
        const c = sc.certificates ?? [];
        o = props([['driver', 'ccid-card-emulated'], ['backend', 'certificates'], ['cert1', c[0] ?? ''], ['cert2', c[1] ?? ''], ['cert3', c[2] ?? ''], ['db', sc.database ?? '/etc/pki/nssdb']]);
        break;
      }
      default: {
        const alias = `char${sc.info.alias ?? ''}`;
        if (sc.passthrough) emitChardev(cmd, state, sc.passthrough, alias, 'smartcard');
        o = props([['driver', 'ccid-card-passthru'], ['chardev', alias]]);
      }
    }
    const a = sc.info.address;
    const ctrl = a?.type === 'ccid' ? a.controller : 0;
    const c = def.devices.controllers.find((x) => x.type === 'ccid' && x.index === ctrl);
    addProps(o, [['id', sc.info.alias ?? ''], ['bus', `${c?.info.alias ?? ''}.0`]]);
    this.device(o);
  }

  serials(): void {
    const { def, cmd, state } = this;
    const haveSpice = def.devices.graphics.some((g) => g.type === 'spice');
    for (const s of def.devices.serials) {
      const alias = s.info.alias ?? '';
      if (s.source.type === 'spiceport' && !haveSpice) continue;
      emitChardev(cmd, state, s.source, `char${alias}`);
      if (s.targetType === undefined || (s.targetType === 'system-serial' && (s.targetModel === 'pl011' || s.targetModel === '16550a'))) {
        cmd.arg('-serial', `chardev:char${alias}`);
        continue;
      }
      const model = s.targetModel ?? 'isa-serial';
      const capOf: Record<string, string> = { 'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vty': 'spapr-vty' };
      const cap = capOf[model];
      if (cap && !state.caps.has(cap)) throw unsupported(`'${model}' is not supported in this QEMU binary`);
      const o = props([['driver', model], ['chardev', `char${alias}`], ['id', alias]]);
      if (model === 'isa-serial' && s.port >= 0) o.index = s.port;
      this.device(addAddressProps(o, def, s.info));
    }
  }

  parallels(): void {
    const { def, cmd, state } = this;
    for (const p of def.devices.parallels) {
      const alias = p.info.alias ?? '';
      emitChardev(cmd, state, p.source, `char${alias}`);
      this.device(props([['driver', 'isa-parallel'], ['chardev', `char${alias}`], ['id', alias]]));
    }
  }

  virtioSerialPort(chr: ChrDef): JsonObject {
    const def = this.def;
    const driver = chr.deviceType === 'console' ? 'virtconsole' : 'virtserialport';
    if (chr.deviceType === 'channel' && chr.source.type === 'spicevmc' && chr.name && chr.name !== 'com.redhat.spice.0') {
      throw unsupported(`Unsupported spicevmc target name '${chr.name}'`);
    }
    const o = props([['driver', driver]]);
    addAddressProps(o, def, chr.info);
    let name: string | undefined;
    if (chr.deviceType === 'channel' && (chr.source.type === 'spicevmc' || chr.name)) name = chr.name ?? 'com.redhat.spice.0';
    addProps(o, [['chardev', `char${chr.info.alias ?? ''}`], ['id', chr.info.alias ?? ''], ['name', name]]);
    return o;
  }

  channels(): void {
    const { def, cmd, state } = this;
    for (const c of def.devices.channels) {
      const alias = c.info.alias ?? '';
      emitChardev(cmd, state, c.source, `char${alias}`);
      if (c.targetType === 'guestfwd') {
        const addr = c.address ?? '';
        cmd.arg('-netdev', toJson(props([['type', 'user'], ['guestfwd', [{ str: `tcp:${addr}:${c.addressPort ?? 0}-chardev:char${alias}` }]], ['id', alias]])));
      } else if (c.targetType === 'virtio') {
        this.device(this.virtioSerialPort(c));
      } else throw unsupported(`unsupported channel target type '${c.targetType ?? ''}'`);
    }
  }

  consoles(): void {
    const { def, cmd, state } = this;
    def.devices.consoles.forEach((c) => {
      const alias = c.info.alias ?? '';
      switch (c.targetType) {
        case 'virtio':
          emitChardev(cmd, state, c.source, `char${alias}`);
          this.device(this.virtioSerialPort(c));
          break;
        case 'sclp':
        case 'sclplm':
          emitChardev(cmd, state, c.source, `char${alias}`);
          this.device(props([['driver', c.targetType === 'sclp' ? 'sclpconsole' : 'sclplmconsole'], ['chardev', `char${alias}`], ['id', alias]]));
          break;
        case 'serial':
          break;
        default:
          throw unsupported(`unsupported console target type ${c.targetType ?? ''}`);
      }
    });
  }

  tpms(): void {
    const { def, cmd, state } = this;
    for (const tpm of def.devices.tpms) {
      const alias = tpm.info.alias ?? '';
      if (tpm.model === 'spapr-tpm-proxy') {
        this.device(props([['driver', 'spapr-tpm-proxy'], ['id', alias], ['host-path', tpm.devicePath ?? '']]));
        continue;
      }
      let backend = '';
      if (tpm.backend === 'passthrough') {
        const f = state.fakeFds;
        if (!f) throw unsupported('TPM passthrough needs the device opened by the driver');
        const p1 = state.newFdPass();
        const p2 = state.newFdPass();
        cmd.arg('-add-fd', `set=${p1.set},fd=${f.tpm},opaque=${alias}-tpm`);
        cmd.arg('-add-fd', `set=${p2.set},fd=${f.tpmCancel},opaque=${alias}-cancel`);
        backend = `passthrough,id=tpm-${alias},path=/dev/fdset/${p1.set},cancel-path=/dev/fdset/${p2.set}`;
      } else {
        const path = tpm.backend === 'external' ? tpm.source?.path ?? '' : swtpmSocket(state);
        cmd.arg('-chardev', `socket,id=chrtpm,path=${escapeComma(path)}`);
        backend = `emulator,id=tpm-${alias},chardev=chrtpm`;
      }
      cmd.arg('-tpmdev', backend);
      let model = tpm.model ?? 'tpm-tis';
      if (model === 'tpm-tis' && def.os.arch !== 'x86_64' && def.os.arch !== 'i686') model = 'tpm-tis-device';
      this.device(addAddressProps(props([['driver', model], ['tpmdev', `tpm-${alias}`], ['id', alias]]), def, tpm.info));
    }
  }

  inputs(): void {
    const { def, cmd, state } = this;
    for (const i of def.devices.inputs) {
      const alias = i.info.alias ?? '';
      if (i.type === 'evdev') {
        const o = props([['qom-type', 'input-linux'], ['id', alias], ['evdev', i.dev ?? ''], ['repeat', i.repeat]]);
        if (i.grab === 'all') o.grab_all = true;
        if (i.grabToggle) o['grab-toggle'] = i.grabToggle;
        cmd.arg('-object', toJson(o));
        continue;
      }
      if (i.bus === 'usb') {
        const drv = i.type === 'mouse' ? 'usb-mouse' : i.type === 'tablet' ? 'usb-tablet' : 'usb-kbd';
        this.device(addAddressProps(props([['driver', drv], ['id', alias]]), def, i.info));
      } else if (i.bus === 'virtio') {
        const base = i.type === 'mouse' ? 'virtio-mouse' : i.type === 'tablet' ? 'virtio-tablet' : i.type === 'keyboard' ? 'virtio-keyboard' : 'virtio-input-host';
        const o = virtioDevProps(base, i.info, state.caps, i.model, i.virtio);
        addProps(o, [['id', alias], ['evdev', i.type === 'passthrough' ? i.evdev : undefined]]);
        this.device(addAddressProps(o, def, i.info));
      }
    }
  }

  sounds(): void {
    const { def } = this;
    const models: Record<string, string> = { es1370: 'ES1370', ac97: 'AC97', ich6: 'intel-hda', usb: 'usb-audio', ich9: 'ich9-intel-hda', sb16: 'sb16' };
    for (const s of def.devices.sounds) {
      if (s.model === 'pcspk') continue;
      const model = models[s.model];
      if (!model) throw unsupported(`sound card model '${s.model}' is not supported by qemu`);
      const codecs = s.model === 'ich6' || s.model === 'ich9' || s.model === 'ich7';
      const alias = s.info.alias ?? '';
      const o = props([['driver', model], ['id', alias], ['audiodev', codecs ? undefined : audioIdString(def, s.audioId)]]);
      this.device(addAddressProps(o, def, s.info));
      if (codecs) {
        const list = s.codecs.length ? s.codecs : ['duplex'];
        list.forEach((c, cad) => {
          this.device(props([['driver', `hda-${c}`], ['id', `${alias}-codec${cad}`], ['bus', `${alias}.0`], ['cad', cad], ['audiodev', audioIdString(def, s.audioId)]]));
        });
      }
    }
  }

  watchdogs(): void {
    const { def, cmd } = this;
    if (!def.devices.watchdogs.length) return;
    let itco = false;
    let last = def.devices.watchdogs[0]!;
    for (const w of def.devices.watchdogs) {
      last = w;
      if (w.model === 'itco') {
        itco = true;
        continue;
      }
      this.device(addAddressProps(props([['driver', w.model], ['id', w.info.alias ?? '']]), def, w.info));
    }
    if (itco) cmd.arg('-global', 'ICH9-LPC.noreboot=off');
    const action = last.action === 'dump' ? 'pause' : last.action;
    cmd.arg('-watchdog-action', action);
  }

  redirdevs(): void {
    const { def, cmd, state } = this;
    for (const r of def.devices.redirdevs) {
      const alias = r.info.alias ?? '';
      emitChardev(cmd, state, r.source, `char${alias}`, 'usbredir');
      let filter: string | undefined;
      const f = def.devices.redirfilter;
      if (f) {
        const hex = (n: number | undefined, w: number) => (n === undefined || n < 0 ? '-1' : `0x${n.toString(16).toUpperCase().padStart(w, '0')}`);
        filter = f.map((u) => `${hex(u.usbClass, 2)}:${hex(u.vendor, 4)}:${hex(u.product, 4)}:${hex(u.version, 4)}:${u.allow ? 1 : 0}`).join('|');
      }
      const o = props([['driver', 'usb-redir'], ['chardev', `char${alias}`], ['id', alias], ['filter', filter], ['bootindex', nz(r.info.bootOrder)]]);
      this.device(addAddressProps(o, def, r.info));
    }
  }

  hostdevs(): void {
    const { def, cmd, state } = this;
    let scsiFd = state.fakeFds?.tapStart ?? 3;
    for (const h of def.devices.hostdevs) {
      if (h.mode !== 'subsystem') continue;
      const alias = h.info.alias ?? '';
      switch (h.type) {
        case 'usb': {
          const hostdevice = h.usbBus !== undefined && h.usbDevice !== undefined ? `/dev/bus/usb/${String(h.usbBus).padStart(3, '0')}/${String(h.usbDevice).padStart(3, '0')}` : undefined;
          let guestReset: boolean | undefined;
          let resetsAll: boolean | undefined;
          if (h.guestReset === 'off') guestReset = false;
          else if (h.guestReset === 'uninitialized') {
            guestReset = true;
            resetsAll = false;
          } else if (h.guestReset === 'on') {
            guestReset = true;
            resetsAll = true;
          }
          const o = props([
            ['driver', 'usb-host'], ['hostdevice', hostdevice], ['id', alias], ['bootindex', nz(h.info.bootOrder)], ['guest-reset', guestReset], ['guest-resets-all', resetsAll],
          ]);
          this.device(addAddressProps(o, def, h.info));
          break;
        }
        case 'pci': {
          if (h.info.address?.type === 'unassigned') continue;
          const a = h.pciAddress;
          const hx = (n: number, w: number) => n.toString(16).padStart(w, '0');
          const host = a ? `${hx(a.domain, 4)}:${hx(a.bus, 2)}:${hx(a.slot, 2)}.${a.function}` : '';
          const o = props([['driver', 'vfio-pci'], ['host', host], ['id', alias], ['bootindex', nz(this.bootIndex(h.info))]]);
          addAddressProps(o, def, h.info);
          addRomProps(o, h.info);
          this.device(o);
          break;
        }
        case 'scsi':
          this.hostdevScsi(h);
          break;
        case 'scsi_host': {
          if (!state.fakeFds) throw unsupported(`SCSI host device ${h.wwpn ?? ''} needs /dev/vhost-scsi opened by the driver`);
          const fd = String(scsiFd++);
          const o = virtioDevProps('vhost-scsi', h.info, state.caps, h.scsiHostModel, undefined);
          addProps(o, [['wwpn', h.wwpn ?? ''], ['vhostfd', fd], ['id', alias]]);
          this.device(addAddressProps(o, def, h.info));
          break;
        }
        case 'mdev': {
          const model = h.mdevModel === 'vfio-pci' && h.ramfb ? 'vfio-pci-nohotplug' : h.mdevModel ?? 'vfio-pci';
          const o = props([
            ['driver', model], ['id', alias], ['sysfsdev', `/sys/bus/mdev/devices/${h.mdevUuid ?? ''}`], ['display', h.display === undefined ? undefined : h.display ? 'on' : 'off'],
            ['ramfb', h.ramfb ? true : undefined], ['bootindex', nz(h.info.bootOrder)],
          ]);
          this.device(addAddressProps(o, def, h.info));
          break;
        }
        default:
          break;
      }
    }
    void cmd;
  }

  hostdevScsi(h: HostdevDef): void {
    const { def, cmd, state } = this;
    const id = ++state.nodeIndex;
    const backend = `libvirt-${id}-backend`;
    if (h.scsiProtocol === 'iscsi') {
      const src = { type: 'network' as const, protocol: 'iscsi', path: h.iscsiName, hosts: h.iscsiHosts, ...(h.iscsiAuth ? { auth: h.iscsiAuth } : {}), initiatorIqn: h.initiatorIqn };
      const priv: import('./state.js').SourcePriv = { id, storageNode: backend, formatNode: backend, readonly: !!h.readonly, shared: !!h.shareable };
      if (h.iscsiAuth) priv.authSecret = state.secret(`${backend}-secret0`, state.lookupSecret(h.iscsiAuth.secret, 'iscsi'), h.iscsiAuth.username);
      state.src.set(src as never, priv);
      if (priv.authSecret) cmd.arg('-object', toJson(secretProps(priv.authSecret)));
      cmd.arg('-blockdev', toJson(backendProps(state, src as never, priv, { autoReadOnly: false, skipUnmap: true })));
    } else {
      const a = h.scsiAddress ?? { bus: 0, target: 0, unit: 0 };
      const name = (state.opts.scsiGenericName ?? scsiGenericName)(h.adapter ?? '', a.bus, a.target, a.unit);
      if (!name) throw unsupported(`SCSI host device ${h.adapter ?? ''}:${a.bus}:${a.target}:${a.unit} has no SCSI generic node`);
      const sg = `/dev/${name}`;
      const o = props([['driver', 'host_device'], ['filename', sg], ['node-name', backend], ['read-only', !!h.readonly]]);
      cmd.arg('-blockdev', toJson(o));
    }
    const o = props([['driver', 'scsi-generic'], ['drive', backend], ['id', h.info.alias ?? ''], ['bootindex', nz(h.info.bootOrder)]]);
    this.device(addAddressProps(o, def, h.info, 'scsi'));
  }

  memballoon(): void {
    const { def, state } = this;
    const b = def.devices.memballoon;
    if (!b || b.model === 'none' || b.model === 'xen') return;
    const o = virtioDevProps('virtio-balloon', b.info, state.caps, b.model === 'virtio' ? undefined : b.model, b.virtio);
    addProps(o, [['id', b.info.alias ?? ''], ['deflate-on-oom', b.autodeflate], ['free-page-reporting', b.freePageReporting]]);
    this.device(addAddressProps(o, def, b.info));
  }

  rngs(): void {
    const { def, cmd, state } = this;
    for (const r of def.devices.rngs) {
      const alias = r.info.alias ?? '';
      if (r.backend === 'egd' && r.chardev) emitChardev(cmd, state, r.chardev, `char${alias}`);
      let obj: JsonObject;
      if (r.backend === 'random') obj = props([['qom-type', 'rng-random'], ['id', `obj${alias}`], ['filename', r.file ?? '/dev/urandom']]);
      else if (r.backend === 'egd') obj = props([['qom-type', 'rng-egd'], ['id', `obj${alias}`], ['chardev', `char${alias}`]]);
      else obj = props([['qom-type', 'rng-builtin'], ['id', `obj${alias}`]]);
      cmd.arg('-object', toJson(obj));
      const o = virtioDevProps('virtio-rng', r.info, state.caps, r.model === 'virtio' ? undefined : r.model, r.virtio);
      const bytes = r.rate?.bytes ?? 0;
      addProps(o, [['rng', `obj${alias}`], ['id', alias], ['max-bytes', nz(bytes)], ['period', bytes ? r.rate?.period || 1000 : undefined]]);
      this.device(addAddressProps(o, def, r.info));
    }
  }

  launchSecurity(): void {
    const { def, cmd, state } = this;
    const ls = def.launchSecurity as unknown as { type: string; cbitpos?: number; reducedPhysBits?: number; policy?: number; dhCert?: string; session?: string; kernelHashes?: boolean } | undefined;
    if (!ls) return;
    if (ls.type === 'sev') {
      cmd.arg('-object', toJson(props([
        ['qom-type', 'sev-guest'], ['id', 'lsec0'], ['cbitpos', ls.cbitpos ?? 0], ['reduced-phys-bits', ls.reducedPhysBits ?? 0], ['policy', ls.policy ?? 0],
        ['dh-cert-file', ls.dhCert ? `${state.libDir}/dh_cert.base64` : undefined], ['session-file', ls.session ? `${state.libDir}/session.base64` : undefined],
        ['kernel-hashes', ls.kernelHashes],
      ])));
    } else if (ls.type === 's390-pv') cmd.arg('-object', toJson(props([['qom-type', 's390-pv-guest'], ['id', 'lsec0']])));
  }

  panics(): void {
    const { def } = this;
    for (const p of def.devices.panics) {
      if (p.model === 'isa') {
        const o = props([['driver', 'pvpanic']]);
        const a = p.info.address;
        if (a?.type === 'isa') o.ioport = a.iobase ?? 0;
        this.device(o);
      } else if (p.model === 'pvpanic') {
        this.device(addAddressProps(props([['driver', 'pvpanic-pci']]), def, p.info));
      }
    }
  }

  shmems(): void {
    const { def, cmd, state } = this;
    for (const s of def.devices.shmems) {
      const alias = s.info.alias ?? '';
      if (s.size && (s.size & (s.size - 1)) !== 0) throw new VirtError('XML_ERROR', 'shmem size must be a power of two', { origin: 'qemu' });
      if (s.size && s.size < 1024 * 1024) throw new VirtError('XML_ERROR', 'shmem size must be at least 1 MiB (1024 KiB)', { origin: 'qemu' });
      if (s.info.address?.type !== 'pci') throw unsupported("only 'pci' addresses are supported for the shared memory device");
      if (s.model === 'ivshmem-plain') {
        cmd.arg('-object', toJson(props([['qom-type', 'memory-backend-file'], ['id', `shmmem-${alias}`], ['mem-path', `/dev/shm/${s.name}`], ['size', s.size ?? 0], ['share', true]])));
      }
      const server = !!s.server;
      const master = s.role === 'master' ? 'on' : s.role === 'peer' ? 'off' : undefined;
      const o = props([
        ['driver', s.model], ['id', alias], ['chardev', server ? `char${alias}` : undefined], ['memdev', server ? undefined : `shmmem-${alias}`],
        ['master', server ? undefined : master], ['vectors', nz(s.msi?.vectors)], ['ioeventfd', s.msi?.ioeventfd],
      ]);
      this.device(addAddressProps(o, def, s.info));
      if (server) {
        emitChardev(cmd, state, { type: 'unix', path: s.server?.path ?? `/var/lib/libvirt/shmem-${s.name}-sock` }, `char${alias}`);
      }
    }
  }

  vsock(): void {
    const { def, state } = this;
    const v = def.devices.vsock;
    if (!v) return;
    const fd = state.fakeFds?.vsockVhost;
    if (fd === undefined) throw unsupported('vsock needs /dev/vhost-vsock opened by the driver');
    const o = virtioDevProps('vhost-vsock', v.info, state.caps, v.model === 'virtio' ? undefined : v.model, v.virtio);
    addProps(o, [['id', v.info.alias ?? ''], ['guest-cid', v.cid ?? 0], ['vhostfd', String(fd)]]);
    this.device(addAddressProps(o, def, v.info));
  }

  cryptos(): void {
    const { def, cmd, state } = this;
    for (const c of def.devices.cryptos) {
      const alias = c.info.alias ?? '';
      const cc = c as unknown as { backend?: string; queues?: number; virtio?: import('@virtkit/core').VirtioOptions };
      const be = cc.backend === 'lkcf' ? 'cryptodev-backend-lkcf' : 'cryptodev-backend-builtin';
      cmd.arg('-object', toJson(props([['qom-type', be], ['id', `obj${alias}`], ['queues', nz(cc.queues)]])));
      const o = virtioDevProps('virtio-crypto', c.info, state.caps, undefined, cc.virtio);
      addProps(o, [['cryptodev', `obj${alias}`], ['id', alias]]);
      this.device(addAddressProps(o, def, c.info));
    }
  }
}

function swtpmSocket(state: BuildState): string {
  return state.opts.swtpmSocketPath ?? `${state.cfg.stateDir}/swtpm/${state.shortName}-swtpm.sock`;
}

/** qemuDomainNeedsFDC: q35 machines from 2.4 on have no implicit floppy controller. */
export function needsFDC(def: DomainDef): boolean {
  if (!isQ35(def)) return false;
  const m = def.os.machine ?? '';
  const v = m.startsWith('pc-q35-') ? m.slice(7) : undefined;
  if (v && (v.startsWith('1.') || v === '2.0' || v === '2.1' || v === '2.2' || v === '2.3')) return false;
  return true;
}

/**
 * The QEMU command line for a parsed domain (qemuBuildCommandLine after
 * qemuProcessPrepareDomain). The definition is modified the way a start
 * modifies the live definition (addresses, aliases, ports).
 */
export function buildQemuCommandLine(def: DomainDef, caps: QemuCapabilities, opts: QemuCommandOptions = {}): QemuCommandLine {
  const cfg = opts.config ?? defaultQemuDriverConfig();
  const state = new BuildState(def, caps, cfg, opts);
  const cmd = new Builder(state).build();
  return { binary: cmd.binary, env: cmd.env, args: cmd.args };
}

/**
 * domxml-to-native for qemu-argv: parses domain XML with the QEMU driver's
 * defaults and returns the command line libvirt would run.
 */
export function domainXmlToQemuArgv(xml: string, caps: QemuCapabilities, opts: QemuCommandOptions = {}): QemuCommandLine {
  const config = qemuParserConfig(caps, { ...(opts.config ? { config: opts.config } : {}), ...(opts.swtpmVersions ? { swtpmVersions: opts.swtpmVersions } : {}) });
  const def = parseDomainXml(xml, { inactive: true, config });
  return buildQemuCommandLine(def, caps, opts);
}

/** Re-exported for the driver: the XML a started domain reports. */
export function formatLiveDomain(def: DomainDef, caps: QemuCapabilities): string {
  return formatDomainXml(def, { config: qemuParserConfig(caps) });
}
