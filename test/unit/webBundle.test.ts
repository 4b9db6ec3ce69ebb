/**
 * The browser client as shipped (`web/dist`, built by `npm run build:web`, which `npm test` runs
 * first): no syntax the supported browsers lack, and a weight kept under its budget.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { BROWSER_TARGETS } from '../../web/browserTargets.js';

const DIST = path.resolve('web/dist');

/**
 * What a person's browser downloads to join, gzipped: 77,138 bytes when the budget was set
 * (index.html, the script and the style sheet, then built for ES2019), plus 10 %.
 */
const BUDGET_GZIP_BYTES = 84_850;

/** The files the page loads (source maps are only fetched by developer tools). */
function shippedFiles(): string[] {
  assert.ok(existsSync(path.join(DIST, 'index.html')), 'web/dist is missing: run `npm run build:web` first');
  const assets = readdirSync(path.join(DIST, 'assets')).filter((name) => !name.endsWith('.map'));
  return ['index.html', ...assets.map((name) => path.join('assets', name))];
}

/**
 * Syntax the targets lack, found by esbuild itself: lowering the code again for the targets
 * changes it only if it holds such syntax (code already lowered comes out as from `esnext`).
 */
async function syntaxTheTargetsLack(code: string): Promise<boolean> {
  const asIs = await transform(code, { loader: 'js', target: 'esnext', legalComments: 'none' });
  const lowered = await transform(code, { loader: 'js', target: BROWSER_TARGETS, legalComments: 'none' });
  return asIs.code !== lowered.code;
}

describe('web client bundle', () => {
  it('holds no syntax the supported browsers lack', async () => {
    // The check can fail: a class static block (Safari 16.4) is lowered for Safari 15.
    assert.equal(await syntaxTheTargetsLack('class A { static { A.x = 1; } }'), true);
    assert.equal(await syntaxTheTargetsLack('const a = b?.c ?? 1;'), false);
    const scripts = shippedFiles().filter((name) => name.endsWith('.js'));
    assert.ok(scripts.length >= 1, 'the build has a script');
    for (const name of scripts) {
      const code = readFileSync(path.join(DIST, name), 'utf8');
      assert.equal(await syntaxTheTargetsLack(code), false, `${name} needs syntax newer than ${BROWSER_TARGETS}`);
    }
  });

  it(`weighs less than ${BUDGET_GZIP_BYTES} bytes gzipped`, () => {
    const sizes = shippedFiles().map((name) => ({ name, gzip: gzipSync(readFileSync(path.join(DIST, name))).length }));
    const total = sizes.reduce((sum, file) => sum + file.gzip, 0);
    console.log(
      `      web client, gzip: ${sizes.map((file) => `${file.name} ${file.gzip} B`).join(', ')}; total ${total} B (budget ${BUDGET_GZIP_BYTES} B)`,
    );
    assert.ok(total <= BUDGET_GZIP_BYTES, `the client weighs ${total} bytes gzipped, over its budget`);
  });
});
