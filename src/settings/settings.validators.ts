import { registerDecorator } from 'class-validator';

/** The shape of a zone name (documented as the field's pattern); Intl then says whether the zone exists. */
export const TIME_ZONE_PATTERN = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * For the OpenAPI document: the shape of a BCP 47 tag (RFC 5646 §2.1, letters, digits and hyphens in subtags of
 * 1–8); Intl.getCanonicalLocales then checks the grammar in full.
 */
export const LANGUAGE_TAG_PATTERN = '^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$';

const KNOWN_ZONES = new Map(
  [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].map((zone) => [zone.toLowerCase(), zone]),
);

/**
 * `value` as an IANA zone name ("europe/paris" → "Europe/Paris"), or null when it is not one. Names are
 * kept as given (ICU would turn "Asia/Kolkata" into "Asia/Calcutta"); only the letter case is fixed.
 */
export function canonicalTimeZone(value: string): string | null {
  // Offsets ("+01:00") are accepted by Intl but are not zone names.
  if (!TIME_ZONE_PATTERN.test(value)) {
    return null;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    return null;
  }
  return KNOWN_ZONES.get(value.toLowerCase()) ?? value;
}

/** The longest language tag stored (RFC 5646 asks implementations to support at least 35 characters). */
export const LANGUAGE_TAG_MAX_LENGTH = 35;

/**
 * The canonical form of a BCP 47 tag ("en-gb" → "en-GB"), or null when it is not well-formed or its canonical
 * form is longer than LANGUAGE_TAG_MAX_LENGTH (canonicalisation can lengthen a tag: "sh" → "sr-Latn").
 */
export function canonicalLanguageTag(value: string): string | null {
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(value)[0];
  } catch {
    return null;
  }
  return canonical !== undefined && canonical.length <= LANGUAGE_TAG_MAX_LENGTH ? canonical : null;
}

export function IsIanaTimeZone() {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isIanaTimeZone',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => typeof value === 'string' && canonicalTimeZone(value) !== null,
        defaultMessage: () => `${String(propertyName)} must be an IANA time-zone name such as "Europe/Paris" or "UTC"`,
      },
    });
}

export function IsBcp47LanguageTag() {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isBcp47LanguageTag',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => typeof value === 'string' && canonicalLanguageTag(value) !== null,
        defaultMessage: () =>
          `${String(propertyName)} must be a BCP 47 language tag such as "en" or "en-GB", ` +
          `at most ${LANGUAGE_TAG_MAX_LENGTH} characters in its canonical form`,
      },
    });
}
