// Copies what the compiled server reads from disk next to its own files: the SQL migrations of core
// (src/db/migrations) and of each module (src/modules/<name>/migrations), and modules' demo reference
// files (src/modules/<name>/demo). (The console and the default policy are read from the checkout root,
// the same path from src/ or dist/.)
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';

const folders = ['db/migrations'];
for (const module of readdirSync('src/modules', { withFileTypes: true })) {
  if (!module.isDirectory()) continue;
  for (const assets of ['migrations', 'demo'])
    if (existsSync(`src/modules/${module.name}/${assets}`)) folders.push(`modules/${module.name}/${assets}`);
}
for (const folder of folders) {
  mkdirSync(`dist/${folder}`, { recursive: true });
  cpSync(`src/${folder}`, `dist/${folder}`, { recursive: true, filter: (f) => !f.endsWith('.ts') });
}
