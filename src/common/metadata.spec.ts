import { ApiError } from './api-error.js';
import { patchMetadata } from './metadata.js';

describe('patchMetadata', () => {
  it('keeps absent keys, deletes null ones and replaces the rest', () => {
    expect(patchMetadata({ a: '1', b: '2', c: '3' }, { b: null, c: 'three', d: '4' })).toEqual({
      a: '1',
      c: 'three',
      d: '4',
    });
  });

  it('leaves metadata alone when no patch is given', () => {
    const current = { a: '1' };
    expect(patchMetadata(current, undefined)).toBe(current);
  });

  it('refuses a result with more than 50 keys', () => {
    const current = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(() => patchMetadata(current, { extra: 'v' })).toThrow(ApiError);
    expect(Object.keys(patchMetadata(current, { k0: null, extra: 'v' }))).toHaveLength(50);
  });
});
