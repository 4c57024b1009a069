// The demo credential's token mint (scripts/n8n/ledger.mjs mintApiToken, used by `npm start`), interrupted at each
// step where the demo user has MFA switched on, then run again: the rerun must undo the leftover MFA with what the
// state file kept, mint a working token, and leave the user signing in with the password only. Against a real
// ledger process; no n8n.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { client, key, mintApiToken, startLedger } from '../../scripts/n8n/ledger.mjs';

const EMAIL = 'demo-mint@veil.test';
const PASSWORD = 'Mint-Test-Passphrase-42!';

let ledger;
let call;
let stateDir;

before(async () => {
  ledger = await startLedger();
  call = client(ledger.baseUrl);
  assert.equal((await call('POST', '/auth/register', { email: EMAIL, password: PASSWORD })).status, 201);
  const session = (await call('POST', '/auth/login', { email: EMAIL, password: PASSWORD })).body.accessToken;
  const entity = await call('POST', '/entities', { kind: 'llc', name: 'Mint LLC' }, { token: session, key: key() });
  assert.equal(entity.status, 201, JSON.stringify(entity.body));
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-mint-'));
});
after(async () => {
  await ledger?.stop();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

class Interrupted extends Error {}

async function passwordOnly() {
  const login = await call('POST', '/auth/login', { email: EMAIL, password: PASSWORD });
  return login.status === 200 ? 'password only' : `${login.status} ${login.body?.error?.code}`;
}

async function tokenWorks(token) {
  const entities = await call('GET', '/entities', undefined, { token });
  return entities.status === 200 && entities.body.items.length === 1;
}

describe('minting the demo API token', () => {
  for (const step of ['confirmed', 'enrolled', 'token']) {
    it(`an interrupted mint (after '${step}') is undone by the next one, which mints a working token`, async () => {
      const stateFile = path.join(stateDir, `${step}.json`);
      await assert.rejects(
        mintApiToken(ledger.baseUrl, {
          email: EMAIL,
          password: PASSWORD,
          stateFile,
          onStep: (reached) => {
            if (reached === step) throw new Interrupted(step);
          },
        }),
        Interrupted,
      );
      if (step === 'confirmed') {
        // Killed with MFA on: the password alone no longer signs in, and the state file holds the way back.
        assert.equal(await passwordOnly(), '401 mfa_code_required');
        assert.equal(fs.statSync(stateFile).mode & 0o777, 0o600);
        assert.equal(JSON.parse(fs.readFileSync(stateFile, 'utf8')).recoveryCodes.length, 10);
      } else {
        // Before MFA was confirmed, or inside the try that switches it off again: nothing is left behind.
        assert.equal(await passwordOnly(), 'password only');
      }
      const steps = [];
      const minted = await mintApiToken(ledger.baseUrl, { email: EMAIL, password: PASSWORD, stateFile, onStep: (reached) => steps.push(reached) });
      assert.equal(minted.recovered, step === 'confirmed');
      assert.deepEqual(steps, [...(step === 'confirmed' ? ['recovered'] : []), 'enrolled', 'confirmed', 'token']);
      assert.ok(await tokenWorks(minted.token));
      assert.equal(await passwordOnly(), 'password only');
      assert.equal(fs.existsSync(stateFile), false);
    });
  }

  it('with only the TOTP secret saved (interrupted before the recovery codes were), the rerun still recovers', async () => {
    const stateFile = path.join(stateDir, 'secret-only.json');
    await assert.rejects(
      mintApiToken(ledger.baseUrl, {
        email: EMAIL,
        password: PASSWORD,
        stateFile,
        onStep: (reached) => {
          if (reached !== 'confirmed') return;
          const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
          fs.writeFileSync(stateFile, JSON.stringify({ ...state, recoveryCodes: [] }), { mode: 0o600 });
          throw new Interrupted(reached);
        },
      }),
      Interrupted,
    );
    assert.equal(await passwordOnly(), '401 mfa_code_required');
    const minted = await mintApiToken(ledger.baseUrl, { email: EMAIL, password: PASSWORD, stateFile });
    assert.equal(minted.recovered, true);
    assert.ok(await tokenWorks(minted.token));
    assert.equal(await passwordOnly(), 'password only');
  });

  it('a user whose MFA is their own (no state file of this mint) is refused, and left as they are', async () => {
    const stateFile = path.join(stateDir, 'interrupted.json');
    await assert.rejects(
      mintApiToken(ledger.baseUrl, {
        email: EMAIL,
        password: PASSWORD,
        stateFile,
        onStep: (reached) => {
          if (reached === 'confirmed') throw new Interrupted(reached);
        },
      }),
      Interrupted,
    );
    const codes = JSON.parse(fs.readFileSync(stateFile, 'utf8')).recoveryCodes;
    await assert.rejects(mintApiToken(ledger.baseUrl, { email: EMAIL, password: PASSWORD, stateFile: path.join(stateDir, 'other.json') }), (error) => error.code === 'mfa_code_required');
    await assert.rejects(mintApiToken(ledger.baseUrl, { email: EMAIL, password: PASSWORD }), (error) => error.code === 'mfa_code_required');
    assert.equal(await passwordOnly(), '401 mfa_code_required');
    // Tidy up as the owner of that factor would.
    const session = await call('POST', '/auth/login', { email: EMAIL, password: PASSWORD, recoveryCode: codes[5] });
    assert.equal((await call('POST', '/auth/mfa/disable', { password: PASSWORD, recoveryCode: codes[6] }, { token: session.body.accessToken })).status, 204);
  });
});
