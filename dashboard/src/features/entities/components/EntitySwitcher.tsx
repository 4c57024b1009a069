import { CONSOLIDATED, entityLabel, useScope } from '../../../lib/entity-context';

/** Which books are shown. The consolidated view is labelled read-only wherever it appears. */
export function EntitySwitcher() {
  const { entities, scope, select } = useScope();
  const value = scope?.kind === 'consolidated' ? CONSOLIDATED : (scope?.entity.id ?? '');
  return (
    <label className="switcher">
      <span>Books</span>
      <select value={value} onChange={(event) => select(event.target.value)} disabled={entities.length === 0}>
        {entities.map((entity) => (
          <option key={entity.id} value={entity.id}>
            {entityLabel(entity)}
          </option>
        ))}
        {entities.length > 1 ? <option value={CONSOLIDATED}>Consolidated (read-only)</option> : null}
      </select>
      {scope ? (
        <span className={`scope-badge ${scope.kind === 'consolidated' ? 'consolidated' : scope.entity.kind}`} aria-hidden="true">
          {scope.kind === 'consolidated' ? 'Consolidated · read-only' : scope.entity.kind === 'llc' ? 'Business' : 'Personal'}
        </span>
      ) : null}
    </label>
  );
}
