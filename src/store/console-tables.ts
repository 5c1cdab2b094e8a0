/** Row types of migrations/2026112208-console.ts. */
export interface ConsoleAuthTokenRow {
  /** SHA-256 (hex) of the token handed out in the console URL. */
  token_hash: string;
  instance_id: string;
  /** novnc (the only kind served for now). */
  console_type: string;
  /** The compute host the instance was on when the token was made. */
  host: string;
  created_at: string;
  expires_at: string;
}

export interface ConsoleTables {
  console_auth_tokens: ConsoleAuthTokenRow;
}
