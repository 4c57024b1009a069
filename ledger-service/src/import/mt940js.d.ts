// mt940js ships no typings; this is the one call we make.
declare module 'mt940js' {
  export class Parser {
    parse(text: string): unknown[];
  }
}
