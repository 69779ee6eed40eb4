import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A group's sso_name used to default to its name; since single sign-on, it decides whom the identity provider puts
 * in the group. A group answered to a provider group of its own name, so anyone who could name a group at the
 * provider could join a powerful one here. The defaults are cleared (empty: none, and single sign-on leaves the
 * group's members alone); an sso_name set to something else stays. Not undone: a cleared default is not told apart
 * from an sso_name set to the name.
 */
export class SsoNameNotDefaulted1796450000000 implements MigrationInterface {
  name = 'SsoNameNotDefaulted1796450000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "groups" SET "sso_name" = '' WHERE "sso_name" = "name"`);
  }

  public async down(): Promise<void> {
    // Nothing to undo: the schema is unchanged.
  }
}
