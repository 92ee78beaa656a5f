import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtError } from '../../errors.js';
import { parseXml } from '../parse.js';
import { makeDatatype, XSD_LIBRARY } from './datatypes.js';
import { RelaxNgSchema } from './schema.js';
import { xsdPatternToRegExp } from './xsd-regex.js';

const dir = mkdtempSync(join(tmpdir(), 'vk-rng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const RNG = 'xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes"';

/** A schema from its grammar body (defines and start), plus extra files it includes. */
function schema(body: string, files: Record<string, string> = {}): RelaxNgSchema {
  const d = join(dir, `s${n++}`);
  mkdirSync(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  writeFileSync(join(d, 'main.rng'), `<grammar ${RNG}>${body}</grammar>`);
  return new RelaxNgSchema(join(d, 'main.rng'));
}

function verdict(s: RelaxNgSchema, xml: string): string {
  const v = s.check(parseXml(xml));
  return v ? `${v.path}: ${v.reason}` : 'ok';
}

describe('RELAX NG pattern algebra', () => {
  it('interleave takes its parts in any order, each once', () => {
    const s = schema('<start><element name="r"><interleave><element name="a"><empty/></element><element name="b"><empty/></element><zeroOrMore><element name="c"><empty/></element></zeroOrMore></interleave></element></start>');
    expect(verdict(s, '<r><b/><c/><a/><c/></r>')).toBe('ok');
    expect(verdict(s, '<r><a/><b/></r>')).toBe('ok');
    expect(verdict(s, '<r><a/><b/><a/></r>')).toMatch(/^\/r\/a\[2\]: unexpected element <a>/);
    expect(verdict(s, '<r><c/><a/></r>')).toBe('/r: missing required element <b> in <r>');
  });

  it('group keeps order; oneOrMore needs one', () => {
    const s = schema('<start><element name="r"><element name="a"><empty/></element><oneOrMore><element name="b"><text/></element></oneOrMore></element></start>');
    expect(verdict(s, '<r><a/><b>x</b><b/></r>')).toBe('ok');
    expect(verdict(s, '<r><b/><a/></r>')).toBe('/r/b: unexpected element <b> (expected <a>)');
    expect(verdict(s, '<r><a/></r>')).toBe('/r: missing required element <b> in <r>');
  });

  it('data with facets and except', () => {
    const s = schema(
      '<start><element name="r"><attribute name="n"><data type="unsignedInt"><param name="maxInclusive">10</param></data></attribute>' +
        '<data type="string"><param name="pattern">[^/]+</param><except><choice><value>.</value><value>..</value></choice></except></data></element></start>',
    );
    expect(verdict(s, "<r n='10'>file</r>")).toBe('ok');
    expect(verdict(s, "<r n=' 7 '>file</r>")).toBe('ok');
    expect(verdict(s, "<r n='11'>file</r>")).toMatch(/invalid value '11' for attribute 'n': it is greater than 10/);
    expect(verdict(s, "<r n='-1'>file</r>")).toMatch(/it is out of the range of xsd:unsignedInt/);
    expect(verdict(s, "<r n='1'>..</r>")).toMatch(/^\/r: invalid value '\.\.': it is one of the excluded values/);
    expect(verdict(s, "<r n='1'>a/b</r>")).toMatch(/does not match the pattern '\[\^\/\]\+'/);
    expect(verdict(s, "<r n='1'></r>")).toMatch(/^\/r: element <r> has no value \(expected xsd:string \(matching '\[\^\/\]\+'\) except '\.', '\.\.'\)/);
  });

  it('list splits on whitespace', () => {
    const s = schema('<start><element name="r"><list><oneOrMore><data type="int"/></oneOrMore><optional><value>end</value></optional></list></element></start>');
    expect(verdict(s, '<r> 1  2\n3 end </r>')).toBe('ok');
    expect(verdict(s, '<r>1 x</r>')).toMatch(/invalid value '1 x'/);
    expect(verdict(s, '<r/>')).toBe("/r: element <r> has no value (expected a list of xsd:int, 'end')");
  });

  it('name classes: anyName with except, nsName, choice; ns inheritance', () => {
    const s = schema(
      '<start><element name="r" ns="urn:a"><zeroOrMore><choice>' +
        '<element><anyName><except><nsName/><nsName ns=""/></except></anyName><text/></element>' +
        '<element><choice><name>x</name><name ns="">y</name></choice><empty/></element>' +
        '</choice></zeroOrMore><optional><attribute><nsName ns="urn:b"/></attribute></optional></element></start>',
    );
    expect(verdict(s, '<r xmlns="urn:a" xmlns:o="urn:o"><x/><y xmlns=""/><o:z>t</o:z></r>')).toBe('ok');
    expect(verdict(s, '<r xmlns="urn:a" xmlns:b="urn:b" b:k="1"/>')).toBe('ok');
    expect(verdict(s, '<r xmlns="urn:a"><z/></r>')).toMatch(/^\/r\/z: unexpected element <z>/);
    expect(verdict(s, '<r/>')).toMatch(/the root element <r> is not <r>/);
    expect(verdict(s, '<r xmlns="urn:a" k="1"/>')).toMatch(/unexpected attribute 'k'/);
  });

  it('mixed content, and whitespace-only text ignored where RELAX NG says', () => {
    const s = schema('<start><element name="r"><mixed><zeroOrMore><element name="b"><empty/></element></zeroOrMore></mixed><element name="c"><empty/></element></element></start>');
    expect(verdict(s, '<r>text <b/> more<c/></r>')).toBe('ok');
    const t = schema('<start><element name="r"><element name="a"><empty/></element></element></start>');
    expect(verdict(t, '<r>\n  <a>  </a>\n</r>')).toBe('ok');
    expect(verdict(t, '<r>x<a/></r>')).toMatch(/^\/r: unexpected text 'x'/);
  });

  it('include with overriding defines, combine, externalRef, nested grammar and parentRef', () => {
    const lib = `<grammar ${RNG}><define name="item"><element name="old"><empty/></element></define><define name="kind"><value>a</value></define><define name="other"><element name="o"><empty/></element></define></grammar>`;
    const ext = `<element xmlns="http://relaxng.org/ns/structure/1.0" name="ext"><empty/></element>`;
    const s = schema(
      '<include href="lib.rng"><define name="item"><element name="new"><empty/></element></define></include>' +
        '<define name="kind" combine="choice"><value>b</value></define>' +
        '<define name="attrs" combine="interleave"><attribute name="x"/></define><define name="attrs" combine="interleave"><attribute name="y"/></define>' +
        '<start><element name="r"><ref name="attrs"/><attribute name="k"><ref name="kind"/></attribute><ref name="item"/><externalRef href="ext.rng"/>' +
        '<grammar><start><element name="inner"><parentRef name="other"/></element></start></grammar></element></start>',
      { 'lib.rng': lib, 'ext.rng': ext },
    );
    expect(verdict(s, "<r y='1' x='2' k='b'><new/><ext/><inner><o/></inner></r>")).toBe('ok');
    expect(verdict(s, "<r x='1' y='2' k='a'><new/><ext/><inner><o/></inner></r>")).toBe('ok');
    expect(verdict(s, "<r x='1' y='2' k='c'><new/><ext/><inner><o/></inner></r>")).toMatch(/invalid value 'c' for attribute 'k' \(expected 'a', 'b'\)/);
    expect(verdict(s, "<r x='1' y='2' k='a'><old/></r>")).toMatch(/unexpected element <old> \(expected <new>\)/);
    expect(verdict(s, "<r x='1' k='a'><new/><ext/><inner><o/></inner></r>")).toBe("/r: missing required attribute 'y'");
  });

  it('recursive element definitions and hash-consing keep patterns finite', () => {
    const s = schema('<start><ref name="node"/></start><define name="node"><element name="n"><zeroOrMore><ref name="node"/></zeroOrMore></element></define>');
    let deep = '';
    for (let i = 0; i < 100; i++) deep += '<n>';
    for (let i = 0; i < 100; i++) deep += '</n>';
    expect(verdict(s, deep)).toBe('ok');
  });

  it('reports an unusable schema as INTERNAL_ERROR naming the file', () => {
    expect(() => schema('<start><ref name="missing"/></start>')).toThrow(VirtError);
    expect(() => schema('<start><element name="r"><data type="gYearMonthDayNope"/></element></start>')).toThrow(/not supported/);
  });
});

describe('XSD datatypes and regular expressions', () => {
  it('translates XSD patterns: anchored, literal ^ and $, escapes, subtraction', () => {
    expect(xsdPatternToRegExp('[0-9]+').test('12a')).toBe(false);
    expect(xsdPatternToRegExp('$[ ]*[a-z]+').test('$ abc')).toBe(true);
    expect(xsdPatternToRegExp('\\^[0-9]').test('^1')).toBe(true);
    expect(xsdPatternToRegExp('[a-zA-Z0-9\\-_\\.]+').test('a-b_c.d')).toBe(true);
    expect(xsdPatternToRegExp('[a-z-[aeiou]]+').test('bcd')).toBe(true);
    expect(xsdPatternToRegExp('[a-z-[aeiou]]+').test('bad')).toBe(false);
    expect(xsdPatternToRegExp('.+').test('a\nb')).toBe(false);
    expect(xsdPatternToRegExp('\\i\\c*').test('x-1')).toBe(true);
    expect(xsdPatternToRegExp('(0x)?[0-9a-fA-F]{1,8}').test('0xdeadbeef')).toBe(true);
    expect(xsdPatternToRegExp('[0-9a-zA-F -_,.:;=]{0,255}').test('A B=1')).toBe(true);
  });

  it('checks lexical forms, ranges and value equality', () => {
    const int = makeDatatype(XSD_LIBRARY, 'int');
    expect(int.check('2147483647')).toBeUndefined();
    expect(int.check('2147483648')).toMatch(/out of the range/);
    expect(int.equal('007', '7')).toBe(true);
    expect(makeDatatype(XSD_LIBRARY, 'double').check('1.5e3')).toBeUndefined();
    expect(makeDatatype(XSD_LIBRARY, 'boolean').check('yes')).toMatch(/not a valid/);
    expect(makeDatatype(XSD_LIBRARY, 'dateTime').check('2024-02-29T10:00:00Z')).toBeUndefined();
    expect(makeDatatype(XSD_LIBRARY, 'string', [['maxLength', '3']]).check('abcd')).toMatch(/longer than 3/);
    expect(makeDatatype('', 'token').equal(' a  b ', 'a b')).toBe(true);
    expect(makeDatatype('', 'string').equal(' a', 'a')).toBe(false);
  });
});
