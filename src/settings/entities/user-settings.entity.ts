import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';

export const THEMES = ['light', 'dark', 'system'] as const;
export type Theme = (typeof THEMES)[number];
export const WEEK_STARTS = ['monday', 'saturday', 'sunday'] as const;
export type WeekStart = (typeof WEEK_STARTS)[number];

/** A user's settings; the row exists once something was changed, defaults fill the rest. */
@Entity('user_settings')
export class UserSettings {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_user_settings_user' })
  user: Relation<User>;

  @Column({ type: String, length: 16 })
  theme: Theme;

  @Column({ type: String, length: 64 })
  timezone: string;

  @Column({ type: String, length: 35 })
  language: string;

  @Column({ name: 'week_start', type: String, length: 16 })
  weekStart: WeekStart;
}
