import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiError, type FieldErrorCode, type InvalidField } from './api-error.js';

/** class-validator constraint name → the stable `invalid_fields[].error` code; first match wins. */
const CODE_BY_CONSTRAINT: [string, FieldErrorCode][] = [
  ['whitelistValidation', 'unknown_field'],
  ['isDefined', 'required'],
  ['isNotEmpty', 'required'],
  ['isString', 'invalid_type'],
  ['isArray', 'invalid_type'],
  ['isObject', 'invalid_type'],
  ['isBoolean', 'invalid_type'],
  ['isInt', 'invalid_type'],
  ['min', 'invalid_value'],
  ['max', 'invalid_value'],
  ['isDate', 'invalid_type'],
  ['isRfc3339DateTime', 'invalid_format'],
  ['minLength', 'too_short'],
  ['arrayMinSize', 'too_short'],
  ['maxLength', 'too_long'],
  ['arrayMaxSize', 'too_many'],
  ['arrayUnique', 'invalid_value'],
  ['isIn', 'invalid_value'],
  ['isEnum', 'invalid_value'],
  ['isEmail', 'invalid_format'],
  ['matches', 'invalid_format'],
  ['principalNameFormat', 'invalid_format'],
  ['principalNameValue', 'invalid_value'],
  ['notReserved', 'reserved'],
  ['isIanaTimeZone', 'invalid_value'],
  ['isActionList', 'invalid_value'],
  ['isResourceList', 'invalid_value'],
  ['isNestedObject', 'invalid_type'],
  ['nestedValidation', 'invalid_type'],
  ['isBcp47LanguageTag', 'invalid_value'],
  ['metadataShape', 'invalid_type'],
  ['metadataSize', 'too_many'],
  ['metadataEntries', 'invalid_value'],
];

function fieldErrors(errors: ValidationError[], prefix = ''): InvalidField[] {
  return errors.flatMap((error) => {
    const name = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    const names = Object.keys(constraints);
    if (names.length === 0) {
      return fieldErrors(error.children ?? [], name);
    }
    // A field that is itself wrong (say, a list whose entries are not all objects) is reported alone: what its
    // entries' own validators say about a wrong shape is noise.
    if (error.value === undefined && !names.includes('whitelistValidation')) {
      return [{ name, error: 'required' as const, title: `${name} is required` }];
    }
    const [constraint, code] = CODE_BY_CONSTRAINT.find(([known]) => names.includes(known)) ?? [
      names[0],
      'invalid_value',
    ];
    const title =
      constraint === 'whitelistValidation'
        ? `${name} is not a known field`
        : (constraints[constraint] ?? `${name} is invalid`);
    return [{ name, error: code, title }];
  });
}

/** Turns class-validator errors into one 400 whose `invalid_fields` has an entry per bad field. */
export function validationExceptionFactory(errors: ValidationError[]): ApiError {
  const invalidFields = fieldErrors(errors);
  const title =
    invalidFields.length === 1
      ? `Invalid request: ${invalidFields[0].title}`
      : `Invalid request: ${invalidFields.length} fields are invalid`;
  return ApiError.badRequest(title, invalidFields);
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    forbidUnknownValues: true,
    // The value is read only to tell a missing field (`required`) from a wrong one; it is never shown.
    validationError: { target: false, value: true },
    exceptionFactory: validationExceptionFactory,
  });
}
