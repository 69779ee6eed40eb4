import { canonicalName, KNOWN_SCRIPT_CODES, nameKey, nameProblem } from './names.js';

describe('canonicalName and nameKey', () => {
  it('composes to NFC: josé typed with a combining accent is josé', () => {
    const nfd = 'jose\u0301';
    expect(canonicalName(nfd)).toBe('jos\u00e9');
    expect(nameKey(nfd)).toBe(nameKey('jos\u00e9'));
    expect(nameKey('JOSE\u0301')).toBe('jos\u00e9');
  });

  it('maps fullwidth and halfwidth characters to their ordinary forms (RFC 8265 width mapping)', () => {
    expect(canonicalName('\uFF41\uFF4C\uFF49\uFF43\uFF45')).toBe('alice'); // ａｌｉｃｅ
    expect(canonicalName('\uFF21\uFF44\uFF4D\uFF49\uFF4E')).toBe('Admin'); // Ａｄｍｉｎ
    expect(canonicalName('\uFF76\uFF9E')).toBe('\u30AC'); // halfwidth ｶﾞ → ガ
    expect(nameKey('\uFF21\uFF2C\uFF29\uFF23\uFF25')).toBe('alice');
  });

  it('keeps case (comparison lower-cases) and leaves other compatibility characters alone', () => {
    expect(canonicalName('Mary.Jane@doe.net')).toBe('Mary.Jane@doe.net');
    expect(canonicalName('\uFB01le')).toBe('\uFB01le'); // the ﬁ ligature is refused, not mapped
  });
});

describe('nameProblem', () => {
  it.each([
    ['plain ASCII', 'alice'],
    ['upper case', 'Alice'],
    ['an e-mail-like name', 'mary.jane@doe.net'],
    ['ASCII punctuation', "o'brien_+-~!#$%&*=?^{|}"],
    ['digits', '007'],
    ['Latin with diacritics', 'jos\u00e9'],
    ['more diacritics', 'Bj\u00f6rk-\u0141uk\u0103\u0219\u00df'],
    ['Cyrillic alone', '\u0430\u043b\u0435\u043a\u0441\u0435\u0439'],
    ['Greek alone', '\u0391\u03b8\u03b7\u03bd\u03ac'],
    ['Chinese', '\u5f20\u4f1f'],
    ['Japanese: Han and Hiragana', '\u5c71\u7530\u305f\u308d\u3046'],
    ['Japanese with Latin', '\u5c71\u7530taro'],
    ['Korean', '\uae40\ubbfc\uc900'],
    ['Hebrew', '\u05d3\u05d5\u05d3'],
    ['Arabic with a trailing digit', '\u0639\u0644\u064a2'],
    ['Devanagari with a vowel sign', '\u0905\u0928\u093f\u0932'],
    ['Catalan l·l', 'col\u00b7lega'],
    ['Latin with ASCII digits', 'user42'],
  ])('accepts %s', (_label, name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it.each([
    ['a colon', 'a:b', 'invalid_format'],
    ['a slash', 'a/b', 'invalid_format'],
    ['a space', 'a b', 'invalid_format'],
    ['a no-break space', 'a\u00a0b', 'invalid_format'],
    ['an ideographic space', 'a\u3000b', 'invalid_format'],
    ['a tab', 'a\tb', 'invalid_format'],
    ['a control character', 'bell\u0007', 'invalid_format'],
    ['a zero-width joiner', 'ro\u200dot', 'invalid_format'],
    ['a zero-width non-joiner', 'ro\u200cot', 'invalid_format'],
    ['a zero-width space', 'ro\u200bot', 'invalid_format'],
    ['a combining grapheme joiner', 'rooty\u034f', 'invalid_format'],
    ['a soft hyphen', 'ro\u00adot', 'invalid_format'],
    ['a byte-order mark', '\ufeffroot', 'invalid_format'],
    ['a Hangul filler', 'root\u3164', 'invalid_format'],
    ['a variation selector', 'root\ufe0f', 'invalid_format'],
    ['a right-to-left override', 'root\u202e', 'invalid_format'],
    ['a tag character', 'root\u{e0061}', 'invalid_format'],
    ['a private-use character', 'root\ue000', 'invalid_format'],
    ['an unassigned code point', 'root\u0378', 'invalid_format'],
    ['an emoji', 'root\u{1f600}', 'invalid_format'],
    ['a symbol', 'root\u2122', 'invalid_format'],
    ['non-ASCII punctuation', 'root\u2014x', 'invalid_format'],
    ['a ligature (compatibility character)', '\ufb01le', 'invalid_format'],
    ['mathematical bold letters', '\u{1d41a}\u{1d41b}', 'invalid_format'],
    ['a superscript digit', 'x\u00b2', 'invalid_format'],
    ['a leading combining mark', '\u0301abc', 'invalid_format'],
    ['the Arabic tatweel', '\u0639\u0640\u0644\u064a', 'invalid_format'],
    ['a middle dot outside l·l', 'a\u00b7b', 'invalid_format'],
    ['an old conjoining Hangul jamo', '\u1113\u1161', 'invalid_format'],
    ['a Hangul tone mark', '\uac00\u302e', 'invalid_format'],
    ['fullwidth letters (not canonical)', '\uff41\uff4c\uff49\uff43\uff45', 'invalid_format'],
    ['a decomposed accent (not canonical)', 'jose\u0301', 'invalid_format'],
    ['Latin with a Cyrillic а', '\u0430lice', 'invalid_value'],
    ['Latin with a Greek Α', '\u0391dmin', 'invalid_value'],
    ['Latin with a Cyrillic о inside', 'r\u043eot', 'invalid_value'],
    ['Cyrillic with a Latin a', '\u0430\u043b\u0435a', 'invalid_value'],
    ['Latin with Hebrew', 'a\u05d3', 'invalid_value'],
    ['Han with Hangul and kana', '\u5c71\uae40\u3042', 'invalid_value'],
    ['ASCII digits with Arabic-Indic digits', '\u0639\u0644\u064a1\u0661', 'invalid_value'],
    ['Devanagari digits with ASCII digits', '\u0905\u0966\u0031', 'invalid_value'],
    ['right-to-left letters after a digit', '1\u05d3\u05d5', 'invalid_value'],
  ])('refuses %s', (_label, name, error) => {
    expect(nameProblem(name)).toEqual(expect.objectContaining({ error }));
  });

  it('knows every script of this runtime (no character of a script the list misses)', () => {
    const known = new RegExp(
      `^[${KNOWN_SCRIPT_CODES.map((code) => `\\p{Script=${code}}`).join('')}` +
        '\\p{Script=Zyyy}\\p{Script=Zinh}\\p{Cn}\\p{Co}\\p{Cs}]$',
      'u',
    );
    const missing: string[] = [];
    for (let code = 0; code <= 0x10ffff && missing.length < 5; code++) {
      if (!known.test(String.fromCodePoint(code))) {
        missing.push(`U+${code.toString(16)}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
