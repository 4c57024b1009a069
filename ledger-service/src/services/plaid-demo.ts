import { Products } from 'plaid';
import { RuleViolation } from '../domain/errors';
import { callPlaid, requirePlaid } from '../plaid/client';
import { auditedTransaction } from './audit';
import { systemActor, type Actor, type Deps } from './context';
import { linkItem, syncItem } from './plaid';

// `npm start` without Plaid credentials runs the sandbox emulator: the demo books then get a linked bank for the
// LLC and one for the owner, synced once, through exactly the code that talks to Plaid in production.

const DEMO_BANKS = [
  { entity: 'llc', username: 'user_llc', institutionId: 'ins_109511' },
  { entity: 'personal', username: 'user_good', institutionId: 'ins_109508' },
] as const;

export async function linkDemoBanks(
  deps: Deps,
  ownerUserId: string,
  entities: { llcEntityId: string; personalEntityId: string },
): Promise<{ items: number; bankLines: number; booked: number }> {
  const plaid = requirePlaid(deps.plaid);
  const actor: Actor = { ...systemActor('demo-plaid'), userId: ownerUserId };
  let bankLines = 0;
  let booked = 0;
  for (const bank of DEMO_BANKS) {
    const created = await callPlaid(() =>
      plaid.client.sandboxPublicTokenCreate({
        institution_id: bank.institutionId,
        initial_products: [Products.Transactions],
        options: { override_username: bank.username, ...(plaid.webhookUrl ? { webhook: plaid.webhookUrl } : {}) },
      }),
    );
    const entityId = bank.entity === 'llc' ? entities.llcEntityId : entities.personalEntityId;
    const item = await auditedTransaction(deps.db, (trx) => linkItem(trx, deps, actor, { entityId, publicToken: created.public_token }));
    const report = await syncItem(deps, actor, item.id);
    bankLines += report.added;
    booked += report.booked;
  }
  return { items: DEMO_BANKS.length, bankLines, booked };
}

/** The sandbox logins the emulator knows; the dashboard's demo Link offers them. */
export const DEMO_LINK_USERNAMES = ['user_good', 'user_llc'] as const;
const DEMO_LINK_TIMEOUT_MS = 30_000;

/**
 * The demo's Plaid Link: what the user does in Plaid's Link UI, done by the emulator's /emulator/link/complete on
 * the user's behalf. The ledger calls it, so the browser stays on its own origin (the CSP allows nothing else).
 * In create mode it answers the public token to exchange (POST /plaid/items); in update mode (a token from
 * update-link-token) it repairs the item's login and answers null. Refused unless Plaid is the bundled emulator.
 */
export async function completeDemoLink(deps: Deps, input: { linkToken: string; username?: (typeof DEMO_LINK_USERNAMES)[number] | undefined }): Promise<{ publicToken: string | null }> {
  const plaid = requirePlaid(deps.plaid);
  if (plaid.emulatorBasePath === undefined) {
    throw new RuleViolation('plaid_demo_only', "the demo Link works only with the bundled Plaid emulator (PLAID_ENV=emulator); with Plaid itself, finish Link in Plaid's own window");
  }
  let response: Response;
  try {
    response = await fetch(`${plaid.emulatorBasePath}/emulator/link/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ link_token: input.linkToken, ...(input.username ? { username: input.username } : {}) }),
      signal: AbortSignal.timeout(DEMO_LINK_TIMEOUT_MS),
    });
  } catch (error) {
    throw new RuleViolation('plaid_upstream_error', `the Plaid emulator could not be reached: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { public_token?: unknown; error_code?: unknown; error_message?: unknown } | null;
  if (!response.ok) {
    const code = typeof body?.error_code === 'string' ? body.error_code : `HTTP_${response.status}`;
    const message = typeof body?.error_message === 'string' ? body.error_message : 'no Plaid error body';
    // A bad or expired link token is the caller's input, not an outage.
    if (code === 'INVALID_LINK_TOKEN') throw new RuleViolation('invalid_request', `the link token is invalid or expired: ${message}`, { plaidErrorCode: code });
    throw new RuleViolation('plaid_upstream_error', `the Plaid emulator answered ${code}: ${message}`, { plaidErrorCode: code });
  }
  const publicToken = body?.public_token;
  if (publicToken !== null && typeof publicToken !== 'string') throw new RuleViolation('plaid_upstream_error', 'the Plaid emulator answered no public token');
  return { publicToken };
}
