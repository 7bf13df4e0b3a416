// `npm ci` / `npm install` build the server once, so `npm start` and the CLI run compiled JavaScript.
// A production install without dev dependencies (no TypeScript) expects a dist/ built beforehand.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('node_modules/typescript')) {
  process.stdout.write(
    'prepare: TypeScript is not installed (production install); using the dist/ built before\n',
  );
  process.exit(0);
}
execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
