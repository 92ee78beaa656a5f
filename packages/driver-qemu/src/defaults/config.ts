/**
 * The QEMU driver's settings that shape domain definitions and command
 * lines (libvirt's qemu.conf, virQEMUDriverConfig): directories, TLS and
 * SASL switches of the graphics and chardev backends, hugepage mounts,
 * audio fallbacks.
 */

export interface HugetlbfsMount {
  /** Mount point ("/dev/hugepages2M"). */
  mnt: string;
  /** Page size in KiB. */
  size: number;
  /** The host's default huge page size. */
  default?: boolean;
}

export interface QemuDriverConfig {
  /** Per-domain state lives in `${libDir}/domain-${id}-${shortName}`. */
  libDir: string;
  /** Runtime state (sockets of helper daemons such as passt and swtpm). */
  stateDir: string;
  /** Sockets of virtio channels without a path: `${channelTargetDir}/domain-…/name`. */
  channelTargetDir: string;
  nvramDir: string;
  memoryBackingDir: string;
  hugetlbfs: HugetlbfsMount[];
  /** Host page size in KiB. */
  hostPageSizeKiB: number;
  vncListen: string;
  vncAutoUnixSocket: boolean;
  vncTLS: boolean;
  vncTLSx509certdir: string;
  vncTLSx509verify: boolean;
  vncTLSx509secretUUID?: string;
  vncSASL: boolean;
  vncSASLdir?: string;
  vncPassword?: string;
  vncAllowHostAudio: boolean;
  spiceListen: string;
  spiceAutoUnixSocket: boolean;
  spiceTLS: boolean;
  spiceTLSx509certdir: string;
  spiceSASL: boolean;
  spiceSASLdir?: string;
  spicePassword?: string;
  chardevTLS: boolean;
  chardevTLSx509certdir: string;
  chardevTLSx509verify: boolean;
  chardevTLSx509secretUUID?: string;
  nbdTLS: boolean;
  nbdTLSx509certdir: string;
  nbdTLSx509secretUUID?: string;
  vxhsTLS: boolean;
  vxhsTLSx509certdir: string;
  vxhsTLSx509secretUUID?: string;
  defaultTLSx509certdir: string;
  nogfxAllowHostAudio: boolean;
  dumpGuestCore: boolean;
  /** -1: libvirt's default (sandbox on when QEMU supports it), 0: off, 1: on. */
  seccompSandbox: number;
  setProcessName: boolean;
  /** First and last port of the display (VNC/SPICE) port range. */
  remotePortMin: number;
  remotePortMax: number;
  webSocketPortMin: number;
  webSocketPortMax: number;
  /** Environment consulted for audio fallbacks (QEMU_AUDIO_DRV, SDL_AUDIODRIVER). */
  env: Record<string, string | undefined>;
}

/** qemu.conf defaults of a privileged libvirt 9.0. */
export function defaultQemuDriverConfig(overrides: Partial<QemuDriverConfig> = {}): QemuDriverConfig {
  const libDir = overrides.libDir ?? '/var/lib/libvirt/qemu';
  return {
    libDir,
    stateDir: '/run/libvirt/qemu',
    channelTargetDir: `${libDir}/channel/target`,
    nvramDir: `${libDir}/nvram`,
    memoryBackingDir: `${libDir}/ram`,
    hugetlbfs: [],
    hostPageSizeKiB: 4,
    vncListen: '127.0.0.1',
    vncAutoUnixSocket: false,
    vncTLS: false,
    vncTLSx509certdir: '/etc/pki/libvirt-vnc',
    vncTLSx509verify: false,
    vncSASL: false,
    vncAllowHostAudio: false,
    spiceListen: '127.0.0.1',
    spiceAutoUnixSocket: false,
    spiceTLS: false,
    spiceTLSx509certdir: '/etc/pki/libvirt-spice',
    spiceSASL: false,
    chardevTLS: false,
    chardevTLSx509certdir: '/etc/pki/libvirt-chardev',
    chardevTLSx509verify: false,
    nbdTLS: false,
    nbdTLSx509certdir: '/etc/pki/libvirt-nbd',
    vxhsTLS: false,
    vxhsTLSx509certdir: '/etc/pki/libvirt-vxhs',
    defaultTLSx509certdir: '/etc/pki/qemu',
    nogfxAllowHostAudio: false,
    dumpGuestCore: false,
    seccompSandbox: -1,
    setProcessName: false,
    remotePortMin: 5900,
    remotePortMax: 65535,
    webSocketPortMin: 5700,
    webSocketPortMax: 65535,
    env: {},
    ...overrides,
  };
}
