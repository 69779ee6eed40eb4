import { IsString } from 'class-validator';
import { MaxLength, MinLength } from '../../common/validators.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export class SetPasswordDto {
  /** At least 8 characters. @example "correct horse battery staple" */
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  @IsString()
  password: string;
}

export class ChangeOwnPasswordDto {
  /** @example "old horse battery staple" */
  @MinLength(1)
  @MaxLength(PASSWORD_MAX_LENGTH)
  @IsString()
  current_password: string;

  /** At least 8 characters. @example "correct horse battery staple" */
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  @IsString()
  new_password: string;
}
