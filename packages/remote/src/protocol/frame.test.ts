import { describe, expect, it } from 'vitest';
import { VirtError } from '@virtkit/core';
import { encodeFrame, encodeJsonFrame, FrameDecoder, FrameType, type Frame } from './frame.js';
import { checkArgs } from './args.js';
import { PROCEDURES } from './schema.js';

function decodeAll(chunks: Buffer[], max = 1024 * 1024): Frame[] {
  const out: Frame[] = [];
  const d = new FrameDecoder(max, (f) => out.push({ ...f, payload: Buffer.from(f.payload) }));
  for (const c of chunks) d.push(c);
  return out;
}

describe('frames', () => {
  const frames = [
    encodeJsonFrame(FrameType.CALL, 1, { p: 'domains.getInfo', a: ['x'] }),
    encodeFrame(FrameType.DATA, 7, Buffer.from('bytes')),
    encodeFrame(FrameType.PING, 3),
    encodeJsonFrame(FrameType.REPLY, 0xffffffff, { r: 'ünïcödé ✓' }),
  ];
  const all = Buffer.concat(frames);

  it('round-trips whole, byte by byte and in random cuts', () => {
    const whole = decodeAll([all]);
    expect(whole.map((f) => [f.type, f.id])).toEqual([
      [FrameType.CALL, 1],
      [FrameType.DATA, 7],
      [FrameType.PING, 3],
      [FrameType.REPLY, 0xffffffff],
    ]);
    expect(JSON.parse(whole[3]!.payload.toString())).toEqual({ r: 'ünïcödé ✓' });
    const bytewise = decodeAll([...all].map((b) => Buffer.from([b])));
    expect(bytewise).toEqual(whole);
    for (let seed = 1; seed < 50; seed++) {
      const cuts: Buffer[] = [];
      let off = 0;
      while (off < all.length) {
        const n = 1 + ((seed * 31 + off * 17) % 23);
        cuts.push(all.subarray(off, off + n));
        off += n;
      }
      expect(decodeAll(cuts)).toEqual(whole);
    }
  });

  it('joins a large frame split in many chunks', () => {
    const big = encodeFrame(FrameType.DATA, 9, Buffer.alloc(600_000, 0x5a));
    const chunks = [];
    for (let i = 0; i < big.length; i += 65536) chunks.push(big.subarray(i, i + 65536));
    const [f] = decodeAll(chunks);
    expect(f!.payload.length).toBe(600_000);
    expect(f!.payload.every((b) => b === 0x5a)).toBe(true);
  });

  it('refuses frames over the limit and lengths shorter than a header', () => {
    const big = encodeFrame(FrameType.DATA, 1, Buffer.alloc(2000));
    expect(() => decodeAll([big], 1000)).toThrow(/exceeds the limit of 1000 bytes/);
    // The header alone is enough to refuse: the rest never has to arrive.
    expect(() => decodeAll([big.subarray(0, 4)], 1000)).toThrow(VirtError);
    const short = Buffer.from([0, 0, 0, 2, 1, 1]);
    expect(() => decodeAll([short])).toThrow(/shorter than a frame header/);
  });
});

describe('argument checks', () => {
  const p = (n: string) => PROCEDURES.get(n)!;
  it('normalises and accepts valid arguments', () => {
    expect(checkArgs(p('domains.lookupDomain'), [{ uuid: '0A1B2C3D-0000-4000-8000-000000000001' }])).toEqual([{ uuid: '0a1b2c3d-0000-4000-8000-000000000001' }]);
    expect(checkArgs(p('domains.startDomain'), ['0a1b2c3d-0000-4000-8000-000000000001'])).toEqual(['0a1b2c3d-0000-4000-8000-000000000001', undefined]);
    expect(checkArgs(p('storage.uploadVolume'), [{ pool: 'p', name: 'v' }, true, {}, true])).toHaveLength(4);
  });
  it.each([
    ['domains.lookupDomain', [{ name: 'a', uuid: 'b' }]],
    ['domains.lookupDomain', [{ id: -1 }]],
    ['domains.lookupDomain', [{ __proto__: { name: 'x' } }]],
    ['domains.startDomain', ['not-a-uuid']],
    ['domains.startDomain', []],
    ['domains.defineDomain', ['   ']],
    ['domains.defineDomain', [42]],
    ['domains.saveDomain', ['0a1b2c3d-0000-4000-8000-000000000001', 'relative/path']],
    ['domains.setMemory', ['0a1b2c3d-0000-4000-8000-000000000001', -5]],
    ['domains.setAutostart', ['0a1b2c3d-0000-4000-8000-000000000001', 'yes']],
    ['storage.deleteVolume', [{ pool: 'p' }]],
    ['domains.getInfo', ['0a1b2c3d-0000-4000-8000-000000000001', 'extra']],
    ['domains.getInfo', 'not a list'],
  ])('refuses %s %j with INVALID_ARG', (name, args) => {
    try {
      checkArgs(p(name), args);
      throw new Error('accepted');
    } catch (err) {
      expect((err as VirtError).code).toBe('INVALID_ARG');
    }
  });
});
