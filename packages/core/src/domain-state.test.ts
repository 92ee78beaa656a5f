import { describe, expect, it } from 'vitest';
import { domainStateReasonCode } from './driver.js';

describe('domainStateReasonCode', () => {
  it("gives libvirt's reason numbers per state, from enum names or virsh's wordings", () => {
    expect(domainStateReasonCode('running', 'booted')).toBe(1);
    expect(domainStateReasonCode('running', 'unpaused')).toBe(5);
    expect(domainStateReasonCode('running', 'migration canceled')).toBe(6);
    expect(domainStateReasonCode('running', 'migration_canceled')).toBe(6);
    expect(domainStateReasonCode('paused', 'user')).toBe(1);
    expect(domainStateReasonCode('paused', 'saving')).toBe(3);
    expect(domainStateReasonCode('paused', 'I/O error')).toBe(5);
    expect(domainStateReasonCode('paused', 'starting_up')).toBe(11);
    expect(domainStateReasonCode('shutoff', 'destroyed')).toBe(2);
    expect(domainStateReasonCode('shutoff', 'saved')).toBe(5);
    expect(domainStateReasonCode('crashed', 'panicked')).toBe(1);
  });

  it('answers 0 (unknown) for a reason the state does not have', () => {
    expect(domainStateReasonCode('running', 'unknown')).toBe(0);
    expect(domainStateReasonCode('running', 'destroyed')).toBe(0);
    expect(domainStateReasonCode('pmsuspended', 'whatever')).toBe(0);
  });
});
