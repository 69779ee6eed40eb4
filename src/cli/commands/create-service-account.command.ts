import { Command, Option } from 'nest-commander';
import { ApiError } from '../../common/api-error.js';
import { CreateServiceAccountDto } from '../../service-accounts/dto/create-service-account.dto.js';
import { ServiceAccountsService } from '../../service-accounts/service-accounts.service.js';
import { invalidOptionValue, nameArgument, timeArgument, validated } from '../arguments.js';
import { CliCommand } from '../cli-command.js';
import { CliError, EXIT } from '../cli-error.js';
import { IamContext } from '../iam-context.js';
import { print, tell } from '../output.js';

interface CreateServiceAccountOptions {
  admin?: boolean;
  expires?: string;
}

/**
 * `--expires` as the API's token_expires_at: a duration from now (`90d`, `12h`), a date (midnight UTC), or an
 * RFC 3339 date-time, left to the API's own validation.
 */
export function expiryOf(value: string, now = Date.now()): string {
  const time = timeArgument(value, 1, now);
  if (time === undefined) {
    throw invalidOptionValue(
      'Give an RFC 3339 date-time (2030-01-01T00:00:00Z), a date (2030-01-01, midnight UTC) or a duration from ' +
        'now (90d, 12h).',
    );
  }
  return time;
}

@Command({
  name: 'create-service-account',
  arguments: '<name>',
  argsDescription: {
    name: 'its name: lower-case letters, digits and hyphens, unique among users and service accounts',
  },
  description: 'create a service account; prints its token, this once',
})
export class CreateServiceAccountCommand extends CliCommand {
  constructor(private readonly iam: IamContext) {
    super();
  }

  @Option({
    flags: '--admin',
    description:
      'make it an administrator, like the built-in admin account: it may do everything, whatever ' +
      'IAM_ADMINISTRATORS says, until it is deleted',
  })
  parseAdmin(): boolean {
    return true;
  }

  @Option({
    flags: '--expires <when>',
    description:
      'when its token expires: a duration from now (90d, 12h), a date (2030-01-01, midnight UTC) or an RFC 3339 ' +
      'date-time; without it the token never expires (unless IAM_SA_TOKEN_MAX_TTL_DAYS requires an expiry)',
  })
  parseExpires(value: string): string {
    return expiryOf(value);
  }

  async run([name]: string[], options: CreateServiceAccountOptions = {}): Promise<void> {
    const dto = await this.forExpires(() =>
      validated(CreateServiceAccountDto, {
        name: nameArgument('name', name),
        ...(options.expires === undefined ? {} : { token_expires_at: options.expires }),
      }),
    );
    const accounts = await this.iam.get(ServiceAccountsService);
    const created = await this.forExpires(() =>
      accounts.create(this.iam.operator, dto, { administrator: options.admin === true }),
    );
    tell(
      `Created service account "${created.name}"${created.is_admin ? ', an administrator' : ''}; its token ` +
        `${created.token_expires_at ? `expires at ${created.token_expires_at}` : 'never expires'}. ` +
        'The token is shown this once: store it now.',
    );
    await print(`${created.token}\n`);
  }

  /** The API's complaints about token_expires_at, said of --expires. */
  private async forExpires<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const field = error instanceof ApiError ? error.invalidFields?.find((f) => f.name === 'token_expires_at') : null;
      if (!field) {
        throw error;
      }
      throw new CliError(
        field.error === 'invalid_format'
          ? '--expires must be a duration (90d, 12h), a date (2030-01-01) or an RFC 3339 date-time with a time zone'
          : field.title.replace(/^token_expires_at/, '--expires'),
        EXIT.invalid,
      );
    }
  }
}
