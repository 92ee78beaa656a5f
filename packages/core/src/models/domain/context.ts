import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import type { DomainDef } from './domain.js';
import type { DomainDevice } from './devices/index.js';

/**
 * Switches of the generic parser that a driver turns on, after libvirt's
 * VIR_DOMAIN_DEF_FEATURE_* flags.
 */
export interface DomainParserFeatures {
  /** <vcpus> with per-vCPU state is accepted (VIR_DOMAIN_DEF_FEATURE_INDIVIDUAL_VCPUS). */
  individualVcpus?: boolean;
  /** User aliases ("ua-…") survive an inactive parse (USER_ALIAS). */
  userAlias?: boolean;
  /** Domain names may contain '/' (NAME_SLASH). */
  nameSlash?: boolean;
  /** <interface><model type='…'> may be any string (NET_MODEL_STRING); always accepted here. */
  netModelString?: boolean;
  /** Per-device <boot order> is refused (NO_BOOT_ORDER). */
  noBootOrder?: boolean;
  /** <os firmware='…'> autoselection is supported (FW_AUTOSELECT). */
  fwAutoselect?: boolean;
  /** Pinning of offline vCPUs is allowed (OFFLINE_VCPUPIN). */
  offlineVcpupin?: boolean;
  /** SCSI buses have 16 units (unit 7 reserved for the controller) instead of 7 (WIDE_SCSI). */
  wideScsi?: boolean;
}

/** Options of one parse (libvirt's VIR_DOMAIN_DEF_PARSE_* flags). */
export interface DomainParseOptions {
  /** VIR_DOMAIN_DEF_PARSE_INACTIVE: drop runtime-only data (id, auto ports, non-user aliases, …). */
  inactive?: boolean;
  /** VIR_DOMAIN_DEF_PARSE_STATUS: the driver's own saved live state, which keeps what user XML may not set (auto-allocated graphics ports). */
  status?: boolean;
  /** VIR_DOMAIN_DEF_PARSE_ABI_UPDATE: recompute values that define the guest ABI (memory from NUMA cells). */
  abiUpdate?: boolean;
  /** Skip validateDomainDef (libvirt's VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE). */
  skipValidate?: boolean;
  /** Skip all post-parse processing, driver callbacks included (for status/round-trip tooling). */
  skipPostParse?: boolean;
  /** The driver's configuration. */
  config?: DomainParserConfig;
  /** Name used in error messages for the document. */
  what?: string;
  /** Random source for generated UUIDs, genids and MACs (tests pass a fixed one). */
  randomBytes?: (n: number) => Uint8Array;
}

/** Options of one format (libvirt's VIR_DOMAIN_DEF_FORMAT_* / VIR_DOMAIN_XML_* flags). */
export interface DomainFormatOptions {
  /** VIR_DOMAIN_XML_INACTIVE: the persistent definition, without runtime data. */
  inactive?: boolean;
  /** VIR_DOMAIN_XML_SECURE: keep passwords. */
  secure?: boolean;
  /** VIR_DOMAIN_XML_MIGRATABLE: leave out what the destination re-creates (implies inactive-like device defaults). */
  migratable?: boolean;
  /** Namespaces (qemu:, lxc:) that know how to format their data; defaults to the parse-time config's. */
  config?: DomainParserConfig;
  /** Indentation of the root element (for embedding, e.g. in snapshot XML). */
  indent?: number;
  /** Root element name (libvirt formats <domain>; snapshots embed <inactiveDomain>). */
  rootName?: string;
}

/**
 * An XML namespace extension (libvirt's virXMLNamespace): elements such as
 * <qemu:commandline> or <lxc:namespace> that a driver understands.
 */
export interface DomainXmlNamespace {
  /** Prefix used in documents ("qemu"). */
  prefix: string;
  /** Namespace URI ("http://libvirt.org/schemas/domain/qemu/1.0"). */
  uri: string;
  /** Reads the namespace's elements (children of <domain> with this namespace's prefix) into driver data. */
  parse(elements: XmlElement[]): unknown;
  /** Writes the driver data back (called only when parse returned something). */
  format(w: XmlWriter, data: unknown): void;
}

/**
 * What a hypervisor driver plugs into the generic parser, like libvirt's
 * virDomainDefParserConfig + virDomainXMLOption. Every callback is
 * optional; the generic parser applies no hypervisor defaults itself.
 *
 * Order of calls on parse: XML → DomainDef, generic normalisation that
 * libvirt does while parsing, then `domainPostParseBasic`, `domainPostParse`,
 * `devicePostParse` for every device, the generic post-parse (implicit
 * controllers, console compat, memory totals, …), `assignAddresses`,
 * `domainPostParseLate`, then validation (generic, `validateDomain`,
 * `validateDevice`).
 */
export interface DomainParserConfig {
  /** Driver name, for messages ("qemu", "lxc"). */
  name?: string;
  features?: DomainParserFeatures;
  /** Emulator used when <emulator> is absent. */
  defaultEmulator?(def: DomainDef): string | undefined;
  /** Before anything else runs after parsing (libvirt's domainPostParseBasicCallback): fill emulator, arch, machine. */
  domainPostParseBasic?(def: DomainDef, opts: DomainParseOptions): void;
  /** The driver's domain post-parse (machine-type defaults, features, CPU model, …). */
  domainPostParse?(def: DomainDef, opts: DomainParseOptions): void;
  /** Called for each device after domainPostParse (default models, default targets, …). */
  devicePostParse?(dev: DomainDevice, def: DomainDef, opts: DomainParseOptions): void;
  /** Assigns bus addresses (PCI slots, drive units, USB ports, …) after the implicit devices exist. */
  assignAddresses?(def: DomainDef, opts: DomainParseOptions): void;
  /** After addresses are assigned (libvirt's domainPostParseDataFree/late hooks: aliases etc.). */
  domainPostParseLate?(def: DomainDef, opts: DomainParseOptions): void;
  /** Driver checks run after the generic validation; throw VirtError to reject. */
  validateDomain?(def: DomainDef, opts: DomainParseOptions): void;
  validateDevice?(dev: DomainDevice, def: DomainDef, opts: DomainParseOptions): void;
  /** Namespaced elements the driver understands. Unknown ones are kept verbatim either way. */
  namespaces?: DomainXmlNamespace[];
  /**
   * Whether the generic parser adds a <video> device when graphics exist
   * and no video was given (libvirt's virDomainDefAddImplicitVideo); the
   * callback returns the model type to use, or undefined for none.
   */
  implicitVideoModel?(def: DomainDef): string | undefined;
  /** Domain types (virt types) the driver accepts; others are rejected. Unset means any. */
  domainTypes?: readonly string[];
}

export interface ParseContext {
  inactive: boolean;
  config: DomainParserConfig;
  opts: DomainParseOptions;
}

export interface FormatContext {
  inactive: boolean;
  secure: boolean;
  migratable: boolean;
  config: DomainParserConfig | undefined;
}
