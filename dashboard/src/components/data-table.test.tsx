import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { DataTable, type Column } from './data-table';

interface Row {
  id: string;
  name: string;
  cents: number;
}

const COLUMNS: Column<Row>[] = [
  { header: 'Name', rowHeader: true, cell: (row) => row.name },
  { header: 'Amount', amount: true, cell: (row) => String(row.cents) },
  { header: 'Actions', hideHeader: true, cell: (row) => <button type="button">Edit {row.name}</button> },
];

describe('DataTable', () => {
  it('says the empty text and draws no table when there are no rows', () => {
    render(<DataTable rows={[]} columns={COLUMNS} rowKey={(row) => row.id} caption="Things" empty="Nothing yet." />);
    expect(screen.getByText('Nothing yet.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('draws one row per item with row headers, right-aligned amounts, a hidden actions header and the footer', () => {
    render(
      <DataTable
        rows={[
          { id: 'a', name: 'Rent', cents: 120000 },
          { id: 'b', name: 'Power', cents: 8000 },
        ]}
        columns={COLUMNS}
        rowKey={(row) => row.id}
        caption="Things"
        empty="Nothing yet."
        rowClassName={(row) => (row.cents > 100000 ? 'big' : undefined)}
        footer={
          <tr>
            <th scope="row">Total</th>
            <td className="amount">128000</td>
          </tr>
        }
      />,
    );
    const table = screen.getByRole('table', { name: 'Things' });
    expect(within(table).getAllByRole('columnheader').map((header) => header.textContent)).toEqual(['Name', 'Amount', 'Actions']);
    expect(within(table).getByRole('columnheader', { name: 'Actions' }).querySelector('.visually-hidden')).not.toBeNull();
    expect(within(table).getAllByRole('rowheader').map((header) => header.textContent)).toEqual(['Rent', 'Power', 'Total']);
    const rent = within(table).getByRole('row', { name: /Rent/ });
    expect(rent.className).toBe('big');
    expect(within(rent).getByText('120000').className).toBe('amount');
    expect(within(table).getByRole('row', { name: /Power/ }).className).toBe('');
    expect(within(table).getByRole('button', { name: 'Edit Power' })).toBeTruthy();
  });
});
