import { describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { formatCapabilitiesXml, lookupGuestCaps, parseCapabilitiesXml } from './index.js';

const CAPS = `<capabilities>

  <host>
    <uuid>cd6a24b3-46f8-01aa-bb39-c39aa2123730</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>core2duo</model>
      <vendor>Intel</vendor>
      <topology sockets='1' dies='1' cores='2' threads='1'/>
      <feature name='lahf_lm'/>
      <feature name='lm'/>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='2048'/>
    </cpu>
    <power_management>
      <suspend_mem/>
      <suspend_disk/>
    </power_management>
    <iommu support='no'/>
    <migration_features>
      <live/>
      <uri_transports>
        <uri_transport>tcp</uri_transport>
        <uri_transport>rdma</uri_transport>
      </uri_transports>
    </migration_features>
    <topology>
      <cells num='1'>
        <cell id='0'>
          <memory unit='KiB'>8388608</memory>
          <pages unit='KiB' size='4'>2097152</pages>
          <distances>
            <sibling id='0' value='10'/>
          </distances>
          <cpus num='2'>
            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>
            <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>
          </cpus>
        </cell>
      </cells>
    </topology>
    <secmodel>
      <model>dac</model>
      <doi>0</doi>
      <baselabel type='kvm'>+0:+0</baselabel>
    </secmodel>
  </host>

  <guest>
    <os_type>hvm</os_type>
    <arch name='x86_64'>
      <wordsize>64</wordsize>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <machine maxCpus='255'>pc-i440fx-8.0</machine>
      <machine canonical='pc-i440fx-8.0' maxCpus='255'>pc</machine>
      <domain type='qemu'/>
      <domain type='kvm'/>
    </arch>
    <features>
      <acpi default='on' toggle='yes'/>
      <apic default='on' toggle='no'/>
      <cpuselection/>
      <deviceboot/>
      <disksnapshot default='on' toggle='no'/>
    </features>
  </guest>

</capabilities>
`;

describe('capabilities XML', () => {
  it('round-trips virsh capabilities output', () => {
    expect(formatCapabilitiesXml(parseCapabilitiesXml(CAPS))).toBe(CAPS);
  });

  it('exposes host and guest data and looks up guest types', () => {
    const caps = parseCapabilitiesXml(CAPS);
    expect(caps.host.cpu.arch).toBe('x86_64');
    expect(caps.host.cells?.[0]?.cpus).toHaveLength(2);
    expect(caps.guests[0]!.machines[1]).toEqual({ name: 'pc', canonical: 'pc-i440fx-8.0', maxCpus: 255 });
    expect(lookupGuestCaps(caps, 'hvm', 'x86_64', 'kvm')).toMatchObject({ emulator: '/usr/bin/qemu-system-x86_64', machine: 'pc-i440fx-8.0' });
    expect(lookupGuestCaps(caps, 'exe', 'x86_64', 'lxc')).toBeUndefined();
  });

  it('rejects other documents', () => {
    expect(() => parseCapabilitiesXml('<domain/>')).toThrow(VirtError);
    expect(() => parseCapabilitiesXml('<capabilities/>')).toThrow(VirtError);
  });
});
