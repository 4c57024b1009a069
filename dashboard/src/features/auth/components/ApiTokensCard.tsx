import { useState, type FormEvent } from 'react';
import { Card, Empty, ErrorNotice, QueryState } from '../../../components/ui';
import { entityLabel, useScope } from '../../../lib/entity-context';
import { useApiTokens, useCreateApiToken, useRevokeApiToken, type Scope } from '../api/auth';

const SCOPES: { scope: Scope; label: string }[] = [
  { scope: 'read', label: 'Read' },
  { scope: 'write', label: 'Write (book entries)' },
  { scope: 'move_money', label: 'Move money between entities' },
];

export function ApiTokensCard({ sessionMfa }: { sessionMfa: boolean }) {
  const tokens = useApiTokens();
  const create = useCreateApiToken();
  const revoke = useRevokeApiToken();
  const { entities } = useScope();
  const [name, setName] = useState('n8n');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [entityIds, setEntityIds] = useState<string[]>([]);

  function toggle<T>(list: T[], value: T): T[] {
    return list.includes(value) ? list.filter((item) => item !== value) : [...list, value];
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({ name: name.trim(), scopes, entityIds });
  }

  return (
    <Card title="API tokens">
      <p>Tokens let n8n call the ledger. Paste one into the Veil credential in n8n.</p>
      {!sessionMfa ? <p className="notice info">Creating a token needs a session that passed two-step verification.</p> : null}
      <form onSubmit={submit} className="stack" aria-label="New API token">
        <label>
          Token name
          <input required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map(({ scope, label }) => (
            <label key={scope} className="inline">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => setScopes(toggle(scopes, scope))} /> {label}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Books</legend>
          {entities.map((entity) => (
            <label key={entity.id} className="inline">
              <input type="checkbox" checked={entityIds.includes(entity.id)} onChange={() => setEntityIds(toggle(entityIds, entity.id))} />{' '}
              {entityLabel(entity)}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="primary" disabled={create.isPending || scopes.length === 0 || entityIds.length === 0}>
          Create token
        </button>
        <ErrorNotice error={create.error} />
      </form>
      {create.data ? (
        <div className="notice success" role="status">
          <p>Copy this token now: it is never shown again.</p>
          <code className="token" aria-label="New token">
            {create.data.token}
          </code>
        </div>
      ) : null}
      <QueryState query={tokens} label="Loading tokens">
        {(items) =>
          items.length === 0 ? (
            <Empty>No tokens yet.</Empty>
          ) : (
            <table>
              <caption className="visually-hidden">API tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Last used</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    <td>{token.scopes.join(', ')}</td>
                    <td>{token.lastUsedAt ? new Date(token.lastUsedAt).toLocaleString() : 'never'}</td>
                    <td>{token.revokedAt ? 'revoked' : 'active'}</td>
                    <td>
                      {!token.revokedAt ? (
                        <button type="button" onClick={() => revoke.mutate(token.id)} aria-label={`Revoke ${token.name}`}>
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
      <ErrorNotice error={revoke.error} />
    </Card>
  );
}
