import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { PDFDocument, StandardFonts, type PDFFont } from 'pdf-lib';
import type { Db } from '../db/database';
import { assert, NotFound } from '../domain/errors';
import { getEntity } from './entities';

export interface DocumentView {
  id: string;
  transferId: string;
  kind: string;
  title: string;
  year: number;
  sha256: string;
  fromEntityId: string;
  toEntityId: string;
  postedOn: string;
  createdAt: string;
}

export interface DocumentWithMarkdown extends DocumentView {
  markdown: string;
}

function selectDocuments(db: Db) {
  return db
    .selectFrom('veilDocuments as d')
    .innerJoin('interEntityTransfers as t', 't.id', 'd.transferId')
    .select([
      'd.id',
      'd.transferId',
      'd.kind',
      'd.title',
      'd.year',
      'd.sha256',
      'd.markdown',
      'd.createdAt',
      't.fromEntityId',
      't.toEntityId',
      't.postedOn',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof selectDocuments>['execute']>>[number];

function view(row: Row): DocumentWithMarkdown {
  // The stored hash is re-checked on every read: a document changed behind the service's back is a bug to surface.
  const sha256 = createHash('sha256').update(row.markdown, 'utf8').digest('hex');
  assert(sha256 === row.sha256, `document ${row.id} does not match its SHA-256`);
  return { ...row, createdAt: row.createdAt.toISOString() };
}

export async function getDocument(db: Db, documentId: string): Promise<DocumentWithMarkdown> {
  const row = await selectDocuments(db).where('d.id', '=', documentId).executeTakeFirst();
  if (row === undefined) throw new NotFound('document', documentId);
  return view(row);
}

export async function listDocuments(db: Db, entityId: string, year: number | undefined): Promise<DocumentWithMarkdown[]> {
  await getEntity(db, entityId);
  let query = selectDocuments(db).where((eb) => eb.or([eb('t.fromEntityId', '=', entityId), eb('t.toEntityId', '=', entityId)]));
  if (year !== undefined) query = query.where('d.year', '=', year);
  const rows = await query.orderBy('t.postedOn').orderBy('d.createdAt').limit(10_000).execute();
  return rows.map(view);
}

// ---- PDF ----------------------------------------------------------------------------------------------------

const PAGE_WIDTH = 612;
const PAGE_HEIGHT = 792;
const MARGIN = 54;

/** The standard PDF fonts encode WinAnsi only; anything else becomes '?', never a crash. */
function winAnsi(text: string): string {
  return text.replace(/[^\x20-\x7E\u00A0-\u00FF\u2013\u2014\u2018\u2019\u201C\u201D\u2022]/g, '?');
}

function unescapeMarkdown(text: string): string {
  return text.replace(/\\([\\`*_[\]#|<>])/g, '$1').replace(/\*\*/g, '');
}

function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(candidate, size) <= width || line === '') line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** A plain rendering of the stored Markdown: headings, paragraphs and table rows. Same document, same bytes. */
export async function renderPdf(document: DocumentWithMarkdown): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const createdAt = new Date(document.createdAt);
  pdf.setTitle(winAnsi(document.title));
  pdf.setSubject(`SHA-256 of the Markdown original: ${document.sha256}`);
  pdf.setProducer('Veil ledger');
  pdf.setCreator('Veil ledger');
  pdf.setCreationDate(createdAt);
  pdf.setModificationDate(createdAt);
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  let page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
  let y = PAGE_HEIGHT - MARGIN;
  const write = (text: string, font: PDFFont, size: number) => {
    for (const line of wrap(winAnsi(text), font, size, PAGE_WIDTH - 2 * MARGIN)) {
      if (y < MARGIN + size) {
        page = pdf.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
        y = PAGE_HEIGHT - MARGIN;
      }
      page.drawText(line, { x: MARGIN, y, size, font });
      y -= size * 1.4;
    }
  };
  for (const raw of document.markdown.split('\n')) {
    if (raw.startsWith('# ')) write(unescapeMarkdown(raw.slice(2)), bold, 16);
    else if (raw.startsWith('## ')) write(unescapeMarkdown(raw.slice(3)), bold, 12);
    else if (/^\|[-:| ]+\|$/.test(raw) || raw === '| | |') continue;
    else if (raw.startsWith('|')) {
      const cells = raw.slice(1, -1).split(/(?<!\\)\|/).map((cell) => unescapeMarkdown(cell.trim()));
      write(cells.join('   '), regular, 9);
    } else if (raw.trim() === '') y -= 6;
    else write(unescapeMarkdown(raw.replace(/^- /, '• ')), regular, 10);
  }
  write(`SHA-256 of the Markdown original: ${document.sha256}`, regular, 7);
  return pdf.save({ useObjectStreams: false });
}

// ---- The yearly binder ----------------------------------------------------------------------------------------

/** One zip per entity and year: every document as Markdown and PDF, with an index of their SHA-256. */
export async function veilBinder(db: Db, entityId: string, year: number): Promise<{ fileName: string; zip: Uint8Array; count: number }> {
  const entity = await getEntity(db, entityId);
  const documents = await listDocuments(db, entityId, year);
  const folder = `veil-binder-${year}`;
  // A fixed timestamp keeps the archive reproducible; zip cannot store dates before 1980.
  const mtime = new Date(Date.UTC(Math.max(year, 1980), 0, 1));
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const index = [
    `# Veil binder ${year}: ${entity.name}`,
    '',
    `${documents.length} document(s). Each Markdown file is the stored original; its SHA-256 is listed here.`,
    '',
    '| Date | Document | SHA-256 |',
    '|---|---|---|',
  ];
  for (const document of documents) {
    const base = `${document.postedOn}-${document.kind}-${document.id.slice(0, 8)}`;
    files[`${folder}/${base}.md`] = [new TextEncoder().encode(document.markdown), { mtime }];
    files[`${folder}/${base}.pdf`] = [await renderPdf(document), { mtime }];
    index.push(`| ${document.postedOn} | ${base}.md | ${document.sha256} |`);
  }
  files[`${folder}/index.md`] = [new TextEncoder().encode(`${index.join('\n')}\n`), { mtime }];
  return { fileName: `${folder}-${entityId.slice(0, 8)}.zip`, zip: zipSync(files, { level: 6 }), count: documents.length };
}
