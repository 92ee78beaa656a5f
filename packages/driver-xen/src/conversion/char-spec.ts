/**
 * Character device strings of xl.cfg's `serial` / `parallel` settings
 * (`pty`, `file:/path`, `tcp:host:port,server,nowait`, `/dev/ttyS0`, …),
 * as libvirt's xenParseSxprChar / xenFormatSxprChr read and write them.
 */
import { CHR_TYPES, VirtError, type ChrSourceDef, type ChrType } from '@virtkit/core';
import { confError } from './conf-access.js';

export function parseCharSpec(value: string): ChrSourceDef {
  if (value.startsWith('/')) return { type: 'dev', path: value };
  let prefix = value;
  let rest = value;
  const colon = value.indexOf(':');
  if (colon >= 0) {
    prefix = value.slice(0, colon);
    rest = value.slice(colon + 1);
  }
  let src: ChrSourceDef;
  if (prefix.startsWith('telnet')) src = { type: 'tcp', protocol: 'telnet' };
  else if ((CHR_TYPES as readonly string[]).includes(prefix)) src = { type: prefix as ChrType };
  else throw confError(`unknown chr device type '${prefix}'`);
  switch (src.type) {
    case 'pty':
      break;
    case 'file':
    case 'pipe':
      src.path = rest;
      break;
    case 'tcp': {
      const c = rest.indexOf(':');
      if (c < 0) throw confError('malformed char device string');
      if (c > 0) src.host = rest.slice(0, c);
      const opts = rest.indexOf(',', c);
      src.service = opts >= 0 ? rest.slice(c + 1, opts) : rest.slice(c + 1);
      src.listen = opts >= 0 && rest.slice(opts).includes(',server');
      if (!src.protocol) src.protocol = 'raw';
      break;
    }
    case 'udp': {
      const c = rest.indexOf(':');
      if (c < 0) throw confError('malformed char device string');
      if (c > 0) src.connectHost = rest.slice(0, c);
      const at = rest.indexOf('@', c);
      if (at >= 0) {
        src.connectService = rest.slice(c + 1, at);
        const c2 = rest.indexOf(':', at);
        if (c2 < 0) throw confError('malformed char device string');
        if (c2 > at + 1) src.bindHost = rest.slice(at + 1, c2);
        src.bindService = rest.slice(c2 + 1);
      } else src.connectService = rest.slice(c + 1);
      break;
    }
    case 'unix': {
      const comma = rest.indexOf(',');
      src.path = comma >= 0 ? rest.slice(0, comma) : rest;
      src.listen = comma >= 0 && rest.slice(comma).includes(',server');
      break;
    }
    default:
      break;
  }
  return src;
}

/** The S-expression escaping libvirt applies to paths (virBufferEscapeSexpr). */
function sexpr(s: string): string {
  return s.replace(/[\\']/g, (c) => `\\${c}`);
}

export function formatCharSpec(src: ChrSourceDef): string {
  switch (src.type) {
    case 'null':
    case 'stdio':
    case 'vc':
    case 'pty':
      return src.type;
    case 'file':
    case 'pipe':
      return `${src.type}:${sexpr(src.path ?? '')}`;
    case 'dev':
      return sexpr(src.path ?? '');
    case 'tcp':
      return `${src.protocol === 'telnet' ? 'telnet' : 'tcp'}:${src.host ?? ''}:${src.service ?? ''}${src.listen ? ',server,nowait' : ''}`;
    case 'udp':
      return `udp:${src.connectHost ?? ''}:${src.connectService ?? ''}@${src.bindHost ?? ''}:${src.bindService ?? ''}`;
    case 'unix':
      return `unix:${sexpr(src.path ?? '')}${src.listen ? ',server,nowait' : ''}`;
    default:
      throw new VirtError('CONFIG_UNSUPPORTED', `unsupported chr device type '${src.type}' for xl.cfg`, { origin: 'xen' });
  }
}
