/**
 * -chardev backends (qemuBuildChardevStr / qemuBuildChardevCommand).
 */
import { VirtError, type ChrSourceDef } from '@virtkit/core';
import type { QemuCommand } from './argv.js';
import { escapeComma } from './json.js';
import { fdPassParts, type BackendPart } from './parts.js';
import { secretProps, tlsCredsProps } from './storage.js';
import { fdPassPath, type BuildState } from './state.js';

function reconnect(src: ChrSourceDef): string {
  const r = src.reconnect;
  if (!r) return '';
  if (r.enabled) return `,reconnect=${r.timeout ?? 0}`;
  return ',reconnect=0';
}

export function chardevString(state: BuildState, src: ChrSourceDef, alias: string, spicevmcName = 'vdagent'): string {
  const priv = state.chrPriv(src);
  let s: string;
  switch (src.type) {
    case 'null': s = `null,id=${alias}`; break;
    case 'vc': s = `vc,id=${alias}`; break;
    case 'pty': s = `pty,id=${alias}`; break;
    case 'dev': {
      const backend = alias.startsWith('charparallel') ? 'parallel' : 'serial';
      s = `${backend},id=${alias},path=${escapeComma(src.path ?? '')}`;
      break;
    }
    case 'file': {
      let path = src.path ?? '';
      let append = src.append;
      if (priv.sourceFd) {
        path = fdPassPath(priv.sourceFd);
        append = true;
      }
      s = `file,id=${alias},path=${escapeComma(path)}`;
      if (append !== undefined) s += `,append=${append ? 'on' : 'off'}`;
      break;
    }
    case 'pipe': s = `pipe,id=${alias},path=${escapeComma(src.path ?? '')}`; break;
    case 'stdio': s = `stdio,id=${alias}`; break;
    case 'udp':
      s = `udp,id=${alias},host=${src.connectHost ?? ''},port=${src.connectService ?? ''},localaddr=${src.bindHost ?? ''},localport=${src.bindService ?? '0'}`;
      break;
    case 'tcp':
      s = `socket,id=${alias},host=${src.host ?? ''},port=${src.service ?? ''}`;
      if (src.protocol === 'telnet') s += ',telnet=on';
      if (src.listen) {
        s += ',server=on';
        if (!priv.wait) s += ',wait=off';
      }
      s += reconnect(src);
      if (priv.tlsCredsAlias) s += `,tls-creds=${priv.tlsCredsAlias}`;
      break;
    case 'unix':
      s = `socket,id=${alias}`;
      if (priv.directFd !== undefined) s += `,fd=${priv.directFd}`;
      else s += `,path=${escapeComma(src.path ?? '')}`;
      if (src.listen) {
        s += ',server=on';
        if (!priv.wait) s += ',wait=off';
      }
      s += reconnect(src);
      break;
    case 'spicevmc': s = `spicevmc,id=${alias},name=${spicevmcName}`; break;
    case 'spiceport': s = `spiceport,id=${alias},name=${src.channel ?? ''}`; break;
    case 'qemu-vdagent':
      s = `qemu-vdagent,id=${alias},name=vdagent`;
      if (src.clipboardCopypaste !== undefined) s += `,clipboard=${src.clipboardCopypaste ? 'on' : 'off'}`;
      if (src.mouseMode === 'client') s += ',mouse=on';
      else if (src.mouseMode === 'server') s += ',mouse=off';
      break;
    case 'dbus': s = `dbus,id=${alias},name=${src.channel ?? ''}`; break;
    default:
      throw new VirtError('CONFIG_UNSUPPORTED', `unsupported chardev '${src.type}'`, { origin: 'qemu' });
  }
  if (src.log) {
    let path = src.log.file;
    let append = src.log.append;
    if (priv.logFd) {
      path = fdPassPath(priv.logFd);
      append = true;
    }
    s += `,logfile=${escapeComma(path)}`;
    if (append !== undefined) s += `,logappend=${append ? 'on' : 'off'}`;
  }
  return s;
}

/** qemuBuildChardevCommand: TLS objects, passed descriptors, then -chardev. */
export function chardevParts(state: BuildState, src: ChrSourceDef, alias: string, spicevmcName?: string): BackendPart[] {
  const priv = state.chrPriv(src);
  const out: BackendPart[] = [];
  if (src.type === 'tcp' && priv.tlsCertPath) {
    if (priv.tlsSecret) out.push({ option: '-object', props: secretProps(priv.tlsSecret) });
    const objAlias = `obj${alias}_tls0`;
    out.push({ option: '-object', props: tlsCredsProps(priv.tlsCertPath, !!src.listen, !!priv.tlsVerify, objAlias, priv.tlsSecret?.alias) });
    priv.tlsCredsAlias = objAlias;
  }
  if (src.type === 'file') out.push(...fdPassParts(priv.sourceFd));
  out.push(...fdPassParts(priv.logFd));
  out.push({ option: '-chardev', text: chardevString(state, src, alias, spicevmcName) });
  return out;
}

export function emitChardev(cmd: QemuCommand, state: BuildState, src: ChrSourceDef, alias: string, spicevmcName?: string): void {
  cmd.backends(chardevParts(state, src, alias, spicevmcName));
}
