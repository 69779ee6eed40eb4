import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import { ErrorResponseDto } from '../common/dto/error-response.dto.js';
import { CreateGroupDto } from './dto/create-group.dto.js';
import { CompactGroupDto, GroupListDto } from './dto/group-response.dto.js';
import { GroupsService } from './groups.service.js';

@ApiTags('groups')
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @RequirePermission('List groups', 'iam:ListGroups', { from: 'all', kind: 'group' })
  async list(): Promise<GroupListDto> {
    return { items: await this.groups.list() };
  }

  @Post()
  @RequirePermission('Create a group', 'iam:CreateGroup', { from: 'body', kind: 'group', field: 'name' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The name is taken', type: ErrorResponseDto })
  create(@Body() dto: CreateGroupDto): Promise<CompactGroupDto> {
    return this.groups.create(dto);
  }

  @Get(':name')
  @RequirePermission('Get a group', 'iam:GetGroup', { from: 'param', kind: 'group', param: 'name' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('name') name: string): Promise<CompactGroupDto> {
    return this.groups.get(name);
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePermission('Delete a group and its memberships', 'iam:DeleteGroup', {
    from: 'param',
    kind: 'group',
    param: 'name',
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delete(@Param('name') name: string): Promise<void> {
    return this.groups.delete(name);
  }
}
