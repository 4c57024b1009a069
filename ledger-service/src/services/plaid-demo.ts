import { Products } from 'plaid';
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
