import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { OptionalNotNull, MaxLength } from '../../common/validators.js';
import { type Theme, THEMES, type WeekStart, WEEK_STARTS } from '../entities/user-settings.entity.js';
import {
  IsBcp47LanguageTag,
  IsIanaTimeZone,
  LANGUAGE_TAG_MAX_LENGTH,
  LANGUAGE_TAG_PATTERN,
  TIME_ZONE_PATTERN,
} from '../settings.validators.js';

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

  /**
   * IANA time-zone name, e.g. "Europe/Paris" or "UTC", in any letter case (answered in its usual case); not an
   * offset such as "+01:00". @example "Europe/Paris"
   */
  @ApiProperty({ pattern: TIME_ZONE_PATTERN.source, required: false })
  @OptionalNotNull()
  @IsIanaTimeZone()
  @MaxLength(64)
  @IsString()
  timezone?: string;

  /**
   * A well-formed BCP 47 language tag, e.g. "en", "en-GB", "pt-BR" (answered in its canonical form, at most
   * 35 characters). @example "en-GB"
   */
  @ApiProperty({ pattern: LANGUAGE_TAG_PATTERN, required: false })
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
