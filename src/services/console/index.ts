// Remote console tokens, as Nova's console_auth_tokens: a random token goes into the console URL, only its SHA-256
// is stored, with the one instance it opens, that instance's host and a short expiry. The websocket proxy
// (src/api/console) trades a token for the guest's VNC socket on this host.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CloudError } from '../../errors.js';
import type { Database } from '../../store/tables.js';
import type { HypervisorDriver } from '../../virt/index.js';

/** Settings of the console service. */
export interface ConsoleOptions {
  /** Seconds a console token stays valid (Nova's [consoleauth] token_ttl; config console.tokenTtlSeconds). */
  tokenTtlSec: number;
}

/** A token's instance and host, once checked. */
export interface ConsoleTarget {
  instanceId: string;
  host: string;
  consoleType: string;
}

/** Why a websocket may not open: 401 for the token, 409 for the instance. */
export type ConsoleRefusal = { status: 401 | 409; message: string };

/** vm_states in which a guest has a console to show (as Nova's get_console rule). */
const CONSOLE_STATES = new Set(['active', 'paused', 'rescued', 'resized']);

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Issues and checks remote console tokens; knows this host's driver to find the guest's console socket. */
export class ConsoleService {
  readonly options: ConsoleOptions;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      driver: () => HypervisorDriver | null;
      options?: Partial<ConsoleOptions>;
    },
  ) {
    this.options = { tokenTtlSec: 600, ...deps.options };
  }

  /** True when this host's driver serves `protocol` consoles ("vnc"). */
  supports(protocol: string): boolean {
    return this.deps.driver()?.consoleProtocols.includes(protocol) ?? false;
  }

  /**
   * A new token for one instance's console (the caller has checked policy and state). Throws Nova's
   * ConsoleTypeUnavailable (400) when the host's driver has no such console.
   */
  async issue(instanceId: string, host: string, consoleType: string): Promise<{ token: string; expiresAt: Date }> {
    if (consoleType !== 'novnc' || !this.supports('vnc')) {
      throw new CloudError('BadRequest', `Unavailable console type ${consoleType}.`, {
        code: 'ConsoleTypeUnavailable',
      });
    }
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.options.tokenTtlSec * 1000);
    await this.deps.db
      .insertInto('console_auth_tokens')
      .values({
        token_hash: hashToken(token),
        instance_id: instanceId,
        console_type: consoleType,
        host,
        created_at: now.toISOString(),
        expires_at: expiresAt.toISOString(),
      })
      .execute();
    return { token, expiresAt };
  }

  /** The token's target when it exists and has not expired; null otherwise. */
  async check(token: string): Promise<ConsoleTarget | null> {
    if (!token || token.length > 256) return null;
    const row = await this.deps.db
      .selectFrom('console_auth_tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row || row.expires_at <= new Date().toISOString()) return null;
    return { instanceId: row.instance_id, host: row.host, consoleType: row.console_type };
  }

  /**
   * The VNC socket a token opens: the token valid, its instance not deleted, still on the token's host, that host
   * served by this process's driver, in a state with a console, and its guest running.
   */
  async connect(token: string): Promise<{ target: ConsoleTarget; socket: string } | ConsoleRefusal> {
    const target = await this.check(token);
    if (!target) return { status: 401, message: 'The console token is invalid or has expired.' };
    const inst = await this.deps.db
      .selectFrom('compute_instances')
      .select(['host', 'vm_state', 'deleted'])
      .where('id', '=', target.instanceId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    if (!inst || inst.host !== target.host)
      return { status: 401, message: 'The console token is invalid or has expired.' };
    const driver = this.deps.driver();
    if (!driver?.hosts().some((h) => h.host === target.host)) {
      return { status: 409, message: `Instance ${target.instanceId} is not on this host.` };
    }
    if (!CONSOLE_STATES.has(inst.vm_state))
      return { status: 409, message: `Instance ${target.instanceId} is not running.` };
    const socket = await driver.consoleSocket(target.host, target.instanceId).catch(() => null);
    if (!socket) return { status: 409, message: `Instance ${target.instanceId} is not running.` };
    return { target, socket };
  }

  /** Drops an instance's tokens (on delete). */
  async revokeInstance(instanceId: string): Promise<void> {
    await this.deps.db.deleteFrom('console_auth_tokens').where('instance_id', '=', instanceId).execute();
  }

  /** Removes expired tokens. */
  async purgeExpired(): Promise<number> {
    const r = await this.deps.db
      .deleteFrom('console_auth_tokens')
      .where('expires_at', '<=', new Date().toISOString())
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
