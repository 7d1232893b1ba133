// Every op that can be recorded on the tape has a gradient rule. The ops are found in the code, not
// listed here: every call to `recordOp` in the packages' sources, with the op names its first
// argument can take according to the TypeScript checker (a string literal or a union of them, such
// as UnaryOp or `${ScalarOp}Scalar`), plus every differentiable custom kernel (defineKernel), whose
// name reaches recordOp through runKernel.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { differentiableOps } from '@tinytape/autograd';
import '@tinytape/rnn';
import { customKernels } from '@tinytape/tensor';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every non-test source file of the packages. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  for (const pkg of readdirSync(path.join(root, 'packages'))) walk(path.join(root, 'packages', pkg, 'src'));
  return files;
}

/** Op names per `recordOp` call site; a site whose name the checker cannot pin down maps to null. */
function recordedOps(): Map<string, string[] | null> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const files = sources();
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const sites = new Map<string, string[] | null>();
  for (const file of files) {
    const source = program.getSourceFile(file)!;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'recordOp' && node.arguments.length > 0) {
        const type = checker.getTypeAtLocation(node.arguments[0]!);
        const parts = type.isUnion() ? type.types : [type];
        const names = parts.every((t) => t.isStringLiteral()) ? parts.map((t) => (t as ts.StringLiteralType).value) : null;
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        sites.set(`${path.relative(root, file)}:${line + 1}`, names);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sites;
}

describe('gradient coverage', () => {
  const sites = recordedOps();

  it('finds the recording call sites, each with op names known from its types (custom kernels aside)', () => {
    expect(sites.size).toBeGreaterThan(10);
    const unknown = [...sites].filter(([, names]) => names === null).map(([site]) => site.replace(/:\d+$/, ''));
    // runKernel records a custom kernel under the kernel's own name; those are checked below.
    expect(unknown).toEqual(['packages/tensor/src/ops/custom.ts']);
  });

  it('every op a recordOp call can record has a registered gradient rule', () => {
    const rules = new Set(differentiableOps());
    const recorded = [...new Set([...sites.values()].flatMap((names) => names ?? []))].sort();
    expect(recorded).toEqual(expect.arrayContaining(['matmul', 'tanh', 'addScalar', 'recurrentSequence']));
    expect(recorded.filter((op) => !rules.has(op))).toEqual([]);
  });

  it('every differentiable custom kernel has a registered gradient rule', () => {
    const rules = new Set(differentiableOps());
    const missing = customKernels().filter((k) => k.differentiable === true && !rules.has(k.name)).map((k) => k.name);
    expect(missing).toEqual([]);
  });
});
