import { ApiProperty } from '@nestjs/swagger';
import { IsIn, registerDecorator } from 'class-validator';
import { canonicalAction, isValidResourcePattern } from '../../auth/policy.js';

const MAX_ENTRIES = 50;
const MAX_ENTRY_LENGTH = 300;

/** A string or a non-empty array of strings, each passing `check`; the message names the first bad one. */
function IsStringOrList(name: string, check: (entry: string) => boolean, what: string) {
  const firstBad = (value: unknown): string | null => {
    const entries = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      return `must be a string or an array of 1–${MAX_ENTRIES} strings`;
    }
    for (const entry of entries) {
      if (typeof entry !== 'string' || entry.length > MAX_ENTRY_LENGTH || !check(entry)) {
        return `${JSON.stringify(entry)} is not ${what}`;
      }
    }
    return null;
  };
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => firstBad(value) === null,
        defaultMessage: (args) => `${args?.property ?? String(propertyName)}: ${firstBad(args?.value) ?? 'is invalid'}`,
      },
    });
}

/** `{ effect, action, resource }`; action and resource are a string or a list of strings. */
export class PolicyStatementDto {
  @ApiProperty({ enum: ['allow', 'deny'], example: 'allow' })
  @IsIn(['allow', 'deny'])
  effect: 'allow' | 'deny';

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: MAX_ENTRIES }],
    description: 'Actions: `service:Operation` (`iam:DeleteUser`), `service:*`, or `*`.',
    example: ['iam:GetUser', 'iam:ListUsers'],
  })
  @IsStringOrList('isActionList', (action) => canonicalAction(action) !== null, 'an action this service knows')
  action: string | string[];

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: MAX_ENTRIES }],
    description:
      'LRN patterns: `*`, or `iam:<user|group|service-account|role|*>:<name>` where `*` matches any run of characters.',
    example: 'iam:user:ops-*',
  })
  @IsStringOrList('isResourceList', isValidResourcePattern, 'a valid resource pattern')
  resource: string | string[];
}
