import { IsString, Matches } from 'class-validator';
import {
  IsMetadata,
  IsNotReservedUserName,
  USER_NAME_MESSAGE,
  USER_NAME_PATTERN,
  OptionalNotNull,
  MaxLength,
  MinLength,
} from '../../common/validators.js';

export class CreateUserDto {
  /**
   * Unique without regard to case, stored as given. 1–100 characters; no whitespace, control
   * characters or "/"; not "me" (400), nor "admin", the built-in service account's name (409). E-mail-like
   * names are fine.
   * @example "mary.jane@doe.net"
   */
  @IsNotReservedUserName()
  @Matches(USER_NAME_PATTERN, { message: USER_NAME_MESSAGE })
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
