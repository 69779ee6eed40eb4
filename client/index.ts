import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

/** A client of the IAM API whose paths, parameters, bodies and answers are typed from openapi.json. */
export type IamClient = Client<paths>;

/** A user as the API returns it. */
export type User = components['schemas']['UserDto'];

/** The body of every error answer (`type`, `title`, `status`, `request_id`, …). */
export type ApiErrorBody = components['schemas']['ErrorResponseDto'];

export interface IamClientOptions {
  /** A service-account token, sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * A typed client of the service at `baseUrl` (scheme, host and port: the paths carry `/api/v1`), e.g.
 * `createIamClient('https://iam.example.com', { token }).GET('/api/v1/users/{name}', { params: { path: { name } } })`.
 * Each call resolves to `{ data }` on a 2xx and `{ error }` (an ApiErrorBody) otherwise, with the `response`.
 */
export function createIamClient(baseUrl: string, options: IamClientOptions = {}): IamClient {
  return createClient<paths>({
    baseUrl,
    headers: options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` },
  });
}
