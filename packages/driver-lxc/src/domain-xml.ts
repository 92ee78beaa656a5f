/**
 * The LXC driver's part of the domain XML parser (libvirt's
 * virLXCDriverDomainDefParserConfig and virLXCDriverDomainXMLNamespace):
 * the default emulator, console targets of type `lxc`, the capabilities
 * check (exe guests of the host's architecture and its 32-bit sibling,
 * domain type lxc) and the `<lxc:namespace>` elements.
 */
import {
  formatDomainXml,
  parseDomainXml,
  VirtError,
  type DomainDef,
  type DomainParserConfig,
  type DomainXmlNamespace,
  type XmlElement,
} from '@virtkit/core';

export const LXC_NAMESPACE_URI = 'http://libvirt.org/schemas/domain/lxc/1.0';
/** Emulator libvirt's LXC driver reports (and writes into definitions without one). */
export const LXC_DEFAULT_EMULATOR = '/usr/libexec/libvirt_lxc';

export const LXC_SHARE_KINDS = ['sharenet', 'shareipc', 'shareuts'] as const;
export type LxcShareKind = (typeof LXC_SHARE_KINDS)[number];
export const LXC_SHARE_SOURCES = ['name', 'pid', 'netns'] as const;
export type LxcShareSource = (typeof LXC_SHARE_SOURCES)[number];

/** One `<lxc:sharenet type='netns' value='red'/>`: a namespace taken from elsewhere instead of a new one. */
export interface LxcShare {
  kind: LxcShareKind;
  type: LxcShareSource;
  value: string;
}

function nsError(msg: string): VirtError {
  return new VirtError('XML_ERROR', `<lxc:namespace>: ${msg}`, { origin: 'lxc' });
}

/** `<lxc:namespace>` as libvirt's lxcDomainDefNamespaceParse/FormatXML read and write it. */
export const LXC_XML_NAMESPACE: DomainXmlNamespace = {
  prefix: 'lxc',
  uri: LXC_NAMESPACE_URI,
  parse(elements: XmlElement[]) {
    const out: LxcShare[] = [];
    for (const ns of elements) {
      if (ns.name !== 'lxc:namespace') continue;
      for (const s of ns.elements()) {
        const kind = s.name.replace(/^lxc:/, '') as LxcShareKind;
        if (!LXC_SHARE_KINDS.includes(kind)) {
          throw new VirtError('CONFIG_UNSUPPORTED', `<lxc:namespace>: unsupported Namespace feature: ${kind}`, { origin: 'lxc' });
        }
        const type = s.attr('type');
        if (type === undefined) throw nsError('No lxc environment type specified');
        if (!(LXC_SHARE_SOURCES as readonly string[]).includes(type)) throw nsError(`Unknown LXC namespace source '${type}'`);
        const value = s.attr('value');
        if (value === undefined) throw nsError('No lxc environment type specified');
        const i = out.findIndex((x) => x.kind === kind);
        const share = { kind, type: type as LxcShareSource, value };
        if (i >= 0) out[i] = share;
        else out.push(share);
      }
    }
    return out.length ? out : undefined;
  },
  format(w, data) {
    const shares = data as LxcShare[];
    w.open('lxc:namespace');
    for (const kind of LXC_SHARE_KINDS) {
      const s = shares.find((x) => x.kind === kind);
      if (s) w.empty(`lxc:${kind}`, [['type', s.type], ['value', s.value]]);
    }
    w.close('lxc:namespace');
  },
};

/** The `<lxc:namespace>` shares of a definition. */
export function lxcShares(def: DomainDef): LxcShare[] {
  return (def.namespaceData?.get(LXC_NAMESPACE_URI) as LxcShare[] | undefined) ?? [];
}

/** libvirt's architecture name for Node's `process.arch`. */
export function hostArchName(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'x86_64', ia32: 'i686', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64',
    mips64el: 'mips64el', loong64: 'loongarch64',
  };
  return map[arch] ?? arch;
}

/** The 32-bit architecture a 64-bit host runs through personality(2) (lxcContainerGetAlt32bitArch). */
export function alt32bitArch(arch: string): string | undefined {
  const map: Record<string, string> = { x86_64: 'i686', aarch64: 'armv7l', ppc64: 'ppc', ppc64le: 'ppc', s390x: 's390', mips64: 'mips', mips64el: 'mipsel' };
  return map[arch];
}

/** Guest architectures an LXC host runs: its own and its 32-bit sibling. */
export function lxcGuestArches(hostArch: string): string[] {
  const alt = alt32bitArch(hostArch);
  return alt ? [hostArch, alt] : [hostArch];
}

/**
 * The LXC driver's parser configuration for a host architecture (default:
 * this machine's). Definitions must be `<domain type='lxc'>` with
 * `<os><type>exe</type>` for one of the host's guest architectures.
 */
export function lxcParserConfig(hostArch: string = hostArchName()): DomainParserConfig {
  const arches = lxcGuestArches(hostArch);
  return {
    name: 'lxc',
    defaultEmulator: () => LXC_DEFAULT_EMULATOR,
    domainPostParse(def) {
      // virCapabilitiesDomainSupported: an exe guest of a known arch, domain type lxc.
      const bad: string[] = [];
      if (def.os.type !== 'exe') bad.push(`ostype=${def.os.type}`);
      if (def.os.arch !== undefined && !arches.includes(def.os.arch)) bad.push(`arch=${def.os.arch}`);
      if (def.type !== 'lxc') bad.push(`domaintype=${def.type}`);
      if (bad.length) {
        throw new VirtError('INVALID_ARG', `domain '${def.name}': could not find capabilities for ${bad.join(' ')}`, { origin: 'lxc' });
      }
    },
    devicePostParse(dev) {
      if (dev.kind === 'chr' && dev.def.deviceType === 'console' && dev.def.targetType === undefined) dev.def.targetType = 'lxc';
    },
    namespaces: [LXC_XML_NAMESPACE],
  };
}

/** The parser configuration for this machine. */
export const LXC_PARSER_CONFIG: DomainParserConfig = lxcParserConfig();

export interface LxcParseOptions {
  /** Parse as a live definition (keeps `id`, runtime data). */
  live?: boolean;
  config?: DomainParserConfig;
  what?: string;
}

/** Parses an LXC domain definition; rejects other domain and OS types. */
export function parseLxcDomain(xml: string, opts: LxcParseOptions = {}): DomainDef {
  return parseDomainXml(xml, { inactive: !opts.live, config: opts.config ?? LXC_PARSER_CONFIG, what: opts.what ?? 'domain XML' });
}

export interface LxcFormatOptions {
  /** Live id (≥ 0 formats `<domain id=…>`). */
  id?: number;
  inactive?: boolean;
  secure?: boolean;
  migratable?: boolean;
  config?: DomainParserConfig;
}

/** Formats a definition as libvirt's LXC driver prints it. */
export function formatLxcDomain(def: DomainDef, opts: LxcFormatOptions = {}): string {
  const inactive = !!opts.inactive || opts.id === undefined || opts.id < 0;
  return formatDomainXml(inactive ? def : { ...def, id: opts.id! }, {
    inactive,
    secure: !!opts.secure,
    migratable: !!opts.migratable,
    config: opts.config ?? LXC_PARSER_CONFIG,
  });
}
