// `unidecode` (npm) ships no type declarations: a CommonJS function, string in, ASCII out.
declare module 'unidecode' {
  function unidecode(text: string, substitute?: string): string;
  export default unidecode;
}
