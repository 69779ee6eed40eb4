import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from '../../users/entities/user.entity.js';

/** A user's profile; one row per user at most, absent until first set. */
@Entity('user_profiles')
export class Profile {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @OneToOne(() => User, (user) => user.profile, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_user_profiles_user' })
  user: Relation<User>;

  @Column({ name: 'full_name', type: String, length: 100, nullable: true })
  fullName: string | null;

  @Column({ name: 'email_address', type: String, length: 100, nullable: true })
  emailAddress: string | null;
}
