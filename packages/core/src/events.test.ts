import { describe, expect, it } from 'vitest';
import { describeEvent, domainEvent, EventBus, networkEvent } from './events.js';

describe('EventBus', () => {
  it('delivers by kind and to catch-all listeners, and survives a throwing listener', () => {
    const bus = new EventBus();
    const got: string[] = [];
    const errors: unknown[] = [];
    bus.onListenerError = (e) => errors.push(e);
    bus.on('domain', () => {
      throw new Error('boom');
    });
    const off = bus.on('domain', (e) => got.push(`d:${e.type}`));
    bus.on('*', (e) => got.push(`*:${e.kind}`));
    bus.emit(domainEvent('started', 'booted', { name: 'g', uuid: 'u', id: 1 }));
    bus.emit(networkEvent('started', { name: 'n', uuid: 'u' }));
    off();
    bus.emit(domainEvent('stopped', 'destroyed', { name: 'g', uuid: 'u', id: 1 }));
    expect(got).toEqual(['d:started', '*:domain', '*:network', '*:domain']);
    expect(errors).toHaveLength(2);
  });

  it('describes events as virsh prints them', () => {
    expect(describeEvent(domainEvent('started', 'booted', { name: 'test', uuid: 'u', id: 1 }))).toBe("event 'lifecycle' for domain 'test': Started Booted");
    expect(describeEvent(domainEvent('stopped', 'destroyed', { name: 'test', uuid: 'u', id: 1 }))).toBe("event 'lifecycle' for domain 'test': Stopped Destroyed");
    expect(describeEvent(networkEvent('stopped', { name: 'default', uuid: 'u' }))).toBe("event 'lifecycle' for network default: Stopped");
  });
});
