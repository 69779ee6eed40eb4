/**
 * The name of the IAM's own TypeORM DataSource. Named, so that it never takes the place of a host's default
 * DataSource (nor a host's repositories resolve to it).
 */
export const IAM_DATA_SOURCE = 'iam';
