import { describe, expect, it } from 'vitest';
import type { Connection, MigrationFinishParams } from '@virtkit/core';
import { MigrationLeases } from './migration-leases.js';

const UUID = 'AAAAAAAA-2222-3333-4444-555555555555';
const prepareArgs = ['<domain/>', { flags: { live: true }, cookie: { name: 'g', uuid: UUID, hostname: 'src' } }];

/** A connection whose driver records the finish calls it gets. */
function fakeConnection() {
  const finished: Array<{ uuid: string; params: MigrationFinishParams; lock?: string }> = [];
  let lock: string | undefined;
  const conn = {
    driver: {
      domains: {
        async migrateFinish(uuid: string, params: MigrationFinishParams) {
          finished.push({ uuid, params, ...(lock ? { lock } : {}) });
          return null;
        },
      },
    },
    async run<T>(_what: string, o: { lock?: string }, fn: () => Promise<T>): Promise<T> {
      lock = o.lock;
      return fn();
    },
  } as unknown as Connection;
  return { conn, finished };
}

describe('migration leases', () => {
  it('cancels the migrations a client prepared and did not finish, under the domain lock', async () => {
    const leases = new MigrationLeases();
    leases.noteSuccess('domains.migratePrepare', prepareArgs);
    leases.noteSuccess('domains.listDomains', []);
    expect(leases.size).toBe(1);
    const { conn, finished } = fakeConnection();
    const logged: string[] = [];
    await leases.cancelAll(conn, (msg) => logged.push(msg));
    expect(finished).toEqual([{ uuid: UUID.toLowerCase(), lock: UUID.toLowerCase(), params: { ...(prepareArgs[1] as object), cancelled: true } }]);
    expect(logged[0]).toMatch(/cancelled/);
    expect(leases.size).toBe(0);
  });

  it('forgets a migration once the client called finish for it (whatever finish answered)', async () => {
    const leases = new MigrationLeases();
    leases.noteSuccess('domains.migratePrepare', prepareArgs);
    leases.noteDone('domains.migrateFinish', [UUID.toLowerCase(), {}]);
    const { conn, finished } = fakeConnection();
    await leases.cancelAll(conn, () => {});
    expect(finished).toEqual([]);
  });
});
