/** A progress line for long steps (loading data): rewritten in place on a terminal. */
export function progress(message: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${message}`);
  else console.log(message);
}

export function progressDone(message: string): void {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  console.log(message);
}
