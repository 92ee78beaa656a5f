import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { parseXlDiskSpec } from './disk-spec.js';
import { parseRbdColonString, formatRbdColonString } from './rbd.js';
import { formatVif, parseVif, parseVifRate } from './vif.js';
import { formatCharSpec, parseCharSpec } from './char-spec.js';

describe('xl disk specs (xl-disk-configuration(5))', () => {
  it('reads the documented equivalent forms alike', () => {
    const forms = [
      '/dev/vg/guest-volume,,hda',
      '/dev/vg/guest-volume,raw,hda,rw',
      'format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume',
      'raw:/dev/vg/guest-volume,hda,w',
    ];
    for (const f of forms) {
      expect(parseXlDiskSpec(f), f).toMatchObject({ target: '/dev/vg/guest-volume', format: 'raw', vdev: 'hda', readwrite: true, isCdrom: false });
    }
  });

  it('reads CD-ROMs, empty drives and the deprecated vdev:cdrom form', () => {
    expect(parseXlDiskSpec('/root/image.iso,,hdc,cdrom')).toMatchObject({ target: '/root/image.iso', vdev: 'hdc', isCdrom: true, readwrite: false, removable: true });
    expect(parseXlDiskSpec('/root/image.iso,,hdc:cdrom,r')).toMatchObject({ vdev: 'hdc', isCdrom: true });
    const empty = parseXlDiskSpec('format=raw,vdev=hdd,access=ro,devtype=cdrom');
    expect(empty).toMatchObject({ format: 'empty', vdev: 'hdd', isCdrom: true });
    expect(empty.target).toBeUndefined();
    expect(parseXlDiskSpec(',,hdc:cdrom,r')).toMatchObject({ target: '', format: 'empty', vdev: 'hdc', isCdrom: true });
  });

  it('takes the rest of the spec as target= value and knows backends', () => {
    expect(parseXlDiskSpec('vdev=xvda,backendtype=phy,target=/dev/disk/by-id/a,b')).toMatchObject({ target: '/dev/disk/by-id/a,b', backend: 'phy' });
    expect(parseXlDiskSpec('phy:/dev/sdb,xvdb,w')).toMatchObject({ target: '/dev/sdb', vdev: 'xvdb', backend: 'unknown' });
    expect(parseXlDiskSpec('nbd:/x,xvdc,w')).toMatchObject({ script: 'block-nbd', target: '/x' });
  });

  it('refuses what xl refuses, with its wording', () => {
    const bad: Array<[string, RegExp]> = [
      ['/x,raw', /no vdev specified/],
      ['vdev=xvda', /no target specified/],
      ['/x,foo,xvda', /unknown value for format/],
      ['/x,raw,xvda,rw,extra', /too many positional parameters/],
      ['bogus=1,/x,,xvda', /unknown parameter/],
      ['zzz:/x,,xvda', /unknown deprecated disk prefix/],
      ['/x,,xvda,maybe', /unknown value for access/],
      ['vdev=xvda,vdev=xvdb,target=/x', /vdev respecified/],
    ];
    for (const [spec, re] of bad) {
      const err = (() => {
        try {
          parseXlDiskSpec(spec);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, spec).toBeInstanceOf(VirtError);
      expect((err as VirtError).code).toBe('CONF_SYNTAX');
      expect((err as VirtError).message, spec).toMatch(re);
    }
  });
});

describe('Ceph RBD targets', () => {
  it('reads monitors, ports, snapshots and the cephx user', () => {
    const src = parseRbdColonString('rbd:pool/image@snap:id=admin:mon_host=[\\:\\:1]\\:6789\\;mon2\\:6790:conf=/etc/ceph/x.conf');
    expect(src).toMatchObject({
      type: 'network', protocol: 'rbd', path: 'pool/image', snapshot: 'snap', configFile: '/etc/ceph/x.conf',
      auth: { username: 'admin', secret: { type: 'ceph' } },
      hosts: [{ name: '::1', port: 6789 }, { name: 'mon2', port: 6790 }],
    });
  });

  it('writes them back escaped for xl.cfg', () => {
    const s = formatRbdColonString({ type: 'network', protocol: 'rbd', path: 'pool/image', hosts: [{ name: 'mon1', port: 6321 }, { name: '::1' }] });
    expect(s).toBe('rbd:pool/image:auth_supported=none:mon_host=mon1\\\\:6321\\\\;[\\:\\:1]');
    expect(() => formatRbdColonString({ type: 'network', protocol: 'nbd', path: 'x' })).toThrow(/Unsupported network block protocol/);
  });
});

describe('vif specs', () => {
  it('reads bridges with Open vSwitch VLANs and trunks, IPs, rates and models', () => {
    expect(parseVif('mac=00:16:3E:00:00:01,bridge=ovsbr0.42')).toMatchObject({ type: 'bridge', mac: '00:16:3e:00:00:01', bridge: 'ovsbr0', vlan: { tags: [{ id: 42 }] }, virtualport: { type: 'openvswitch' } });
    expect(parseVif('bridge=ovsbr0:42:43').vlan).toEqual({ trunk: true, tags: [{ id: 42 }, { id: 43 }] });
    expect(parseVif('script=vif-route,ip=10.0.0.2 fe80::1').ips).toEqual([{ address: '10.0.0.2', family: 'ipv4' }, { address: 'fe80::1', family: 'ipv6' }]);
    expect(parseVif('bridge=b,type=vif').model).toBe('netfront');
    expect(parseVifRate('100Mb/s@20ms')).toBe(12800);
    expect(parseVifRate('1GB/s')).toBe(1048576);
    expect(() => parseVifRate('fast')).toThrow(/Invalid rate/);
    expect(() => parseVif('mac=00:16:3e:00:00:01,nonsense')).toThrow(VirtError);
  });

  it('writes a type=vif PV NIC for HVM guests and model= otherwise', () => {
    const nic = parseVif('mac=00:16:3e:00:00:01,bridge=xenbr0,type=vif,vifname=v1,rate=512KB/s');
    expect(formatVif(nic, true)).toBe('mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-bridge,type=vif,vifname=v1,rate=512KB/s');
    expect(formatVif(nic, false)).toBe('mac=00:16:3e:00:00:01,bridge=xenbr0,script=vif-bridge,model=netfront,vifname=v1,rate=512KB/s');
    expect(() => formatVif({ ...nic, type: 'user' }, true)).toThrow(/Unsupported net type 'user'/);
  });
});

describe('serial and parallel device strings', () => {
  it('round-trips the S-expression forms', () => {
    for (const s of ['pty', 'file:/var/log/x.log', 'tcp:127.0.0.1:4555,server,nowait', 'telnet::23', 'udp:1.2.3.4:99@:100', 'unix:/tmp/s,server,nowait', '/dev/ttyS0']) {
      expect(formatCharSpec(parseCharSpec(s))).toBe(s);
    }
    expect(() => parseCharSpec('bogus:1')).toThrow(/unknown chr device type/);
  });
});
