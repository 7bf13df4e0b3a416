import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIOME = path.resolve('node_modules/.bin/biome');
// The project's own lint configuration, in a scratch folder laid out like the repository.
const scratch = mkdtempSync(path.join(os.tmpdir(), 'upc-lint-'));
copyFileSync('biome.json', path.join(scratch, 'biome.json'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Lints `source` as the file at `filePath` (the per-folder rules apply by path); the report. */
function lintAs(filePath: string, source: string): string {
  const file = path.join(scratch, filePath);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  const run = spawnSync(BIOME, ['lint', '--vcs-enabled=false', filePath], { cwd: scratch, encoding: 'utf8' });
  rmSync(file);
  return `${run.stdout}${run.stderr}`;
}

describe('module boundaries are enforced by lint', () => {
  it("refuses a module importing another module's internals", () => {
    const output = lintAs(
      'src/modules/ris/probe.ts',
      "import { OrthancClient } from '../pacs/orthanc.client.js';\n\nexport const client = OrthancClient;\n",
    );
    expect(output).toContain('lint/style/noRestrictedImports');
    expect(output).toContain('public API');
  });

  it("allows a module to import another module's public API and core", () => {
    const output = lintAs(
      'src/modules/ris/probe.ts',
      "import { ToolError } from '../../core/errors.js';\nimport type { CodesApi } from '../codes/codes.api.js';\n\n" +
        'export type Codes = CodesApi;\nexport const error = ToolError;\n',
    );
    expect(output).toMatch(/Checked 1 file/);
    expect(output).not.toContain('noRestrictedImports');
  });

  it('refuses a door importing a module, and core importing a door', () => {
    const door = lintAs(
      'src/rest/probe.ts',
      "import { risModule } from '../modules/ris/ris.module.js';\n\nexport const ris = risModule;\n",
    );
    expect(door).toContain('lint/style/noRestrictedImports');
    const core = lintAs(
      'src/core/probe.ts',
      "import { mcpRoutes } from '../mcp/index.js';\n\nexport const routes = mcpRoutes;\n",
    );
    expect(core).toContain('lint/style/noRestrictedImports');
  });

  it('refuses a floating promise', () => {
    const output = lintAs(
      'src/core/probe.ts',
      'async function save(): Promise<void> {}\n\nexport function run(): void {\n  save();\n}\n',
    );
    expect(output).toContain('noFloatingPromises');
  });
});
