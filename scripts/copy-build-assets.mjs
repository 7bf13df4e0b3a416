// Copies what the compiled server reads from disk next to its own files: the SQL migrations. (The
// console and the default policy are read from the checkout root, the same path from src/ or dist/.)
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist/db/migrations', { recursive: true });
cpSync('src/db/migrations', 'dist/db/migrations', { recursive: true, filter: (f) => !f.endsWith('.ts') });
