/**
 * Crash tests run the exporter in child processes that are killed with SIGKILL. The children import the
 * sources transpiled (one file each, `typescript.transpileModule`) into a temporary directory whose
 * `node_modules` links to the repository's, so they never depend on a possibly stale dist/.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

/** Transpiles src/ into `out/src`, links node_modules, and writes `child` as `out/<name>`. */
export async function buildChild(out: string, name: string, child: string): Promise<string> {
  for await (const file of tsFiles(join(repoRoot, 'src'))) {
    const source = await readFile(file, 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
    const target = join(out, relative(repoRoot, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, js.outputText);
  }
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  await symlink(join(repoRoot, 'node_modules'), join(out, 'node_modules'), 'dir').catch(() => undefined);
  await writeFile(join(out, name), child);
  return join(out, name);
}
