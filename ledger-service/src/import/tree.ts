import { SaxesParser } from 'saxes';
import { StatementError } from './types';

// OFX 2.x and CAMT.053 are XML: read by saxes, a conforming streaming XML parser that knows the line of every
// element. OFX 1.x is SGML whose leaf elements need not be closed: read by `sgmlTree` below, which closes a leaf
// at the next tag, exactly as the OFX 1.6 specification (section 2.3) describes. Both give the same small tree.

export interface XmlNode {
  name: string;
  text: string;
  children: XmlNode[];
  line: number;
}

export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((candidate) => candidate.name === name);
}

export function childText(node: XmlNode, name: string): string | undefined {
  const found = child(node, name);
  return found === undefined ? undefined : found.text.trim();
}

/** Every node named `name` below `node`, in document order. */
export function descendants(node: XmlNode, name: string, found: XmlNode[] = []): XmlNode[] {
  for (const candidate of node.children) {
    if (candidate.name === name) found.push(candidate);
    descendants(candidate, name, found);
  }
  return found;
}

/** Namespaces are dropped: CAMT files come under several versions of the same names. */
function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

export function xmlTree(text: string, file: string, lineOffset = 0): XmlNode {
  const root: XmlNode = { name: '#document', text: '', children: [], line: 1 };
  const stack: XmlNode[] = [root];
  const parser = new SaxesParser({ position: true });
  parser.on('error', (error) => {
    throw new StatementError(file, parser.line + lineOffset, `not well-formed XML: ${error.message.replace(/^[^:]*:\d+:\d+: /, '')}`);
  });
  parser.on('opentag', (tag) => {
    const node: XmlNode = { name: localName(tag.name), text: '', children: [], line: parser.line + lineOffset };
    (stack.at(-1) as XmlNode).children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (value) => {
    const top = stack.at(-1) as XmlNode;
    if (top !== root) top.text += value;
  });
  parser.on('cdata', (value) => {
    const top = stack.at(-1) as XmlNode;
    if (top !== root) top.text += value;
  });
  parser.write(text).close();
  return root;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

const TAG = /<(\/?)([A-Za-z0-9._]+)\s*>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;

/**
 * OFX 1.x SGML: an element followed by text is a leaf, closed by its own end tag or by the next tag; an element
 * followed by a tag is an aggregate, closed by its end tag. An end tag closes every leaf opened inside it.
 */
export function sgmlTree(text: string, file: string, lineOffset = 0): XmlNode {
  const root: XmlNode = { name: '#document', text: '', children: [], line: 1 };
  const stack: XmlNode[] = [root];
  let line = 1 + lineOffset;
  let position = 0;
  const advance = (until: number) => {
    for (let index = position; index < until; index += 1) if (text.charCodeAt(index) === 10) line += 1;
    position = until;
  };
  let match: RegExpExecArray | null;
  TAG.lastIndex = 0;
  while ((match = TAG.exec(text)) !== null) {
    const between = text.slice(position, match.index);
    const top = stack.at(-1) as XmlNode;
    if (between.trim().length > 0) {
      if (top === root) throw new StatementError(file, line, `text outside any element: "${between.trim().slice(0, 40)}"`);
      top.text += decodeEntities(between.trim());
    }
    advance(match.index);
    const [whole, slash, rawName] = match;
    if (rawName !== undefined) {
      const name = rawName.toUpperCase();
      if (slash === '') {
        // A leaf that already has its text is closed by the next tag.
        const current = stack.at(-1) as XmlNode;
        if (current !== root && current.text.length > 0 && current.children.length === 0) stack.pop();
        const node: XmlNode = { name, text: '', children: [], line };
        (stack.at(-1) as XmlNode).children.push(node);
        stack.push(node);
      } else {
        const at = stack.findLastIndex((node) => node.name === name);
        if (at <= 0) throw new StatementError(file, line, `</${name}> closes an element that is not open`);
        stack.length = at;
      }
    }
    advance(match.index + whole.length);
  }
  const rest = text.slice(position).trim();
  if (rest.length > 0) throw new StatementError(file, line, `text after the last element: "${rest.slice(0, 40)}"`);
  const unclosed = stack.slice(1).filter((node) => node.children.length > 0);
  if (unclosed.length > 0) {
    const first = unclosed[0] as XmlNode;
    throw new StatementError(file, first.line, `<${first.name}> is never closed (the file may be cut short)`);
  }
  return root;
}
