import { userInfo } from 'node:os';

/**
 * Who is acting: a user signed in with a session cookie, a service account with a bearer token, or, outside any
 * request, the operator at the admin CLI (never the principal of a request).
 */
export interface Principal {
  kind: 'user' | 'service_account' | 'operator';
  id: string;
  name: string;
  isAdmin: boolean;
  /** The session that authenticated a user principal. */
  sessionId?: string;
}

/** The principals that exist in the database (the operator does not): those a request can act on. */
export type StoredPrincipalKind = Exclude<Principal['kind'], 'operator'>;

/** A principal a credential (a session cookie, a bearer token) authenticates: never the operator. */
export type CredentialPrincipal = Principal & { kind: StoredPrincipalKind };

/** The one id of the operator principal. */
export const OPERATOR_ID = 'cli';

/**
 * The admin CLI's principal: whoever has a shell where the service's configuration and database are within reach
 * (the database host) runs commands as the operator. Such access can change anything in the database anyway, so the
 * operator is an administrator. It is named after the operating-system account that ran the command, so that what it
 * did can be told from what principals did over HTTP and put down to someone.
 */
export function operatorPrincipal(osUser: string = currentOsUser()): Principal {
  return { kind: 'operator', id: OPERATOR_ID, name: osUser, isAdmin: true };
}

function currentOsUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No entry for this uid in the password database (a container started with an arbitrary uid).
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}
