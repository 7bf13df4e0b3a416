/** Terminal output helpers: plain text when not a TTY (CI logs), a little colour when it is. */
const useColour = process.stdout.isTTY && !process.env.NO_COLOR;

function paint(code: number, text: string): string {
  return useColour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const ok = (text: string): string => `${paint(32, '✓')} ${text}`;
export const fail = (text: string): string => `${paint(31, '✗')} ${text}`;
export const warn = (text: string): string => `${paint(33, '!')} ${text}`;
export const dim = (text: string): string => paint(2, text);
export const bold = (text: string): string => paint(1, text);
