import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Service-account tokens are made for secret scanners: `iamsa_`, 40 random base62 characters
 * (≈238 bits), then a 6-character base62 CRC-32 of everything before it. A leaked token matches
 * SERVICE_ACCOUNT_TOKEN_PATTERN; a mistyped one fails its checksum and is refused without a database look-up.
 */
export const SERVICE_ACCOUNT_TOKEN_PREFIX = 'iamsa_';
export const SERVICE_ACCOUNT_TOKEN_PATTERN = /\biamsa_[0-9A-Za-z]{46}\b/;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 40;
const CHECKSUM_LENGTH = 6;

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksumOf(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** Uniformly random base62 (rejection sampling: bytes ≥ 248 are dropped so that `% 62` has no bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) {
        out += ALPHABET[byte % 62];
      }
    }
  }
  return out;
}

export function generateServiceAccountToken(): string {
  const body = SERVICE_ACCOUNT_TOKEN_PREFIX + randomBase62(RANDOM_LENGTH);
  return body + checksumOf(body);
}

/** True for a token of our format whose checksum matches. */
export function isWellFormedServiceAccountToken(token: string): boolean {
  if (token.length !== SERVICE_ACCOUNT_TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH) {
    return false;
  }
  if (!SERVICE_ACCOUNT_TOKEN_PATTERN.test(token)) {
    return false;
  }
  const body = token.slice(0, -CHECKSUM_LENGTH);
  return checksumOf(body) === token.slice(-CHECKSUM_LENGTH);
}
