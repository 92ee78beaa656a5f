import { XmlWriter } from '@virtkit/core';
import type { TestCell } from './host.js';

/** The capabilities document libvirt's test driver reports (testBuildCapabilities). */
export function testCapabilitiesXml(cells: TestCell[]): string {
  const w = new XmlWriter();
  w.open('capabilities');
  w.raw('\n');
  w.open('host');
  w.open('cpu').text('arch', 'i686').open('features').empty('pae').empty('nonpae').close('features');
  for (const size of [4, 8, 2048, 1048576]) w.empty('pages', [['unit', 'KiB'], ['size', size]]);
  w.close('cpu');
  w.empty('power_management');
  w.empty('iommu', [['support', 'no']]);
  if (cells.length) {
    w.open('topology').open('cells', [['num', cells.length]]);
    cells.forEach((cell, i) => {
      w.open('cell', [['id', i]]);
      w.text('memory', cell.memKiB, [['unit', 'KiB']]);
      // Cell 1 uses 8 KiB pages, the others 4 KiB, as libvirt's fake host does.
      const small = i === 1 ? 8 : 4;
      w.text('pages', Math.floor(cell.memKiB / small), [['unit', 'KiB'], ['size', small]]);
      w.text('pages', 0, [['unit', 'KiB'], ['size', 2048]]);
      w.text('pages', 0, [['unit', 'KiB'], ['size', 1048576]]);
      w.open('cpus', [['num', cell.cpus.length]]);
      cell.cpus.forEach((id, core) => w.empty('cpu', [['id', id], ['socket_id', i], ['die_id', 0], ['core_id', core], ['siblings', id]]));
      w.close('cpus').close('cell');
    });
    w.close('cells').close('topology');
  }
  w.open('secmodel').text('model', 'testSecurity').text('doi', '').close('secmodel');
  w.close('host');
  for (const osType of ['hvm', 'xen']) {
    w.raw('\n');
    w.open('guest').text('os_type', osType);
    w.open('arch', [['name', 'i686']]).text('wordsize', 32).text('emulator', '/usr/bin/test-hv').empty('domain', [['type', 'test']]).close('arch');
    w.open('features').empty('pae').empty('nonpae').close('features');
    w.close('guest');
  }
  w.raw('\n');
  w.close('capabilities');
  return w.toString();
}
