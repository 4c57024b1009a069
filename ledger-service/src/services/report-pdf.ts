import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Db } from '../db/database';
import { RuleViolation } from '../domain/errors';
import { summaryLines, type SummaryLine } from '../domain/report-summary';
import type { ScheduleCTable } from '../domain/schedule-c';
import { balanceSheet, incomeStatement, scheduleC, type Period } from './reports';

// A printable summary of one entity's year: profit and loss, the balance sheet at the period end, and Schedule C
// when the entity files one. The same books give the same bytes (the PDF's dates are the period end, not now).

const PAGE_WIDTH = 612;
const PAGE_HEIGHT = 792;
const MARGIN = 54;

/** The standard PDF fonts encode WinAnsi only; anything else becomes '?', never a crash. */
function winAnsi(text: string): string {
  return text.replace(/[^\x20-\x7E\u00A0-\u00FF\u2013\u2014\u2018\u2019\u201C\u201D\u2022]/g, '?');
}

export async function summaryOf(db: Db, entityId: string, year: number, period: Period, table: ScheduleCTable) {
  const income = await incomeStatement(db, entityId, period);
  const sheet = await balanceSheet(db, entityId, period);
  let form: Parameters<typeof summaryLines>[0]['scheduleC'];
  try {
    form = await scheduleC(db, entityId, year, table);
  } catch (error) {
    if (!(error instanceof RuleViolation) || error.code !== 'report_not_applicable') throw error;
    form = { notApplicable: `Not applicable: ${error.message}.` };
  }
  return summaryLines({ entityName: income.entityName, year, ...period, incomeStatements: income.byCurrency, balanceSheets: sheet.byCurrency, scheduleC: form });
}

export async function renderSummaryPdf(title: string, lines: readonly SummaryLine[], dated: Date): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(winAnsi(title));
  pdf.setProducer('Veil ledger');
  pdf.setCreator('Veil ledger');
  pdf.setCreationDate(dated);
  pdf.setModificationDate(dated);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  let page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
  let y = PAGE_HEIGHT - MARGIN;
  for (const item of lines) {
    const size = item.style === 'title' ? 15 : item.style === 'heading' ? 12 : item.style === 'note' ? 8 : 10;
    const font = item.style === 'line' || item.style === 'note' ? regular : bold;
    if (item.style === 'heading') y -= 8;
    if (y < MARGIN + size) {
      page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
      y = PAGE_HEIGHT - MARGIN;
    }
    const amountWidth = item.amount ? font.widthOfTextAtSize(item.amount, size) : 0;
    // Labels longer than the space left of the amount column are cut, with an ellipsis; the amount is never cut.
    let label = winAnsi(item.label);
    const room = PAGE_WIDTH - 2 * MARGIN - (item.amount ? 110 : 0);
    while (label.length > 1 && font.widthOfTextAtSize(label, size) > room) label = `${label.slice(0, -2)}…`;
    page.drawText(label, { x: MARGIN + (item.style === 'line' ? 12 : 0), y, size, font });
    if (item.amount) page.drawText(item.amount, { x: PAGE_WIDTH - MARGIN - amountWidth, y, size, font });
    y -= size * 1.5;
  }
  return pdf.save({ useObjectStreams: false });
}
