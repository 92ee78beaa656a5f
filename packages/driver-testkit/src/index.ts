import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, VirtError, type Capability, type DomainHandle, type ErrorCode, type VirtEvent } from '@virtkit/core';

/** How a driver under test is reached and what a minimal guest of it looks like. */
export interface DriverTestkitOptions {
  /** Shown in the suite's name. */
  name: string;
  /** Opens a read-write connection to the driver under test. */
  open(): Promise<Connection>;
  /** Opens a read-only connection to the same driver (skips the read-only checks when absent). */
  openReadonly?(): Promise<Connection>;
  /** A definition the driver accepts and can start, with this name (and UUID when given). */
  domainXml(name: string, uuid?: string): string;
  /** Prefix for object names, so runs on a shared host do not collide. */
  prefix?: string;
  /** Whether the guest powers off on `shutdown` by itself (a real guest with ACPI handling); default false. */
  guestHandlesShutdown?: boolean;
  /** Per-test timeout in ms (real hypervisors are slower than memory). */
  timeoutMs?: number;
  /** Called after the suite, after the kit removed what it made. */
  cleanup?(): Promise<void>;
}

async function expectCode(p: Promise<unknown>, code: ErrorCode | ErrorCode[]): Promise<VirtError> {
  const codes = Array.isArray(code) ? code : [code];
  try {
    await p;
  } catch (err) {
    expect(err, `expected a VirtError ${codes.join('|')}, got ${String(err)}`).toBeInstanceOf(VirtError);
    expect(codes, `error was ${(err as VirtError).code}: ${(err as Error).message}`).toContain((err as VirtError).code);
    return err as VirtError;
  }
  throw new Error(`expected the call to fail with ${codes.join('|')}, but it succeeded`);
}

/** Waits until `pred` holds for the events seen so far (events may arrive after the call returns). */
async function waitForEvent(seen: VirtEvent[], pred: (e: VirtEvent) => boolean, ms = 5000): Promise<VirtEvent> {
  const end = Date.now() + ms;
  for (;;) {
    const e = seen.find(pred);
    if (e) return e;
    if (Date.now() > end) throw new Error(`event not received within ${ms} ms; saw: ${seen.map((x) => JSON.stringify(x)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Registers the shared driver suite with vitest. Every first-party driver
 * runs it, and third-party drivers can too:
 *
 *   runDriverTestkit({ name: 'mine', open: () => Connection.open('mine:///x'), domainXml: (n) => `…` });
 *
 * Capabilities the driver does not declare are checked to fail with
 * NO_SUPPORT instead of being exercised.
 */
export function runDriverTestkit(opts: DriverTestkitOptions): void {
  const prefix = opts.prefix ?? `vktk${process.pid}`;
  const timeout = opts.timeoutMs ?? 20_000;
  const made = new Set<string>();
  let conn: Connection;
  const events: VirtEvent[] = [];
  const name = (n: string) => {
    const full = `${prefix}-${n}`;
    made.add(full);
    return full;
  };
  const has = (cap: Capability) => conn.supports(cap);

  describe(`driver testkit: ${opts.name}`, () => {
    beforeAll(async () => {
      conn = await opts.open();
      conn.on('*', (e) => events.push(e));
    }, timeout);

    afterAll(async () => {
      if (conn) {
        for (const n of made) {
          try {
            const d = await conn.lookupDomainByName(n);
            if (d.id >= 0) await d.destroy().catch(() => {});
            const again = await conn.lookupDomainByName(n).catch(() => undefined);
            if (again) await again.undefine({ managedSave: true, nvram: true }).catch(() => {});
          } catch {
            /* already gone */
          }
        }
        await conn.close();
      }
      await opts.cleanup?.();
    }, timeout * 2);

    describe('host', () => {
      it('answers version, hostname, node info and capabilities', async () => {
        const v = await conn.getVersion();
        expect(v.hypervisor).toBeTruthy();
        expect(v.version).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+/);
        expect((await conn.getHostname()).length).toBeGreaterThan(0);
        const n = await conn.getNodeInfo();
        expect(n.cpus).toBeGreaterThan(0);
        expect(n.memoryKiB).toBeGreaterThan(0);
        expect(await conn.getCapabilities()).toMatch(/^<capabilities>/);
      });
    });

    describe('domain lifecycle', () => {
      it('defines, starts, pauses, resumes, stops and undefines a domain, with events', async () => {
        const n = name('life');
        const d = await conn.defineDomainXml(opts.domainXml(n));
        expect(d.name).toBe(n);
        expect(d.id).toBe(-1);
        expect((await d.getState()).state).toBe('shutoff');
        const listed = await conn.listAllDomains({ inactive: true });
        expect(listed.map((x) => x.name)).toContain(n);
        if (has('events')) await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'defined');

        await d.start();
        expect(d.id).toBeGreaterThanOrEqual(0);
        expect((await d.getState()).state).toBe('running');
        expect((await conn.lookupDomainById(d.id)).uuid).toBe(d.uuid);
        if (has('events')) await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'started');

        if (has('domain.suspend')) {
          await d.suspend();
          expect((await d.getState()).state).toBe('paused');
          await d.resume();
          expect((await d.getState()).state).toBe('running');
          if (has('events')) {
            await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'suspended');
            await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'resumed');
          }
        }

        const info = await d.getInfo();
        expect(info.state).toBe('running');
        expect(info.vcpus).toBeGreaterThan(0);
        expect(info.maxMemKiB).toBeGreaterThan(0);
        expect(await d.getXmlDesc()).toContain(`<name>${n}</name>`);

        if (opts.guestHandlesShutdown) await d.shutdown({ waitMs: timeout });
        else await d.destroy();
        expect((await d.getState()).state).toBe('shutoff');
        if (has('events')) await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'stopped');

        await d.undefine();
        await expectCode(conn.lookupDomainByName(n), 'NO_DOMAIN');
        if (has('events')) await waitForEvent(events, (e) => e.kind === 'domain' && e.domain.name === n && e.type === 'undefined');
      }, timeout * 2);

      it('runs a transient domain that disappears when stopped', async () => {
        const n = name('transient');
        const d = await conn.createDomainXml(opts.domainXml(n));
        expect(d.id).toBeGreaterThanOrEqual(0);
        expect(await d.isPersistent()).toBe(false);
        await d.destroy();
        await expectCode(conn.lookupDomainByName(n), 'NO_DOMAIN');
      }, timeout);

      it('keeps a redefined domain and reports the new definition', async () => {
        const n = name('redefine');
        const d1 = await conn.defineDomainXml(opts.domainXml(n));
        const d2 = await conn.defineDomainXml(opts.domainXml(n, d1.uuid));
        expect(d2.uuid).toBe(d1.uuid);
        await d2.undefine();
      }, timeout);
    });

    describe('invalid transitions and unknown objects', () => {
      let d: DomainHandle;
      beforeAll(async () => {
        d = await conn.defineDomainXml(opts.domainXml(name('invalid')));
      }, timeout);

      it('refuses to stop, pause or resume an inactive domain', async () => {
        await expectCode(d.destroy(), 'OPERATION_INVALID');
        if (has('domain.suspend')) {
          await expectCode(d.suspend(), 'OPERATION_INVALID');
          await expectCode(d.resume(), 'OPERATION_INVALID');
        }
      });

      it('refuses to start a running domain twice, and to resume a running one', async () => {
        await d.start();
        try {
          await expectCode(d.start(), 'OPERATION_INVALID');
          if (has('domain.suspend')) await expectCode(d.resume(), 'OPERATION_INVALID');
        } finally {
          await d.destroy();
        }
      }, timeout);

      it('names unknown domains with NO_DOMAIN and malformed keys with INVALID_ARG', async () => {
        await expectCode(conn.lookupDomainByName(`${prefix}-no-such-domain`), 'NO_DOMAIN');
        await expectCode(conn.lookupDomainByUuid('00000000-0000-4000-8000-00000000dead'), 'NO_DOMAIN');
        await expectCode(conn.lookupDomainById(999_999), 'NO_DOMAIN');
        await expectCode(conn.lookupDomainByUuid('not-a-uuid'), 'INVALID_ARG');
        await expectCode(conn.lookupDomainByName(''), 'INVALID_ARG');
      });

      it('rejects malformed and hostile XML with XML_ERROR, keeping what is stored', async () => {
        const before = (await conn.listAllDomains()).length;
        await expectCode(conn.defineDomainXml('<domain type='), 'XML_ERROR');
        await expectCode(conn.defineDomainXml('<!DOCTYPE d [<!ENTITY x "y">]><domain>&x;</domain>'), 'XML_ERROR');
        await expectCode(conn.defineDomainXml(opts.domainXml(`${prefix}/slash`)), ['XML_ERROR', 'XML_DETAIL', 'INVALID_ARG']);
        await expectCode(conn.defineDomainXml(opts.domainXml(`${prefix}-no-such`).replace(/<name>[^<]*<\/name>/, '')), ['XML_ERROR', 'XML_DETAIL', 'INVALID_ARG']);
        expect((await conn.listAllDomains()).length).toBe(before);
      });

      it('refuses a second domain with a taken name but another UUID', async () => {
        await expectCode(conn.defineDomainXml(opts.domainXml(d.name, '11111111-2222-4333-8444-555555555555')), ['OPERATION_FAILED', 'DOM_EXIST']);
        expect((await conn.lookupDomainByName(d.name)).uuid).toBe(d.uuid);
      });
    });

    describe('capabilities', () => {
      it('fails undeclared capabilities with NO_SUPPORT instead of doing nothing', async () => {
        const d = await conn.defineDomainXml(opts.domainXml(name('caps')));
        try {
          if (!has('domain.suspend')) await expectCode(d.suspend(), 'NO_SUPPORT');
          if (!has('domain.save')) await expectCode(d.save('/nonexistent/virtkit-testkit.save'), 'NO_SUPPORT');
          if (!has('domain.autostart')) await expectCode(d.setAutostart(true), 'NO_SUPPORT');
          if (!has('domain.migrate')) await expectCode(d.migrate('test:///default'), 'NO_SUPPORT');
          if (has('domain.autostart')) {
            await d.setAutostart(true);
            expect(await d.getAutostart()).toBe(true);
            await d.setAutostart(false);
          }
        } finally {
          await d.undefine();
        }
      }, timeout);
    });

    describe('save and restore', () => {
      it('saves a running domain to a file and restores it', async (ctx) => {
        if (!has('domain.save')) return ctx.skip();
        const { mkdtemp, rm } = await import('node:fs/promises');
        const { tmpdir } = await import('node:os');
        const { join } = await import('node:path');
        const dir = await mkdtemp(join(tmpdir(), 'virtkit-testkit-'));
        try {
          const d = await conn.defineDomainXml(opts.domainXml(name('save')));
          await d.start();
          const file = join(dir, 'guest.save');
          await d.save(file);
          expect((await d.getState()).state).toBe('shutoff');
          const r = await conn.restoreDomain(file);
          expect(r.uuid).toBe(d.uuid);
          expect((await r.getState()).state).toBe('running');
          await r.destroy();
          await d.undefine();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }, timeout * 3);
    });

    describe('concurrency on one object', () => {
      it('lets exactly one of several concurrent starts win', async () => {
        const d = await conn.defineDomainXml(opts.domainXml(name('race')));
        const results = await Promise.allSettled([d.start(), d.start(), d.start()]);
        const ok = results.filter((r) => r.status === 'fulfilled').length;
        expect(ok).toBe(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as VirtError).code).toBe('OPERATION_INVALID');
        }
        expect((await d.getState()).state).toBe('running');
        await d.destroy();
        await d.undefine();
      }, timeout * 2);

      it('serialises concurrent changes so the final state is one of theirs', async () => {
        const d = await conn.defineDomainXml(opts.domainXml(name('serial')));
        await d.start();
        await Promise.allSettled([d.destroy(), has('domain.suspend') ? d.suspend() : d.getInfo(), d.getInfo()]);
        const st = (await d.getState()).state;
        expect(['shutoff', 'paused', 'running']).toContain(st);
        if (st !== 'shutoff') await d.destroy();
        await d.undefine();
      }, timeout * 2);

      it('defines many domains at once without losing any', async () => {
        const names = Array.from({ length: 8 }, (_, i) => name(`many${i}`));
        await Promise.all(names.map((n) => conn.defineDomainXml(opts.domainXml(n))));
        const listed = new Set((await conn.listAllDomains({ inactive: true })).map((d) => d.name));
        for (const n of names) expect(listed.has(n)).toBe(true);
        await Promise.all(names.map(async (n) => (await conn.lookupDomainByName(n)).undefine()));
      }, timeout * 2);
    });

    describe('read-only connections', () => {
      it('refuses every change with OPERATION_DENIED', async (ctx) => {
        if (!opts.openReadonly) return ctx.skip();
        const ro = await opts.openReadonly();
        try {
          await expectCode(ro.defineDomainXml(opts.domainXml(name('ro'))), 'OPERATION_DENIED');
          const any = (await ro.listAllDomains())[0];
          if (any) {
            await expectCode(any.destroy(), 'OPERATION_DENIED');
            await expectCode(any.undefine(), 'OPERATION_DENIED');
            expect(await any.getXmlDesc()).toContain('<domain');
          }
        } finally {
          await ro.close();
        }
      }, timeout);
    });
  });
}
