import { VirtError } from '@virtkit/core';
import { PROTOCOL_VERSION } from './schema.js';

/** The first frame each way. */
export interface Hello {
  magic: 'virtkit';
  /** Versions the sender speaks (client) / the version chosen (daemon, one entry). */
  versions: number[];
  /** `virtkit-remote/0.1.0`, `virtkitd/0.1.0`. */
  software: string;
  /** Daemon only: the socket gives read-only access. */
  readonly?: boolean;
}

export const SUPPORTED_VERSIONS = [PROTOCOL_VERSION];

export function clientHello(software: string): Hello {
  return { magic: 'virtkit', versions: SUPPORTED_VERSIONS, software };
}

/** Checks a peer's HELLO; returns the version both speak. */
export function acceptHello(body: unknown, from: string): { version: number; hello: Hello } {
  const h = body as Partial<Hello> | undefined;
  if (!h || typeof h !== 'object' || h.magic !== 'virtkit' || !Array.isArray(h.versions)) {
    throw new VirtError('RPC', `${from} did not start with a virtkit protocol handshake`, { origin: 'remote' });
  }
  const common = h.versions.filter((v) => SUPPORTED_VERSIONS.includes(v));
  if (!common.length) {
    throw new VirtError(
      'RPC',
      `${from} speaks protocol version ${h.versions.join(', ')}, this side ${SUPPORTED_VERSIONS.join(', ')}: upgrade the older side`,
      { origin: 'remote' },
    );
  }
  return { version: Math.max(...common), hello: h as Hello };
}
