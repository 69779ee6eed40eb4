import { PickType } from '@nestjs/swagger';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';
import { CreateUserDto } from './create-user.dto.js';

/** Absent fields stay as they are. */
export class UpdateUserDto extends PickType(CreateUserDto, ['display_name'] as const) {
  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
