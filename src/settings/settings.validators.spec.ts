import { canonicalLanguageTag, canonicalTimeZone } from './settings.validators.js';

describe('canonicalTimeZone', () => {
  it.each([
    ['UTC', 'UTC'],
    ['Europe/Paris', 'Europe/Paris'],
    ['europe/paris', 'Europe/Paris'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['etc/utc', 'Etc/UTC'],
  ])('accepts %s as %s', (input, expected) => {
    expect(canonicalTimeZone(input)).toBe(expected);
  });

  it.each(['Mars/Olympus', '+01:00', '', 'Europe/', 'UTC; DROP TABLE'])('rejects %p', (input) => {
    expect(canonicalTimeZone(input)).toBeNull();
  });
});

describe('canonicalLanguageTag', () => {
  it.each([
    ['en', 'en'],
    ['en-gb', 'en-GB'],
    ['pt-BR', 'pt-BR'],
    ['zh-Hant-TW', 'zh-Hant-TW'],
  ])('accepts %s as %s', (input, expected) => {
    expect(canonicalLanguageTag(input)).toBe(expected);
  });

  it.each(['not a tag!', 'en_', '', 'x'])('rejects %p', (input) => {
    expect(canonicalLanguageTag(input)).toBeNull();
  });

  it('rejects a tag whose canonical form outgrows 35 characters, though the tag as sent fits', () => {
    const tag = 'sh-u-ca-gregory-nu-latn-co-phonebk';
    expect(tag.length).toBeLessThanOrEqual(35);
    expect(Intl.getCanonicalLocales(tag)[0].length).toBeGreaterThan(35);
    expect(canonicalLanguageTag(tag)).toBeNull();
  });
});
