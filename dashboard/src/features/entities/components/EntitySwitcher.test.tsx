import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EntityProvider, useScope } from '../../../lib/entity-context';
import { EntitySwitcher } from './EntitySwitcher';

const ENTITIES = [
  { id: 'p1', kind: 'personal', name: 'Alex Rivera', currency: 'USD', taxProfile: 'individual', createdAt: '' },
  { id: 'l1', kind: 'llc', name: 'Northwind Studio LLC', currency: 'USD', taxProfile: 'disregarded', createdAt: '' },
];

function ScopeName() {
  const { scope } = useScope();
  return <p data-testid="scope">{scope?.kind === 'consolidated' ? 'consolidated' : scope?.entity.name}</p>;
}

afterEach(() => vi.unstubAllGlobals());

describe('EntitySwitcher', () => {
  it('starts on the LLC, labels each set of books, and offers a read-only consolidated view', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(new Response(JSON.stringify({ items: ENTITIES }), { status: 200 })));
    const user = userEvent.setup();
    render(
      <QueryClientProvider client={new QueryClient()}>
        <EntityProvider>
          <EntitySwitcher />
          <ScopeName />
        </EntityProvider>
      </QueryClientProvider>,
    );
    expect((await screen.findByTestId('scope')).textContent).toBe('');
    await screen.findByRole('option', { name: 'Northwind Studio LLC (LLC)' });
    expect(screen.getByTestId('scope').textContent).toBe('Northwind Studio LLC');
    expect(screen.getAllByRole('option').map((option) => option.textContent)).toEqual([
      'Alex Rivera (Personal)',
      'Northwind Studio LLC (LLC)',
      'Consolidated (read-only)',
    ]);
    await user.selectOptions(screen.getByLabelText(/Books/), 'Consolidated (read-only)');
    expect(screen.getByTestId('scope').textContent).toBe('consolidated');
    expect(screen.getByText('Consolidated · read-only')).toBeTruthy();
    await user.selectOptions(screen.getByLabelText(/Books/), 'Alex Rivera (Personal)');
    expect(screen.getByTestId('scope').textContent).toBe('Alex Rivera');
    expect(sessionStorage.getItem('veil.scope')).toBe('p1');
  });
});
