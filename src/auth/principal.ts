/** Who is calling: a user signed in with a session cookie, or a service account with a bearer token. */
export interface Principal {
  kind: 'user' | 'service_account';
  id: string;
  name: string;
  isAdmin: boolean;
  /** The session that authenticated a user principal. */
  sessionId?: string;
}
