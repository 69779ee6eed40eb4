import { IsString } from 'class-validator';
import { MaxLength, MinLength } from '../../common/validators.js';

export class LoginDto {
  /** @example "mary.jane@doe.net" */
  @MinLength(1)
  @MaxLength(100)
  @IsString()
  username: string;

  /** @example "correct horse battery staple" */
  @MinLength(1)
  @MaxLength(1024)
  @IsString()
  password: string;
}
