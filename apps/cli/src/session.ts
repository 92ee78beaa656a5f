import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, VirtError } from '@virtkit/core';
import { daemonRouteFor } from './daemon-route.js';
import { terminalPrompt } from './terminal-prompt.js';

export interface SessionOptions {
  uri?: string;
  readonly: boolean;
  quiet: boolean;
  /** Asks for a password/passphrase on the terminal (remote URIs). */
  prompt?: (question: string, opts: { secret: boolean }) => Promise<string>;
}

/**
 * The CLI's state between commands: which URI, read-only or not, and the
 * connection, opened on first use so that `help` never loads a driver.
 */
export class Session {
  private connection?: Connection;
  private opening?: Promise<Connection>;

  constructor(public options: SessionOptions) {
    // Remote URIs may need a password or passphrase: ask on the terminal when there is one.
    if (!options.prompt && process.stdin.isTTY && process.stderr.isTTY) this.options = { ...options, prompt: terminalPrompt };
  }

  /** Folder of the CLI's own package: its node_modules chain holds the first-party plugins. */
  static cliRoot(): string {
    return dirname(fileURLToPath(import.meta.url));
  }

  conn(): Promise<Connection> {
    if (this.connection?.isAlive()) return Promise.resolve(this.connection);
    this.opening ??= this.open().then(
      (c) => {
        this.connection = c;
        this.opening = undefined;
        return c;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err instanceof VirtError ? err : new VirtError('NO_CONNECT', `failed to connect to the hypervisor: ${(err as Error).message}`, { cause: err });
      },
    );
    return this.opening;
  }

  /** Opens the URI, through a virtkitd when one serves it on this host (see daemon-route.ts). */
  private async open(): Promise<Connection> {
    const opts = { readonly: this.options.readonly, pluginRoots: [Session.cliRoot()], prompt: this.options.prompt };
    const routed = await daemonRouteFor(this.options.uri, this.options.readonly);
    if (routed) {
      try {
        return await Connection.open(routed, opts);
      } catch (err) {
        // No remote plugin installed, or the socket is not ours to use: work locally as without a daemon.
        if (!VirtError.is(err, 'NO_CONNECT') && !VirtError.is(err, 'AUTH_FAILED')) throw err;
      }
    }
    return Connection.open(this.options.uri, opts);
  }

  /** The open connection, if any (for `uri` without reconnecting, for closing). */
  get current(): Connection | undefined {
    return this.connection;
  }

  async reconnect(uri: string | undefined, readonly: boolean): Promise<Connection> {
    await this.close();
    this.options = { ...this.options, uri, readonly };
    return this.conn();
  }

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    if (c) await c.close();
  }
}
