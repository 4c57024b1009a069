import type { ReactNode } from 'react';
import { Empty } from './ui';

// The one table of rows: a header per column, one row per item, and the empty state instead of a bare header when
// there is nothing to show. Pages say what their columns hold; the markup (scopes, amount alignment, hidden
// captions and action headers for screen readers) lives here only.

export interface Column<T> {
  /** The header text; also what a screen reader announces for the column. */
  header: string;
  /** Shown to screen readers only (an actions column). */
  hideHeader?: boolean;
  /** Right-aligned figures. */
  amount?: boolean;
  /** The cell is the row's header (`<th scope="row">`). */
  rowHeader?: boolean;
  cell: (row: T) => ReactNode;
}

export interface DataTableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  /** Names the table for screen readers (a visually hidden caption). */
  caption: string;
  /** What to say when there are no rows; the table is not drawn then. */
  empty: ReactNode;
  className?: string;
  rowClassName?: (row: T) => string | undefined;
  /** Total rows after the items (`<tr>` elements). */
  footer?: ReactNode;
}

export function DataTable<T>({ rows, columns, rowKey, caption, empty, className, rowClassName, footer }: DataTableProps<T>) {
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table className={className}>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column.header} scope="col" className={column.amount ? 'amount' : undefined}>
              {column.hideHeader ? <span className="visually-hidden">{column.header}</span> : column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} className={rowClassName?.(row)}>
            {columns.map((column) =>
              column.rowHeader ? (
                <th key={column.header} scope="row" className={column.amount ? 'amount' : undefined}>
                  {column.cell(row)}
                </th>
              ) : (
                <td key={column.header} className={column.amount ? 'amount' : undefined}>
                  {column.cell(row)}
                </td>
              ),
            )}
          </tr>
        ))}
        {footer}
      </tbody>
    </table>
  );
}
