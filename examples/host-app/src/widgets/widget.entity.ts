import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The host's own table, in the host's own (default) DataSource: nothing to do with the IAM's. */
@Entity('widgets')
export class Widget {
  @PrimaryColumn('integer')
  id: number;

  @Column('varchar', { length: 100 })
  name: string;
}
