/**
 * The real parts the suite runs against are Debian packages. A missing one fails the test that needs it
 * with the package to install, never a silent skip.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** Throws unless `file` exists (and is executable when it is a program), naming the package that has it. */
export function requireFile(
  file: string,
  debianPackage: string,
  options: { executable?: boolean } = {},
): string {
  try {
    accessSync(file, options.executable === false ? constants.R_OK : constants.X_OK);
    return file;
  } catch {
    throw new Error(`${file} is missing: apt-get install ${debianPackage} (.ci/run installs it)`);
  }
}

/** The full path of a program on PATH, or an error naming the package that has it. */
export function requireProgram(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed: apt-get install ${debianPackage} (.ci/run installs it)`);
}
