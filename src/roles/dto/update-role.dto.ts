import { PickType } from '@nestjs/swagger';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';
import { CreateRoleDto } from './create-role.dto.js';

/** Absent fields stay as they are; `policy` replaces the whole policy. */
export class UpdateRoleDto extends PickType(CreateRoleDto, ['display_name', 'description', 'policy'] as const) {
  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
