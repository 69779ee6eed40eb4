import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { OptionalNotNull, MaxLength } from '../../common/validators.js';
import { type Theme, THEMES, type WeekStart, WEEK_STARTS } from '../entities/user-settings.entity.js';
import { IsBcp47LanguageTag, IsIanaTimeZone, LANGUAGE_TAG_MAX_LENGTH } from '../settings.validators.js';

export class SettingsDto {
  @ApiProperty({ enum: THEMES, example: 'system' })
  theme: Theme;
  /** IANA time-zone name. @example "Europe/Paris" */
  timezone: string;
  /** BCP 47 language tag. @example "en-GB" */
  language: string;
  @ApiProperty({ enum: WEEK_STARTS, example: 'monday' })
  week_start: WeekStart;
}

/** Absent fields stay as they are. */
export class UpdateSettingsDto {
  @ApiProperty({ enum: THEMES, required: false })
  @OptionalNotNull()
  @IsIn(THEMES)
  theme?: Theme;

  /** IANA time-zone name, e.g. "Europe/Paris" or "UTC". @example "Europe/Paris" */
  @OptionalNotNull()
  @IsIanaTimeZone()
  @MaxLength(64)
  @IsString()
  timezone?: string;

  /** BCP 47 language tag, e.g. "en", "en-GB", "pt-BR". @example "en-GB" */
  @OptionalNotNull()
  @IsBcp47LanguageTag()
  @MaxLength(LANGUAGE_TAG_MAX_LENGTH)
  @IsString()
  language?: string;

  @ApiProperty({ enum: WEEK_STARTS, required: false })
  @OptionalNotNull()
  @IsIn(WEEK_STARTS)
  week_start?: WeekStart;
}
