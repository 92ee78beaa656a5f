import { describe, expect, it } from 'vitest';
import type { DomainRecord } from './record.js';
import { pausedReasonOf, planRunStateFix } from './run-state.js';

const rec = (state: DomainRecord['state'], reason: string, extra: Partial<DomainRecord> = {}): DomainRecord => ({
  format: 1, name: 'g', uuid: '00000000-0000-0000-0000-000000000001', id: 3, state, reason, persistent: true,
  process: { pid: 1, startTime: 1, monitorPath: '/m', uuid: 'u', name: 'g' } as unknown as DomainRecord['process'], ...extra,
});
const paused = (status: string) => ({ running: false, status });
const running = { running: true, status: 'running' };

describe('QEMU run state against the record (qemuProcessUpdateState)', () => {
  it('maps QEMU run states to libvirt paused reasons', () => {
    expect(['paused', 'prelaunch'].map(pausedReasonOf)).toEqual(['user', 'user']);
    expect(['inmigrate', 'postmigrate', 'finish-migrate'].map(pausedReasonOf)).toEqual(['migration', 'migration', 'migration']);
    expect(pausedReasonOf('io-error')).toBe('ioerror');
    expect(pausedReasonOf('watchdog')).toBe('watchdog');
    expect(pausedReasonOf('save-vm')).toBe('saving');
    expect(pausedReasonOf('shutdown')).toBe('shutting_down');
    expect(pausedReasonOf('guest-panicked')).toBe('crashed');
    expect(['debug', 'internal-error', 'restore-vm', 'colo', 'something-new'].map(pausedReasonOf)).toEqual(Array(5).fill('unknown'));
  });

  it('a record saying running while QEMU is paused becomes paused with QEMU\'s reason and the matching event', () => {
    expect(planRunStateFix(rec('running', 'booted'), paused('paused'))).toMatchObject({ kind: 'record', state: 'paused', reason: 'user', event: { type: 'suspended', detail: 'paused' } });
    expect(planRunStateFix(rec('running', 'unpaused'), paused('io-error'))).toMatchObject({ state: 'paused', reason: 'ioerror', event: { type: 'suspended', detail: 'ioerror' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('watchdog'))).toMatchObject({ state: 'paused', reason: 'watchdog', event: { detail: 'watchdog' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('postmigrate'))).toMatchObject({ state: 'paused', reason: 'migration', event: { detail: 'migrated' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('internal-error'))).toMatchObject({ state: 'paused', reason: 'unknown', event: { detail: 'paused' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('guest-panicked'))).toMatchObject({ state: 'crashed', reason: 'panicked', event: { type: 'crashed', detail: 'panicked' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('suspended'))).toMatchObject({ state: 'pmsuspended', event: { type: 'pmsuspended', detail: 'memory' } });
    expect(planRunStateFix(rec('running', 'booted'), paused('shutdown'))).toMatchObject({ kind: 'poweroff' });
  });

  it('a paused record of a running QEMU becomes running (unpaused), a start that finished booted', () => {
    expect(planRunStateFix(rec('paused', 'user'), running)).toMatchObject({ kind: 'record', state: 'running', reason: 'unpaused', event: { type: 'resumed', detail: 'unpaused' } });
    expect(planRunStateFix(rec('crashed', 'panicked'), running)).toMatchObject({ state: 'running', reason: 'unpaused' });
    expect(planRunStateFix(rec('pmsuspended', 'unknown'), running)).toMatchObject({ state: 'running', reason: 'wakeup', event: { type: 'started', detail: 'wakeup' } });
    expect(planRunStateFix(rec('paused', 'starting_up'), running)).toMatchObject({ state: 'running', reason: 'booted', event: { type: 'started', detail: 'booted' } });
  });

  it('kills a start that never finished, recovers a save whose process died, and leaves what agrees or migrates alone', () => {
    expect(planRunStateFix(rec('paused', 'starting_up'), paused('prelaunch'))).toMatchObject({ kind: 'kill' });
    expect(planRunStateFix(rec('paused', 'saving'), paused('postmigrate'))).toMatchObject({ kind: 'cancel-save', paused: true });
    expect(planRunStateFix(rec('running', 'booted'), running)).toEqual({ kind: 'none' });
    // A paused record keeps its reason (libvirt changes only what disagrees on running).
    expect(planRunStateFix(rec('paused', 'user'), paused('io-error'))).toEqual({ kind: 'none' });
    const mark = { role: 'out' as const, ownerPid: 1, ownerStartTime: 1, startedAt: 1 };
    expect(planRunStateFix(rec('running', 'booted', { migration: mark }), paused('finish-migrate'))).toEqual({ kind: 'none' });
  });
});
