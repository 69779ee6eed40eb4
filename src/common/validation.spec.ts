import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, validate } from 'class-validator';
import { validationExceptionFactory } from './validation.js';
import { IsMetadata, MaxLength, MinLength } from './validators.js';

class Sample {
  @MinLength(1)
  @MaxLength(5)
  @IsString()
  name: string;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string>;
}

async function fieldsFor(body: object) {
  const errors = await validate(plainToInstance(Sample, body), { whitelist: true, forbidNonWhitelisted: true });
  return validationExceptionFactory(errors).invalidFields?.map(({ name, error }) => ({ name, error }));
}

describe('validationExceptionFactory', () => {
  it('reports a wrong type as invalid_type even when length checks fail too', async () => {
    expect(await fieldsFor({ name: 5 })).toEqual([{ name: 'name', error: 'invalid_type' }]);
  });

  it('reports a missing required field as required, and null as invalid_type', async () => {
    expect(await fieldsFor({})).toEqual([{ name: 'name', error: 'required' }]);
    expect(await fieldsFor({ name: null })).toEqual([{ name: 'name', error: 'invalid_type' }]);
  });

  it('counts length in code points, as PostgreSQL does: a variation selector counts, a surrogate pair is one', async () => {
    expect(await fieldsFor({ name: '\u2764\uFE0F'.repeat(3) })).toEqual([{ name: 'name', error: 'too_long' }]);
    expect(await fieldsFor({ name: 'a\uFE0F'.repeat(2) })).toEqual([]);
    expect(await fieldsFor({ name: '\u{1F600}'.repeat(5) })).toEqual([]);
    expect(await fieldsFor({ name: '\u{1F600}'.repeat(6) })).toEqual([{ name: 'name', error: 'too_long' }]);
  });

  it('tells too_short from too_long', async () => {
    expect(await fieldsFor({ name: '' })).toEqual([{ name: 'name', error: 'too_short' }]);
    expect(await fieldsFor({ name: 'toolong' })).toEqual([{ name: 'name', error: 'too_long' }]);
  });

  it('names unknown fields', async () => {
    expect(await fieldsFor({ name: 'ok', nmae: 'typo' })).toEqual([{ name: 'nmae', error: 'unknown_field' }]);
  });

  it('checks metadata shape, size and entries', async () => {
    expect(await fieldsFor({ name: 'ok', metadata: ['a'] })).toEqual([{ name: 'metadata', error: 'invalid_type' }]);
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(await fieldsFor({ name: 'ok', metadata: tooMany })).toEqual([{ name: 'metadata', error: 'too_many' }]);
    expect(await fieldsFor({ name: 'ok', metadata: { ['k'.repeat(41)]: 'v' } })).toEqual([
      { name: 'metadata', error: 'invalid_value' },
    ]);
    expect(await fieldsFor({ name: 'ok', metadata: { k: 'é'.repeat(251) } })).toEqual([
      { name: 'metadata', error: 'invalid_value' },
    ]);
    expect(await fieldsFor({ name: 'ok', metadata: { k: 1 } })).toEqual([{ name: 'metadata', error: 'invalid_value' }]);
    expect(await fieldsFor({ name: 'ok', metadata: { k: 'é'.repeat(250) } })).toEqual([]);
  });
});
