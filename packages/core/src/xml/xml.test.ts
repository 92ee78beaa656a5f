import { describe, expect, it } from 'vitest';
import { VirtError } from '../errors.js';
import { parseXml } from './parse.js';
import { evaluateXPath } from './xpath.js';
import { escapeXml, formatXml, XmlWriter } from './write.js';
import { formatIdList, parseIdList, parseMac, parseScaled, parseUuid } from './values.js';

function xmlCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VirtError);
    return (e as VirtError).code;
  }
  return 'accepted';
}

describe('parseXml', () => {
  it('builds an ordered tree and decodes the five entities and character references', () => {
    const el = parseXml(`<?xml version='1.0'?>\n<!-- c --><a x='1 &amp; &lt;2' y="&#65;"><b>t&gt;</b>\n  <c/></a>`);
    expect(el.name).toBe('a');
    expect(el.attrs).toEqual({ x: '1 & <2', y: 'A' });
    expect(el.elements().map((e) => e.name)).toEqual(['b', 'c']);
    expect(el.childText('b')).toBe('t>');
  });

  it.each([
    ['<a><b></a>', 'mismatched tags'],
    ["<a x='1' x='2'/>", 'duplicate attribute'],
    ['<a x=1/>', 'unquoted attribute'],
    ['<a/><b/>', 'two roots'],
    ['<a/>junk', 'trailing text'],
    ['<a>&foo;</a>', 'undefined entity'],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'DTD'],
    ['<!DOCTYPE lol [<!ENTITY l "l"><!ENTITY l2 "&l;&l;&l;">]><a>&l2;</a>', 'billion laughs'],
    ['<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>', 'external entity'],
    ['<a>\u0001</a>', 'control character'],
    ['', 'empty'],
    ['<a', 'truncated'],
  ])('refuses %j (%s) with XML_ERROR', (xml) => {
    expect(xmlCode(() => parseXml(xml))).toBe('XML_ERROR');
  });

  it('enforces size, depth and element limits', () => {
    expect(xmlCode(() => parseXml('<a>' + 'x'.repeat(100) + '</a>', 'doc', { maxBytes: 50 }))).toBe('XML_ERROR');
    const deep = '<a>'.repeat(200) + '</a>'.repeat(200);
    expect(xmlCode(() => parseXml(deep))).toBe('XML_ERROR');
    const many = '<a>' + '<b/>'.repeat(100) + '</a>';
    expect(xmlCode(() => parseXml(many, 'doc', { maxElements: 50 }))).toBe('XML_ERROR');
  });

  it('names the document in messages', () => {
    expect(() => parseXml('<a><b></a>', "domain 'x'")).toThrow(/^domain 'x': malformed/);
  });
});

describe('XmlWriter', () => {
  it('writes libvirt style', () => {
    const w = new XmlWriter();
    w.open('domain', [['type', 'kvm'], ['id', undefined]]).text('name', "a<b>'c'&").empty('x', { on: true }).element('empty', []).element('devices', [], (c) => c.empty('disk')).close('domain');
    expect(w.toString()).toBe("<domain type='kvm'>\n  <name>a&lt;b&gt;&apos;c&apos;&amp;</name>\n  <x on='yes'/>\n  <devices>\n    <disk/>\n  </devices>\n</domain>\n");
  });

  it('round-trips unknown trees', () => {
    const xml = "<a k='v'>\n  <b>text</b>\n  <c>\n    <d/>\n  </c>\n</a>\n";
    expect(formatXml(parseXml(xml))).toBe(xml);
  });

  it('drops control characters as virBufferEscapeString does', () => {
    expect(escapeXml('a\u0002b\tc')).toBe('ab\tc');
  });
});

describe('values', () => {
  it('parses UUIDs as libvirt does', () => {
    expect(parseUuid('EF86180145B911CB88E3AFBFE5370493')).toBe('ef861801-45b9-11cb-88e3-afbfe5370493');
    expect(xmlCode(() => parseUuid('ef861801-45b9-11cb-88e3'))).toBe('XML_ERROR');
  });

  it('scales units like virScaleInteger', () => {
    expect(parseScaled('1', 'GiB', 'memory')).toBe(1073741824n);
    expect(parseScaled('1', 'GB', 'memory')).toBe(1000000000n);
    expect(parseScaled('2', 'k', 'memory')).toBe(2048n);
    expect(parseScaled('5', undefined, 'memory', 1024n)).toBe(5120n);
    expect(xmlCode(() => parseScaled('1', 'parsecs', 'memory'))).toBe('XML_ERROR');
    expect(xmlCode(() => parseScaled('99999999999', 'EiB', 'memory'))).toBe('XML_ERROR');
  });

  it('reads and writes id lists', () => {
    expect(parseIdList('0-3,^1,8', 'cpuset')).toEqual([0, 2, 3, 8]);
    expect(formatIdList([0, 2, 3, 8])).toBe('0,2-3,8');
    expect(xmlCode(() => parseIdList('3-1', 'cpuset'))).toBe('XML_ERROR');
  });

  it('normalises MACs', () => {
    expect(parseMac('AA-BB-CC-0-1-2')).toBe('aa:bb:cc:00:01:02');
    expect(xmlCode(() => parseMac('aa:bb:cc'))).toBe('XML_ERROR');
  });
});

describe('evaluateXPath', () => {
  const doc = parseXml("<domain type='kvm'><name>vm</name><devices><disk device='disk'><target dev='vda'/></disk><disk device='cdrom'><target dev='hdc'/></disk><interface type='network'><mac address='52:54:00:00:00:01'/></interface></devices></domain>");
  it('selects elements, attributes and text', () => {
    const r = evaluateXPath(doc, '/domain/devices/disk/target/@dev');
    expect(Array.isArray(r) && r.map((n) => (n.kind === 'attribute' ? n.value : ''))).toEqual(['vda', 'hdc']);
    expect(evaluateXPath(doc, 'string(/domain/name)')).toBe('vm');
    expect(evaluateXPath(doc, 'count(//disk)')).toBe(2);
    const c = evaluateXPath(doc, "//disk[@device='cdrom']/target/@dev");
    expect(Array.isArray(c) && c[0]?.kind === 'attribute' && c[0].value).toBe('hdc');
    const last = evaluateXPath(doc, '//disk[last()]/target/@dev');
    expect(Array.isArray(last) && last[0]?.kind === 'attribute' && last[0].value).toBe('hdc');
    expect(evaluateXPath(doc, '/domain/@type = "kvm" and count(//mac) = 1')).toBe(true);
  });

  it('finds children of the document element through //', () => {
    const names = evaluateXPath(doc, '//name');
    expect(Array.isArray(names) && names.map((n) => n.kind === 'element' && n.el.name)).toEqual(['name']);
    expect(evaluateXPath(doc, 'string(//name)')).toBe('vm');
    expect(evaluateXPath(doc, 'count(//devices/*)')).toBe(3);
    expect(evaluateXPath(doc, 'count(//domain)')).toBe(1);
  });

  it('refuses malformed expressions with INVALID_ARG', () => {
    expect(xmlCode(() => evaluateXPath(doc, '//disk['))).toBe('INVALID_ARG');
    expect(xmlCode(() => evaluateXPath(doc, 'nosuchfn()'))).toBe('INVALID_ARG');
  });
});
