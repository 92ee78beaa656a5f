import { describe, expect, it } from 'vitest';
import { camelKey, formatKeyValues, formatTable, prettyCapacity } from './output.js';

describe('virsh layouts', () => {
  it('lays tables out like vshTable', () => {
    expect(formatTable(['Id', 'Name', 'State'], [['1', 'test', 'running']])).toBe(' Id   Name   State\n----------------------\n 1    test   running\n');
    expect(formatTable(['Id', 'Name', 'State'], [])).toBe(' Id   Name   State\n--------------------\n');
    expect(formatTable(['Id', 'Name', 'State'], [['1', 'test', 'running']], false)).toBe(' 1   test   running\n');
  });

  it('prints key/value lines as %-15s %s', () => {
    expect(formatKeyValues([['Id', '1'], ['Security DOI', '']])).toBe('Id:             1\nSecurity DOI:   \n');
  });

  it('prints capacities as vshPrettyCapacity', () => {
    expect(prettyCapacity(0)).toBe('0.00 B');
    expect(prettyCapacity(107374182400)).toBe('100.00 GiB');
    expect(prettyCapacity(1000000)).toBe('976.56 KiB');
  });

  it('camel-cases headers for JSON keys', () => {
    expect(camelKey('MAC Address')).toBe('macAddress');
    expect(camelKey('Id')).toBe('id');
    expect(camelKey('Client ID or DUID')).toBe('clientIdOrDuid');
  });
});
