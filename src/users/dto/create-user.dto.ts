import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import {
  IsMetadata,
  IsNotReservedUserName,
  IsPrincipalName,
  PRINCIPAL_NAME_PATTERN,
  OptionalNotNull,
  MaxLength,
  MinLength,
} from '../../common/validators.js';

export class CreateUserDto {
  /**
   * Unique without regard to case, stored as given once width-mapped and in NFC (so `josé` typed either way
   * is one name). 1–100 characters: letters, digits, combining marks and printable ASCII except ":" and "/";
   * no whitespace, invisible or default-ignorable characters; no confusable mix of scripts (`аlice` with a
   * Cyrillic а). Not "me" (400), nor "admin", the built-in service account's name (409). E-mail-like names
   * are fine.
   * @example "mary.jane@doe.net"
   */
  @ApiProperty({ pattern: PRINCIPAL_NAME_PATTERN })
  @IsNotReservedUserName()
  @IsPrincipalName()
  @MinLength(1)
  @MaxLength(100)
  @IsString()
  name: string;

  /** Defaults to `name`. @example "Mary Jane" */
  @OptionalNotNull()
  @MinLength(1)
  @MaxLength(150)
  @IsString()
  display_name?: string;

  @OptionalNotNull()
  @IsMetadata()
  metadata?: Record<string, string>;
}
