import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type EntityManager, Repository } from 'typeorm';
import { ApiError } from '../common/api-error.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import type { CreateGroupDto } from './dto/create-group.dto.js';
import { type CompactGroupDto, toCompactGroup } from './dto/group-response.dto.js';
import { Group } from './entities/group.entity.js';

@Injectable()
export class GroupsService {
  constructor(
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    private readonly tx: TransactionService,
  ) {}

  async list(): Promise<CompactGroupDto[]> {
    const groups = await this.groups.find({ order: { name: 'ASC' } });
    return groups.map(toCompactGroup);
  }

  async get(name: string): Promise<CompactGroupDto> {
    return toCompactGroup(await this.findOrFail(name));
  }

  async create(dto: CreateGroupDto): Promise<CompactGroupDto> {
    const group = this.groups.create({
      id: randomUUID(),
      name: dto.name,
      displayName: dto.display_name ?? dto.name,
      description: dto.description ?? '',
      createdAt: new Date(),
    });
    try {
      await this.tx.run((em) => em.insert(Group, group));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A group named "${dto.name}" already exists`);
      }
      throw error;
    }
    return toCompactGroup(group);
  }

  /** Deletes the group; its memberships go with it (foreign keys ON DELETE CASCADE). */
  async delete(name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const result = await em.delete(Group, { name });
      if (!result.affected) {
        throw ApiError.notFound(`Group "${name}" not found`);
      }
    });
  }

  /**
   * The groups with these names, inside the caller's transaction; a 404 naming every missing one
   * (under `field`) when any does not exist.
   */
  async findAllOrFail(em: EntityManager, names: string[], field: string): Promise<Group[]> {
    const unique = [...new Set(names)];
    if (unique.length === 0) {
      return [];
    }
    const found = await em.find(Group, { where: { name: In(unique) } });
    const missing = unique.filter((name) => !found.some((group) => group.name === name));
    if (missing.length > 0) {
      const title = `Group${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}`;
      throw ApiError.notFound(title, [{ name: field, error: 'not_found', title }]);
    }
    return found;
  }

  private async findOrFail(name: string): Promise<Group> {
    const group = await this.groups.findOne({ where: { name } });
    if (!group) {
      throw ApiError.notFound(`Group "${name}" not found`);
    }
    return group;
  }
}
