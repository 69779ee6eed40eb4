import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, In, Repository } from 'typeorm';
import { AdministratorsService } from '../auth/administrators.service.js';
import { ApiError } from '../common/api-error.js';
import { patchMetadata } from '../common/metadata.js';
import { isUniqueViolation } from '../database/database-errors.js';
import { TransactionService } from '../database/transaction.service.js';
import { GroupsService } from '../groups/groups.service.js';
import type { CreateUserDto } from './dto/create-user.dto.js';
import type { SetUserGroupsDto } from './dto/set-user-groups.dto.js';
import type { UpdateUserDto } from './dto/update-user.dto.js';
import { toUserDto, type UserDto } from './dto/user-response.dto.js';
import { User } from './entities/user.entity.js';

const USER_RELATIONS = { groups: true, profile: true } as const;

/** Names are unique and looked up without regard to case. */
export const userNameKey = (name: string) => name.toLowerCase();

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly groups: GroupsService,
    private readonly administrators: AdministratorsService,
    private readonly tx: TransactionService,
  ) {}

  toDto(user: User): UserDto {
    return toUserDto(user, this.administrators.isAdministrator(user.name));
  }

  async list(): Promise<UserDto[]> {
    const users = await this.users.find({ relations: USER_RELATIONS, order: { nameKey: 'ASC' } });
    return users.map((user) => this.toDto(user));
  }

  async get(name: string): Promise<UserDto> {
    return this.toDto(await this.findOrFail(name));
  }

  async getById(id: string): Promise<UserDto> {
    const user = await this.users.findOne({ where: { id }, relations: USER_RELATIONS });
    if (!user) {
      throw ApiError.notFound('User not found');
    }
    return this.toDto(user);
  }

  async create(dto: CreateUserDto): Promise<UserDto> {
    const user = this.users.create({
      id: randomUUID(),
      name: dto.name,
      nameKey: userNameKey(dto.name),
      displayName: dto.display_name ?? dto.name,
      metadata: dto.metadata ?? {},
      passwordHash: null,
      createdAt: new Date(),
      lastSeenAt: null,
    });
    try {
      await this.tx.run((em) => em.insert(User, user));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(
          `A user named "${dto.name}" already exists (names are compared without regard to case)`,
        );
      }
      throw error;
    }
    return this.get(user.name);
  }

  async update(name: string, dto: UpdateUserDto): Promise<UserDto> {
    await this.tx.run(async (em) => {
      const user = await this.lockByName(em, name);
      const changes: Partial<User> = {};
      if (dto.display_name !== undefined) {
        changes.displayName = dto.display_name;
      }
      if (dto.metadata !== undefined) {
        changes.metadata = patchMetadata(user.metadata, dto.metadata);
      }
      if (Object.keys(changes).length > 0) {
        await em.update(User, { id: user.id }, changes);
      }
    });
    return this.get(name);
  }

  /** Deletes the user; profile, settings, sessions and memberships go with it (ON DELETE CASCADE). */
  async delete(name: string): Promise<void> {
    await this.tx.run(async (em) => {
      const result = await em.delete(User, { nameKey: userNameKey(name) });
      if (!result.affected) {
        throw ApiError.notFound(`User "${name}" not found`);
      }
    });
  }

  /** Changes the user's memberships in one transaction; nothing changes when any group is missing. */
  async setGroups(name: string, dto: SetUserGroupsDto): Promise<UserDto> {
    const { add_to_groups: add, remove_from_groups: remove, set_groups: set } = dto;
    if (set !== undefined && (add !== undefined || remove !== undefined)) {
      throw ApiError.invalidField(
        'set_groups',
        'conflicting',
        'set_groups cannot be combined with add_to_groups or remove_from_groups',
      );
    }
    await this.tx.run(async (em) => {
      const user = await this.lockByName(em, name);
      const junction = em.createQueryBuilder().relation(User, 'groups').of(user.id);
      if (set !== undefined) {
        const groups = await this.groups.findAllOrFail(em, set, 'set_groups');
        const current = await em.createQueryBuilder().relation(User, 'groups').of(user.id).loadMany<{ id: string }>();
        const wanted = new Set(groups.map((g) => g.id));
        const have = new Set(current.map((g) => g.id));
        await junction.addAndRemove(
          [...wanted].filter((id) => !have.has(id)),
          [...have].filter((id) => !wanted.has(id)),
        );
        return;
      }
      const removeNames = new Set(remove ?? []);
      const toAdd = await this.groups.findAllOrFail(em, add ?? [], 'add_to_groups');
      const toRemove = await this.groups.findAllOrFail(em, remove ?? [], 'remove_from_groups');
      const addIds = toAdd.filter((g) => !removeNames.has(g.name)).map((g) => g.id);
      if (addIds.length > 0) {
        await em
          .createQueryBuilder()
          .insert()
          .into('user_groups')
          .values(addIds.map((groupId) => ({ user_id: user.id, group_id: groupId })))
          .orIgnore()
          .execute();
      }
      if (toRemove.length > 0) {
        await em
          .createQueryBuilder()
          .delete()
          .from('user_groups')
          .where('user_id = :userId', { userId: user.id })
          .andWhere({ group_id: In(toRemove.map((g) => g.id)) })
          .execute();
      }
    });
    return this.get(name);
  }

  /** The user row (no relations) by name, or a 404. */
  async findEntityOrFail(name: string): Promise<User> {
    const user = await this.users.findOne({ where: { nameKey: userNameKey(name) } });
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return user;
  }

  async touchLastSeen(userId: string, at = new Date()): Promise<void> {
    await this.tx.run((em) => em.update(User, { id: userId }, { lastSeenAt: at }));
  }

  private async findOrFail(name: string): Promise<User> {
    const user = await this.users.findOne({ where: { nameKey: userNameKey(name) }, relations: USER_RELATIONS });
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return user;
  }

  private async lockByName(em: EntityManager, name: string): Promise<User> {
    const user = await em.findOne(User, { where: { nameKey: userNameKey(name) }, lock: this.tx.rowLock });
    if (!user) {
      throw ApiError.notFound(`User "${name}" not found`);
    }
    return user;
  }
}
