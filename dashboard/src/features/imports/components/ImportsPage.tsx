import { NeedsEntity, PageHeader, QueryState } from '../../../components/ui';
import { useEntity } from '../../../lib/entity-context';
import type { Entity } from '../../../lib/types';
import { useChartOfAccounts } from '../api/imports';
import { ReviewQueue } from './ReviewQueue';
import { RulesEditor } from './RulesEditor';
import { UploadStatement } from './UploadStatement';

export function ImportsPage() {
  const entity = useEntity();
  if (!entity) return <NeedsEntity what="Statement imports, the review queue and rules" />;
  return <EntityImports key={entity.id} entity={entity} />;
}

function EntityImports({ entity }: { entity: Entity }) {
  const accounts = useChartOfAccounts(entity.id);
  return (
    <>
      <PageHeader title="Imports and rules" />
      <QueryState query={accounts} label="Loading accounts">
        {(items) => {
          const open = items.filter((account) => account.archivedAt === null);
          const bankAccounts = open.filter((account) => account.class === 'asset' || account.class === 'liability');
          return (
            <>
              <UploadStatement accounts={bankAccounts} currency={entity.currency} />
              <ReviewQueue entityId={entity.id} currency={entity.currency} />
              <RulesEditor entityId={entity.id} accounts={open} currency={entity.currency} />
            </>
          );
        }}
      </QueryState>
    </>
  );
}
