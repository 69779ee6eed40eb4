import { PickType } from '@nestjs/swagger';
import { IsMetadata, OptionalNotNull } from '../../common/validators.js';
import { CreateServiceAccountDto } from './create-service-account.dto.js';

/** Absent fields stay as they are. */
export class UpdateServiceAccountDto extends PickType(CreateServiceAccountDto, [
  'display_name',
  'description',
] as const) {
  @OptionalNotNull()
  @IsMetadata({ allowNullValues: true })
  metadata?: Record<string, string | null>;
}
