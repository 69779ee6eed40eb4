/**
 * Principal names: one canonical form, and the rules a new name must follow.
 *
 * The canonical form follows RFC 8265 (PRECIS) `UsernameCasePreserved`: fullwidth and halfwidth characters
 * mapped to their ordinary forms (width mapping), then Unicode NFC. The comparison key lower-cases that
 * (`UsernameCaseMapped`), so `josé` typed in NFC or NFD, `ＡＬＩＣＥ` and `alice` are one name.
 *
 * A new user name must also be made of PRECIS `IdentifierClass` characters (letters, digits, combining marks,
 * printable ASCII), without default-ignorable or invisible code points, without `:` (it would make resource
 * names such as `iam:*:b` ambiguous) or `/`, and must not mix scripts in a confusable way: UTS #39 §5.2
 * "highly restrictive" (one script, or Latin with Han and Japanese kana, Han and Bopomofo, or Han and Hangul)
 * and §5.4 (digits from one decimal system). Names with right-to-left letters follow a simplified RFC 5893
 * rule: they begin with a right-to-left letter and end with one or with a digit.
 *
 * No maintained npm package implements PRECIS or UTS #39 mixed-script detection; the Unicode data comes from
 * the JavaScript engine itself (regular-expression property escapes backed by ICU), so it is as current as
 * Node.js.
 */

/** ISO 15924 codes of the Unicode scripts (Common, Inherited and Unknown excepted). */
const SCRIPT_CODES = [
  'Adlm', 'Aghb', 'Ahom', 'Arab', 'Armi', 'Armn', 'Avst', 'Bali', 'Bamu', 'Bass', 'Batk', 'Beng', 'Berf', 'Bhks',
  'Bopo', 'Brah', 'Brai', 'Bugi', 'Buhd', 'Cakm', 'Cans', 'Cari', 'Cham', 'Cher', 'Chrs', 'Copt', 'Cpmn', 'Cprt',
  'Cyrl', 'Deva', 'Diak', 'Dogr', 'Dsrt', 'Dupl', 'Egyp', 'Elba', 'Elym', 'Ethi', 'Gara', 'Geor', 'Glag', 'Gong',
  'Gonm', 'Goth', 'Gran', 'Grek', 'Gujr', 'Gukh', 'Guru', 'Hang', 'Hani', 'Hano', 'Hatr', 'Hebr', 'Hira', 'Hluw',
  'Hmng', 'Hmnp', 'Hung', 'Ital', 'Java', 'Kali', 'Kana', 'Kawi', 'Khar', 'Khmr', 'Khoj', 'Kits', 'Knda', 'Krai',
  'Kthi', 'Lana', 'Laoo', 'Latn', 'Lepc', 'Limb', 'Lina', 'Linb', 'Lisu', 'Lyci', 'Lydi', 'Mahj', 'Maka', 'Mand',
  'Mani', 'Marc', 'Medf', 'Mend', 'Merc', 'Mero', 'Mlym', 'Modi', 'Mong', 'Mroo', 'Mtei', 'Mult', 'Mymr', 'Nagm',
  'Nand', 'Narb', 'Nbat', 'Newa', 'Nkoo', 'Nshu', 'Ogam', 'Olck', 'Onao', 'Orkh', 'Orya', 'Osge', 'Osma', 'Ougr',
  'Palm', 'Pauc', 'Perm', 'Phag', 'Phli', 'Phlp', 'Phnx', 'Plrd', 'Prti', 'Rjng', 'Rohg', 'Runr', 'Samr', 'Sarb',
  'Saur', 'Sgnw', 'Shaw', 'Shrd', 'Sidd', 'Sidt', 'Sind', 'Sinh', 'Sogd', 'Sogo', 'Sora', 'Soyo', 'Sund', 'Sunu',
  'Sylo', 'Syrc', 'Tagb', 'Takr', 'Tale', 'Talu', 'Taml', 'Tang', 'Tavt', 'Tayo', 'Telu', 'Tfng', 'Tglg', 'Thaa',
  'Thai', 'Tibt', 'Tirh', 'Tnsa', 'Todr', 'Tols', 'Toto', 'Tutg', 'Ugar', 'Vaii', 'Vith', 'Wara', 'Wcho', 'Xpeo',
  'Xsux', 'Yezi', 'Yiii', 'Zanb',
]; // prettier-ignore

function propertyRegExp(property: string): RegExp | null {
  try {
    return new RegExp(`^\\p{${property}}$`, 'u');
  } catch {
    return null; // a script newer than this Node.js's Unicode data: it has no characters here either
  }
}

/** Each script this runtime knows, with a test for "this character may be written in it" (Script_Extensions). */
const SCRIPTS: { code: string; test: RegExp }[] = SCRIPT_CODES.flatMap((code) => {
  const test = propertyRegExp(`Script_Extensions=${code}`);
  return test ? [{ code, test }] : [];
});

/** Exported for a unit test that checks SCRIPT_CODES misses no script of this runtime. */
export const KNOWN_SCRIPT_CODES: readonly string[] = SCRIPTS.map((script) => script.code);

/** UTS #39 §5.1 augmented script sets: Han and kana are also Japanese, Han and Hangul Korean, … */
const AUGMENTED: Record<string, string[]> = {
  Hani: ['Hanb', 'Jpan', 'Kore'],
  Hira: ['Jpan'],
  Kana: ['Jpan'],
  Hang: ['Kore'],
  Bopo: ['Hanb'],
};

/** UTS #39 §5.2 "highly restrictive": the script combinations allowed besides a single script. */
const ALLOWED_SCRIPT_MIXES = [
  new Set(['Latn', 'Hani', 'Hira', 'Kana']),
  new Set(['Latn', 'Hani', 'Bopo']),
  new Set(['Latn', 'Hani', 'Hang']),
];

/** Scripts written right to left (letters of Bidi_Class R or AL). */
const RTL_SCRIPTS = new Set([
  'Adlm', 'Arab', 'Armi', 'Avst', 'Chrs', 'Cprt', 'Elym', 'Gara', 'Hatr', 'Hebr', 'Khar', 'Lydi', 'Mand', 'Mani',
  'Mend', 'Narb', 'Nbat', 'Nkoo', 'Ougr', 'Palm', 'Phli', 'Phlp', 'Phnx', 'Prti', 'Rohg', 'Samr', 'Sarb', 'Sogd',
  'Sogo', 'Syrc', 'Thaa', 'Yezi',
]); // prettier-ignore

/** The scripts a character may belong to, or null for Common and Inherited ones (digits, punctuation, marks). */
const scriptCache = new Map<string, string[] | null>();

function scriptsOf(char: string): string[] | null {
  let codes = scriptCache.get(char);
  if (codes === undefined) {
    const found = SCRIPTS.filter((script) => script.test.test(char)).map((script) => script.code);
    codes = found.length > 0 ? found : null;
    if (scriptCache.size >= 10_000) {
      scriptCache.clear(); // bounded, whatever characters requests bring
    }
    scriptCache.set(char, codes);
  }
  return codes;
}

const WIDE_OR_NARROW = /[\u3000\uFF01-\uFFEE]/gu;

/**
 * The canonical form of a name (RFC 8265 width mapping, then NFC). Used for new names, and for every name
 * a request gives (path parameters, body fields), before it is compared with stored names.
 */
export function canonicalName(name: string): string {
  return name.replace(WIDE_OR_NARROW, (char) => char.normalize('NFKC')).normalize('NFC');
}

/** Names are compared without regard to case: the canonical form, lower-cased. */
export function nameKey(name: string): string {
  return canonicalName(name).toLowerCase();
}

/** Why a name is refused: the field error code and a sentence to follow "<field> ". */
export interface NameProblem {
  error: 'invalid_format' | 'invalid_value';
  reason: string;
}

const LETTER_DIGIT_MARK = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const INVISIBLE = /^[\p{Default_Ignorable_Code_Point}\p{Join_Control}\p{Cf}\p{Cc}\p{Cn}\p{Co}\p{Cs}\p{Z}]$/u;
/** RFC 5892 §2.6 exceptions that are PVALID although not letters or digits. */
const PVALID_EXCEPTIONS = new Set(['\u06FD', '\u06FE', '\u0F0B', '\u3007']);
/** RFC 5892 §2.6 exceptions that are DISALLOWED although letters (tatweel, NKo lajanyalan, Hangul tone marks, …). */
const DISALLOWED_EXCEPTIONS = new Set([
  '\u0640',
  '\u07FA',
  '\u302E',
  '\u302F',
  '\u3031',
  '\u3032',
  '\u3033',
  '\u3034',
  '\u3035',
  '\u303B',
]);
/** Conjoining (old) Hangul jamo, disallowed by RFC 5892 (OldHangulJamo). */
const CONJOINING_JAMO: [number, number][] = [
  [0x1100, 0x11ff],
  [0xa960, 0xa97f],
  [0xd7b0, 0xd7ff],
];
const isConjoiningJamo = (char: string) => {
  const code = char.codePointAt(0)!;
  return CONJOINING_JAMO.some(([from, to]) => code >= from && code <= to);
};
const ASCII_PRINTABLE = /^[\x21-\x7E]$/u;

const hex = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

const JAPANESE = /^[\p{Script=Hira}\p{Script=Kana}\p{Script=Hani}]$/u;

/** RFC 5892 CONTEXTO rules for the few punctuation characters PRECIS allows in context. */
function contextAllows(char: string, chars: string[], index: number, japanese: boolean): boolean {
  switch (char) {
    case '\u00B7': // MIDDLE DOT: Catalan l·l
      return chars[index - 1]?.toLowerCase() === 'l' && chars[index + 1]?.toLowerCase() === 'l';
    case '\u0375': // GREEK LOWER NUMERAL SIGN: before a Greek character
      return chars[index + 1] !== undefined && (scriptsOf(chars[index + 1]) ?? []).includes('Grek');
    case '\u05F3':
    case '\u05F4': // HEBREW GERESH, GERSHAYIM: after a Hebrew character
      return index > 0 && (scriptsOf(chars[index - 1]) ?? []).includes('Hebr');
    case '\u30FB': // KATAKANA MIDDLE DOT: in a name with Hiragana, Katakana or Han
      return japanese;
    default:
      return false;
  }
}

/** The first character of a canonical name that PRECIS IdentifierClass (or this service) does not allow. */
function characterProblem(chars: string[]): NameProblem | null {
  const japanese = chars.some((c) => JAPANESE.test(c));
  if (chars.length > 0 && /^\p{M}$/u.test(chars[0])) {
    return { error: 'invalid_format', reason: 'must not begin with a combining mark' };
  }
  for (const [index, char] of chars.entries()) {
    if (char === ':' || char === '/') {
      return { error: 'invalid_format', reason: `must not contain "${char}"` };
    }
    if (ASCII_PRINTABLE.test(char) || PVALID_EXCEPTIONS.has(char)) {
      continue;
    }
    if (INVISIBLE.test(char)) {
      return {
        error: 'invalid_format',
        reason: `must not contain whitespace, control, invisible or default-ignorable characters (${hex(char)})`,
      };
    }
    if (contextAllows(char, chars, index, japanese)) {
      continue;
    }
    if (
      !LETTER_DIGIT_MARK.test(char) ||
      DISALLOWED_EXCEPTIONS.has(char) ||
      isConjoiningJamo(char) ||
      char.normalize('NFKC') !== char
    ) {
      return {
        error: 'invalid_format',
        reason: `may hold letters, digits, combining marks and printable ASCII only (${hex(char)} is not allowed)`,
      };
    }
  }
  return null;
}

/** The zero of a decimal digit's system: digits come in runs of ten, each starting at its zero. */
function zeroOf(char: string): number {
  const code = char.codePointAt(0)!;
  let start = code;
  while (/^\p{Nd}$/u.test(String.fromCodePoint(start - 1))) {
    start--;
  }
  return start + Math.floor((code - start) / 10) * 10;
}

/** UTS #39 mixed-script (highly restrictive) and mixed-number detection. */
function scriptProblem(chars: string[]): NameProblem | null {
  const sets = chars.map(scriptsOf).filter((set): set is string[] => set !== null);
  let resolved: string[] | null = null;
  for (const set of sets) {
    const augmented = new Set(set.flatMap((code) => [code, ...(AUGMENTED[code] ?? [])]));
    resolved = (resolved ?? [...augmented]).filter((code) => augmented.has(code));
  }
  const singleScript = resolved === null || resolved.length > 0;
  if (!singleScript && !ALLOWED_SCRIPT_MIXES.some((mix) => sets.every((set) => set.some((code) => mix.has(code))))) {
    const scripts = [...new Set(sets.map((set) => set[0]))].join(', ');
    return { error: 'invalid_value', reason: `mixes scripts that can be confused with each other (${scripts})` };
  }
  const zeros = new Set(chars.filter((char) => /^\p{Nd}$/u.test(char)).map(zeroOf));
  if (zeros.size > 1) {
    return { error: 'invalid_value', reason: 'mixes digits of different number systems' };
  }
  return null;
}

/** Simplified RFC 5893: a name with right-to-left letters begins with one and ends with one or a digit. */
function directionProblem(chars: string[]): NameProblem | null {
  const isRtlLetter = (char: string | undefined) =>
    char !== undefined && /^\p{L}$/u.test(char) && (scriptsOf(char) ?? []).some((code) => RTL_SCRIPTS.has(code));
  if (!chars.some(isRtlLetter)) {
    return null;
  }
  const last = [...chars].reverse().find((char) => !/^\p{M}$/u.test(char));
  if (!isRtlLetter(chars[0]) || !(isRtlLetter(last) || /^\p{Nd}$/u.test(last ?? ''))) {
    return {
      error: 'invalid_value',
      reason: 'with right-to-left letters must begin with one, and end with one or with a digit',
    };
  }
  return null;
}

/**
 * Why a new principal name is refused, or null when it is acceptable. `name` must already be canonical
 * (canonicalName): a name that is not is refused, so that a stored name is always its own canonical form.
 * Length limits are the caller's (the DTO's).
 */
export function nameProblem(name: string): NameProblem | null {
  if (canonicalName(name) !== name) {
    return { error: 'invalid_format', reason: 'is not in its canonical form (width-mapped, NFC)' };
  }
  const chars = [...name];
  return characterProblem(chars) ?? scriptProblem(chars) ?? directionProblem(chars);
}
