import { PickType } from '@nestjs/swagger';
import { ListQueryDto } from '../../common/dto/list-query.dto.js';

/** A page of sessions: `limit` and `page_token` as for every list (there is no `q`: sessions have no name). */
export class SessionListQueryDto extends PickType(ListQueryDto, ['limit', 'page_token'] as const) {}
