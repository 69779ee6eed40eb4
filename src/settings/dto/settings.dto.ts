import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { type Theme, THEMES, type WeekStart, WEEK_STARTS } from '../entities/user-settings.entity.js';
import { IsBcp47LanguageTag, IsIanaTimeZone } from '../settings.validators.js';

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
  @IsOptional()
  @IsIn(THEMES)
  theme?: Theme;

  /** IANA time-zone name, e.g. "Europe/Paris" or "UTC". @example "Europe/Paris" */
  @IsOptional()
  @IsIanaTimeZone()
  @MaxLength(64)
  @IsString()
  timezone?: string;

  /** BCP 47 language tag, e.g. "en", "en-GB", "pt-BR". @example "en-GB" */
  @IsOptional()
  @IsBcp47LanguageTag()
  @MaxLength(35)
  @IsString()
  language?: string;

  @ApiProperty({ enum: WEEK_STARTS, required: false })
  @IsOptional()
  @IsIn(WEEK_STARTS)
  week_start?: WeekStart;
}
