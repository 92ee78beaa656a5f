/** <forward> with its device pool and <nat> (virNetworkForwardDefParseXML and the <forward> part of the formatter). */
import { keepUnknown } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { XmlWriter } from '../../xml/write.js';
import { parseYesNo } from '../../xml/values.js';
import { formatIpAddress, tryParseIpAddress } from './address.js';
import { netError } from './errors.js';
import { parseCUnsigned } from './numbers.js';
import { formatPciAddressName, parseNetworkPciAddress, pciAddressAttrs, pciAddressEquals } from './pci-address.js';
import { ipRangeSize } from './subnet.js';
import { NETWORK_FORWARD_MODES, type NetworkForward, type NetworkForwardMode, type NetworkNat } from './types.js';

function parseNat(el: XmlElement, where: string): NetworkNat {
  const nat: NetworkNat = {};
  const ipv6 = el.attr('ipv6');
  if (ipv6 !== undefined) nat.ipv6 = parseYesNo(ipv6, `${where}: attribute 'ipv6' of <nat>`);
  const addrs = el.elements('address');
  if (addrs.length > 1) throw netError('XML_ERROR', where, 'Only one <address> element is allowed in <nat> in <forward>');
  if (addrs[0]) {
    const startText = addrs[0].attr('start');
    if (startText === undefined) throw netError('XML_ERROR', where, "missing 'start' attribute in <address> element in <nat> in <forward>");
    const endText = addrs[0].attr('end');
    if (endText === undefined) throw netError('XML_ERROR', where, "missing 'end' attribute in <address> element in <nat> in <forward>");
    const start = tryParseIpAddress(startText, 'ipv4');
    if (!start) throw netError('XML_ERROR', where, `Bad ipv4 start address '${startText}' in <nat> in <forward>`);
    const end = tryParseIpAddress(endText, 'ipv4');
    if (!end) throw netError('XML_ERROR', where, `Bad ipv4 end address '${endText}' in <nat> in <forward>`);
    ipRangeSize(start, end, undefined, undefined, where);
    nat.addressStart = formatIpAddress(start);
    nat.addressEnd = formatIpAddress(end);
  }
  const ports = el.elements('port');
  if (ports.length > 1) throw netError('XML_ERROR', where, 'Only one <port> element is allowed in <nat> in <forward>');
  if (ports[0]) {
    const s = ports[0].attr('start');
    const sv = s === undefined ? undefined : parseCUnsigned(s);
    if (sv === undefined || sv > 65535n) {
      throw netError('XML_DETAIL', where, "Missing or invalid 'start' attribute in <port> in <nat> in <forward>");
    }
    const e = ports[0].attr('end');
    const ev = e === undefined ? undefined : parseCUnsigned(e);
    if (ev === undefined || ev > 65535n || ev < sv) {
      throw netError('XML_DETAIL', where, "Missing or invalid 'end' attribute in <port> in <nat> in <forward>");
    }
    nat.portStart = Number(sv);
    nat.portEnd = Number(ev);
  }
  const kept = keepUnknown(el, ['ipv6'], ['address', 'port']);
  if (kept) nat.kept = kept;
  return nat;
}

export function parseNetworkForward(el: XmlElement, where: string): NetworkForward {
  const modeText = el.attr('mode');
  let mode: NetworkForwardMode = 'nat';
  if (modeText !== undefined) {
    if (!(NETWORK_FORWARD_MODES as readonly string[]).includes(modeText)) {
      throw netError('CONFIG_UNSUPPORTED', where, `unknown forwarding type '${modeText}'`);
    }
    mode = modeText as NetworkForwardMode;
  }
  const fwd: NetworkForward = { mode, interfaces: [], pciAddresses: [] };
  if (el.attr('managed')?.toLowerCase() === 'yes') fwd.managed = true;
  const driver = el.child('driver');
  const driverName = driver?.attr('name');
  if (driverName !== undefined) {
    if (driverName !== 'kvm' && driverName !== 'vfio') throw netError('CONFIG_UNSUPPORTED', where, `Unknown forward <driver name='${driverName}'/>`);
    fwd.driverName = driverName;
  }
  const ifEls = el.elements('interface');
  const addrEls = el.elements('address');
  const pfEls = el.elements('pf');
  const natEls = el.elements('nat');
  if (natEls.length > 1) throw netError('XML_ERROR', where, 'Only one <nat> element is allowed in <forward>');
  if (natEls[0]) {
    if (mode !== 'nat') throw netError('XML_ERROR', where, "The <nat> element can only be used when <forward> 'mode' is 'nat'");
    fwd.nat = parseNat(natEls[0], where);
  }
  const dev = el.attr('dev');
  if (dev !== undefined && (addrEls.length > 0 || pfEls.length > 0)) {
    throw netError('XML_ERROR', where, "the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present");
  }
  if (ifEls.length > 0 || dev !== undefined) {
    if (dev !== undefined) fwd.interfaces.push({ dev });
    ifEls.forEach((ifEl, i) => {
      const d = ifEl.attr('dev');
      if (d === undefined) throw netError('XML_ERROR', where, 'Missing required dev attribute in <forward> <interface> element');
      if (i === 0 && dev !== undefined) {
        if (d !== dev) throw netError('XML_ERROR', where, `<forward dev='${dev}'> must match first <interface dev='${d}'/>`);
        return;
      }
      if (fwd.interfaces.some((x) => x.dev === d)) throw netError('XML_ERROR', where, `interface '${d}' can only be listed once`);
      fwd.interfaces.push({ dev: d });
    });
  } else if (addrEls.length > 0) {
    for (const a of addrEls) {
      const type = a.attr('type');
      if (type === undefined) throw netError('XML_ERROR', where, 'missing address type in <forward> <address>');
      if (type !== 'pci') {
        throw netError(type === 'none' || type === 'netdev' ? 'XML_ERROR' : 'CONFIG_UNSUPPORTED', where, `unsupported address type '${type}'`);
      }
      const pci = parseNetworkPciAddress(a, where);
      if (fwd.pciAddresses.some((p) => pciAddressEquals(p, pci))) {
        throw netError('XML_ERROR', where, `PCI device '${formatPciAddressName(pci)}' can only be listed once`);
      }
      fwd.pciAddresses.push(pci);
    }
  } else if (pfEls.length > 1) {
    throw netError('XML_ERROR', where, 'Only one <pf> element is allowed in <forward>');
  } else if (pfEls[0]) {
    const pf = pfEls[0].attr('dev');
    if (pf === undefined) throw netError('XML_ERROR', where, 'Missing required dev attribute in <pf> element');
    fwd.pf = pf;
  }
  const kept = keepUnknown(el, ['mode', 'dev', 'managed'], ['driver', 'interface', 'address', 'pf', 'nat']);
  if (kept) fwd.kept = kept;
  return fwd;
}

function natHasContent(nat: NetworkNat | undefined): boolean {
  return !!nat && (nat.addressStart !== undefined || nat.addressEnd !== undefined || !!nat.portStart || !!nat.portEnd || !!nat.kept);
}

function writeNat(w: XmlWriter, nat: NetworkNat | undefined): void {
  if (!nat) return;
  const ipv6 = nat.ipv6 === undefined ? undefined : nat.ipv6 ? 'yes' : 'no';
  if (!natHasContent(nat) && ipv6 === undefined) return;
  const attrs: Array<readonly [string, string | undefined]> = [['ipv6', ipv6], ...(nat.kept?.attrs ?? [])];
  if (!(nat.addressStart !== undefined || nat.addressEnd !== undefined || nat.portStart || nat.portEnd || nat.kept?.children)) {
    w.empty('nat', attrs);
    return;
  }
  w.open('nat', attrs);
  if (nat.addressStart !== undefined) w.empty('address', [['start', nat.addressStart], ['end', nat.addressEnd]]);
  if (nat.portStart || nat.portEnd) w.empty('port', [['start', nat.portStart ?? 0], ['end', nat.portEnd || undefined]]);
  if (nat.kept?.children) for (const c of nat.kept.children) w.node(c);
  w.close('nat');
}

export function writeNetworkForward(w: XmlWriter, fwd: NetworkForward | undefined, inactive: boolean): void {
  if (!fwd) return;
  const dev = fwd.pf === undefined ? fwd.interfaces[0]?.dev : undefined;
  const attrs: Array<readonly [string, string | undefined]> = [
    ['dev', dev],
    ['mode', fwd.mode],
    ['managed', fwd.mode === 'hostdev' ? (fwd.managed ? 'yes' : 'no') : undefined],
    ...(fwd.kept?.attrs ?? []),
  ];
  const nat = fwd.mode === 'nat' ? fwd.nat : undefined;
  const showPool = !fwd.pf || !inactive;
  const long =
    fwd.interfaces.length > 0 ||
    fwd.pciAddresses.length > 0 ||
    fwd.pf !== undefined ||
    fwd.driverName !== undefined ||
    natHasContent(nat) ||
    nat?.ipv6 !== undefined ||
    !!fwd.kept?.children;
  if (!long) {
    w.empty('forward', attrs);
    return;
  }
  w.open('forward', attrs);
  if (fwd.driverName) w.empty('driver', [['name', fwd.driverName]]);
  writeNat(w, nat);
  if (fwd.pf !== undefined) w.empty('pf', [['dev', fwd.pf]]);
  if (showPool) {
    for (const i of fwd.interfaces) {
      w.empty('interface', [['dev', i.dev], ['connections', !inactive && i.connections ? i.connections : undefined]]);
    }
    for (const a of fwd.pciAddresses) w.empty('address', pciAddressAttrs(a));
  }
  if (fwd.kept?.children) for (const c of fwd.kept.children) w.node(c);
  w.close('forward');
}
