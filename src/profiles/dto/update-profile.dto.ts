import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, ValidateIf } from 'class-validator';
import { MaxLength } from '../../common/validators.js';

/** Absent fields stay as they are; `null` or `""` clears a field. */
export class UpdateProfileDto {
  @ApiProperty({ type: String, nullable: true, maxLength: 100, required: false, example: 'Mary Jane Watson' })
  @IsOptional()
  @MaxLength(100)
  @IsString()
  full_name?: string | null;

  /** An e-mail address; `""` or `null` clears it. */
  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'string', format: 'email', minLength: 1, maxLength: 100, nullable: true },
      { type: 'string', enum: [''] },
    ],
    example: 'mary.jane@doe.net',
  })
  @IsOptional()
  @ValidateIf((dto: UpdateProfileDto) => dto.email_address !== '')
  @IsEmail({}, { message: 'email_address must be a valid e-mail address' })
  @MaxLength(100)
  @IsString()
  email_address?: string | null;
}
