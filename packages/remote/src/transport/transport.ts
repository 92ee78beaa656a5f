import type { Duplex } from 'node:stream';

/** A connected byte stream to a virtkitd, however it was reached. */
export interface Transport {
  socket: Duplex;
  /** `virtkitd at unix:/run/virtkit/virtkit-sock`, `virtkitd on host:22 (ssh, /run/virtkit/virtkit-sock)`. */
  label: string;
  /** Releases what the transport holds besides the socket (the SSH session). */
  dispose(): void;
}

/** What to tell a user when no daemon answers. */
export function startHint(where: string): string {
  return `start it ${where}: 'virtkitd' (or 'systemctl start virtkitd')`;
}
