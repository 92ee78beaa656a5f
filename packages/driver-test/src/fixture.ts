import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  formatXml,
  interfaceFromElement,
  networkFromElement,
  parseUnsigned,
  parseXml,
  storagePoolFromElement,
  storageVolFromElement,
  VirtError,
  XmlElement,
  type DomainState,
  type NodeInfo,
} from '@virtkit/core';
import { parseTestDomain } from './domain-doc.js';
import { TestHost, type TestCell } from './host.js';

/** libvirt's test driver defaults (test_driver.c: defaultNodeInfo, defaultConnXML). */
const DEFAULT_NODE_INFO: NodeInfo = { model: 'i686', memoryKiB: 3 * 1024 * 1024, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 };

const DEFAULT_CELLS: TestCell[] = [
  { memKiB: 2 * 1024 * 1024, cpus: [0, 1, 2, 3, 4, 5, 6, 7] },
  { memKiB: 4 * 1024 * 1024, cpus: [8, 9, 10, 11, 12, 13, 14, 15] },
];

const DEFAULT_NODE = `<node>
<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory>8388608</memory>
  <currentMemory>2097152</currentMemory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default' bridge='virbr0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x2' function='0x0'/>
    </memballoon>
  </devices>
</domain>
<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
<interface type='ethernet' name='eth1'>
  <start mode='onboot'/>
  <mac address='aa:bb:cc:dd:ee:ff'/>
  <mtu size='1492'/>
  <protocol family='ipv4'>
    <ip address='192.168.0.5' prefix='24'/>
    <route gateway='192.168.0.1'/>
  </protocol>
</interface>
<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <target>
    <path>/default-pool</path>
  </target>
</pool>
</node>`;

const TEST_NS = 'http://libvirt.org/schemas/domain/test/1.0';
const RUNSTATES: DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];

function fixtureError(file: string, msg: string): VirtError {
  return new VirtError('XML_ERROR', `test fixture '${file}': ${msg}`, { origin: 'test' });
}

/** An element of the node document, or the root of the file its `file=` attribute names. */
function resolveElement(el: XmlElement, dir: string, file: string): XmlElement {
  const ref = el.attr('file');
  if (ref === undefined) return el;
  const path = isAbsolute(ref) ? ref : resolve(dir, ref);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fixtureError(file, `cannot read '${ref}': ${(err as Error).message}`);
  }
  const root = parseXml(text, path);
  if (root.name !== el.name) throw fixtureError(file, `'${ref}' holds <${root.name}>, expected <${el.name}>`);
  return root;
}

/**
 * The test driver's own namespace in a domain (`<test:runstate>`,
 * `<test:transient/>`, `<test:hasmanagedsave/>`): read, then removed so the
 * definition is formatted without it, as libvirt does.
 */
function takeTestNamespace(el: XmlElement, file: string): { state: DomainState; transient: boolean; managedSave: boolean } {
  let prefix: string | undefined;
  for (const [k, v] of Object.entries(el.attrs)) {
    if (k.startsWith('xmlns:') && v === TEST_NS) {
      prefix = k.slice(6);
      delete el.attrs[k];
    }
  }
  const out = { state: 'running' as DomainState, transient: false, managedSave: false };
  if (!prefix) return out;
  const mine = (c: XmlElement) => c.name.startsWith(`${prefix}:`);
  for (const c of el.elements().filter(mine)) {
    const local = c.name.slice(prefix.length + 1);
    if (local === 'runstate') {
      const n = parseUnsigned(c.text(), `${file}: <${c.name}>`);
      if (n >= RUNSTATES.length) throw fixtureError(file, `runstate '${n}' out of range`);
      out.state = RUNSTATES[n]!;
    } else if (local === 'transient') out.transient = true;
    else if (local === 'hasmanagedsave') out.managedSave = true;
  }
  el.children = el.children.filter((c) => typeof c === 'string' || !mine(c));
  if (out.transient && out.state === 'shutoff') throw fixtureError(file, "transient domain cannot have runstate 'shutoff'");
  if (out.managedSave && out.state !== 'shutoff') throw fixtureError(file, "domain with managedsave data can only have runstate 'shutoff'");
  return out;
}

function nodeInfoFrom(root: XmlElement, file: string): NodeInfo {
  const info = { ...DEFAULT_NODE_INFO };
  const cpu = root.child('cpu');
  const num = (el: XmlElement | undefined, name: string, what: string) => {
    const t = el?.childText(name);
    return t === undefined ? undefined : parseUnsigned(t, `${file}: <${what}>`);
  };
  if (cpu) {
    info.nodes = num(cpu, 'nodes', 'cpu/nodes') ?? info.nodes;
    info.sockets = num(cpu, 'sockets', 'cpu/sockets') ?? info.sockets;
    info.cores = num(cpu, 'cores', 'cpu/cores') ?? info.cores;
    info.threads = num(cpu, 'threads', 'cpu/threads') ?? info.threads;
    info.cpus = num(cpu, 'active', 'cpu/active') ?? info.nodes * info.sockets * info.cores * info.threads;
    info.mhz = num(cpu, 'mhz', 'cpu/mhz') ?? info.mhz;
    const model = cpu.childText('model');
    if (model !== undefined) info.model = model.slice(0, 31);
  }
  const mem = root.childText('memory');
  if (mem !== undefined) info.memoryKiB = parseUnsigned(mem, `${file}: <memory>`);
  return info;
}

/**
 * Builds a host from libvirt's node document: the default one for
 * test:///default, or a fixture file (`<domain file=…>` and inline objects).
 */
export function loadNode(text: string, file: string, isDefault: boolean): TestHost {
  const root = parseXml(text, file);
  if (root.name !== 'node') throw fixtureError(file, `root element is <${root.name}>, expected <node>`);
  const dir = dirname(file);
  const host = new TestHost(isDefault ? { ...DEFAULT_NODE_INFO } : nodeInfoFrom(root, file), isDefault ? DEFAULT_CELLS.map((c) => ({ ...c, cpus: [...c.cpus] })) : []);

  for (const el of root.elements('domain')) {
    const dom = resolveElement(el, dir, file);
    const ns = takeTestNamespace(dom, file);
    const def = parseTestDomain(formatXml(dom), `${file}: domain`);
    host.addFixtureDomain(def, { state: ns.state, persistent: !ns.transient, managedSave: ns.managedSave });
  }
  for (const el of root.elements('network')) {
    host.addNetwork(networkFromElement(resolveElement(el, dir, file)), true, true);
  }
  for (const el of root.elements('interface')) {
    host.addInterface(interfaceFromElement(resolveElement(el, dir, file)), true);
  }
  for (const el of root.elements('pool')) {
    const poolEl = resolveElement(el, dir, file).clone();
    // As libvirt's test driver, a `<pool file=…>` is replaced by the file's
    // root, children and all: `<volume>` elements under it in the node
    // document are not loaded (testnode.xml's default-vol), those in the
    // pool (inline or in its file) are. They are not part of its definition.
    const vols = poolEl.elements('volume');
    poolEl.children = poolEl.children.filter((c) => typeof c === 'string' || c.name !== 'volume');
    const pool = host.addPool(storagePoolFromElement(poolEl), true, true);
    for (const v of vols) host.addVolume(pool, storageVolFromElement(resolveElement(v, dir, file), pool.def));
  }
  return host;
}

export function loadDefaultNode(): TestHost {
  return loadNode(DEFAULT_NODE, 'test:///default', true);
}

export function loadFixtureFile(path: string): TestHost {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VirtError('NO_CONNECT', `test driver: cannot read fixture '${path}': ${(err as Error).message}`, { origin: 'test' });
  }
  return loadNode(text, path, false);
}
