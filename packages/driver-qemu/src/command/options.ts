/**
 * Inputs of the command-line generator besides the domain and the QEMU
 * capabilities: driver config, the domain's runtime id, and the resources
 * a real start would open (descriptors, secrets, ports). Tests and
 * `domxml-to-native` give fixed stand-ins; a real start gives real ones.
 */
import type { SecretRef, StoragePoolDef } from '@virtkit/core';
import type { QemuDriverConfig } from '../defaults/config.js';
import type { FirmwareDescriptor } from '../defaults/firmware.js';

/** Descriptor numbers to put on the command line instead of opening files (libvirt's test harness uses fixed numbers). */
export interface QemuFakeFds {
  /** The QMP monitor socket (listening). */
  monitor: number;
  /** Listening UNIX sockets of chardevs (passed as fd=N). */
  chardevListen: number;
  /** vhost-user GPU socket. */
  vhostUserGpu: number;
  /** File-backed chardev output. */
  chardevFile: number;
  /** Chardev log file. */
  chardevLog: number;
  tpm: number;
  tpmCancel: number;
  vdpa: number;
  /** First tap descriptor (and vhost-scsi). */
  tapStart: number;
  /** First vhost-net descriptor. */
  vhostNetStart: number;
  vsockVhost: number;
}

export interface QemuCommandOptions {
  config?: QemuDriverConfig;
  /** Runtime domain id (paths use "<id>-<name>"); -1 for a domain that is not running. */
  domainId?: number;
  /**
   * Descriptor stand-ins; when absent, paths are used where QEMU accepts
   * them and tap NICs are opened by name (`ifname=<target dev>,script=no`).
   */
  fakeFds?: QemuFakeFds;
  /** The monitor chardev uses this passed descriptor (a listening socket) instead of a socket path. */
  monitorFd?: number;
  /** `-no-shutdown` (libvirt's, the default): a guest that powers off leaves QEMU paused; false lets QEMU end. */
  noShutdown?: boolean;
  /** Whether QEMU can open /dev/vhost-net for tap NICs opened by name; probed when absent. */
  vhostNetAvailable?: () => boolean;
  /** Guest CID given to a vsock with auto_cid (a real start probes a free one). */
  vsockAutoCid?: number;
  /** Looks up a secret's value (disk auth, LUKS, TLS keys, VNC password). */
  lookupSecret?: (ref: SecretRef, usageType: string) => string;
  /** The domain's master key (32 bytes) used to encrypt secrets on the command line. */
  masterKey?: Uint8Array;
  /** Initialisation vector for each encrypted secret (16 bytes); random when absent. */
  secretIv?: () => Uint8Array;
  /** Epoch seconds used for clock offsets (a frozen clock in tests). */
  now?: () => number;
  /** Seconds east of UTC of the host's local time (for `<clock basis='localtime'>`); from the process's timezone when absent. */
  localUtcOffset?: () => number;
  /** Descriptors passed in for `<source fdgroup>` disks. */
  fdGroups?: Record<string, number[]>;
  /** Storage pools by name, for `<disk type='volume'>`. */
  lookupPool?: (name: string) => StoragePoolDef | undefined;
  /** A volume of a pool: its type (virStorageVolType) and path. */
  lookupVolume?: (pool: string, volume: string) => { type: 'file' | 'block' | 'dir' | 'network' | 'netdir' | 'ploop'; path: string } | undefined;
  /** Display ports to give auto-port graphics; absent means libvirt's placeholders (5900, 5901/5902, websocket 5700). */
  allocatePort?: (kind: 'display' | 'websocket') => number;
  /** Host is in FIPS mode (-enable-fips). */
  hostFips?: boolean;
  /** Host page size in KiB (default from config). */
  hostPageSizeKiB?: number;
  /** Host NUMA nodes available for memory binding. */
  hostNumaNodes?: number[];
  /** TPM versions the host's swtpm supports. */
  swtpmVersions?: string[];
  /** The driver's environment QEMU inherits (PATH, USER, LOGNAME); the process's own when absent. */
  env?: { PATH?: string; USER?: string; LOGNAME?: string };
  /** Whether a host block device is an optical drive (host_cdrom); probed through sysfs when absent. */
  isCdrom?: (path: string) => boolean;
  /** The host's DRM render node for GL displays without one; the first /dev/dri/renderD* when absent. */
  drmRenderNode?: () => string | undefined;
  /** Firmware descriptors for `<os firmware=…>` autoselection; read from /usr/share/qemu/firmware and /etc/qemu/firmware when absent. */
  firmwareDescriptors?: FirmwareDescriptor[];
  /** The sgN node of a host SCSI device (adapter, bus, target, unit); looked up in sysfs when absent. */
  scsiGenericName?: (adapter: string, bus: number, target: number, unit: number) => string | undefined;
  /** Path of the swtpm control socket (default under the driver's state dir). */
  swtpmSocketPath?: string;
}
