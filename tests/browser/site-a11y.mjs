// axe-core on every page of the transparency site, in Chromium (WCAG 2.2 AA rules).
// Usage: node site-a11y.mjs BASE_URL   (reads BASE_URL/sitemap.xml for the pages)
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.argv[2];
if (!base) {
  console.error('usage: node site-a11y.mjs BASE_URL');
  process.exit(2);
}
const sitemap = await (await fetch(`${base}/sitemap.xml`)).text();
const pages = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
if (pages.length === 0) {
  console.error('no pages in the sitemap');
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failures = 0;
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  for (const path of ['/', ...pages]) {
    const url = path.startsWith('http') ? path : `${base}${path}`;
    const response = await page.goto(url, { waitUntil: 'load' });
    if (!response || response.status() !== 200) {
      console.error(`FAIL ${path}: HTTP ${response && response.status()}`);
      failures++;
      continue;
    }
    // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on.
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () =>
      await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (bad.length > 0) {
      failures++;
      for (const v of bad) {
        console.error(`FAIL ${path}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes, e.g. ${v.nodes[0].target.join(' ')})`);
      }
    } else {
      console.log(`ok   ${path} (${result.passes.length} rules passed, ${result.violations.length} minor findings)`);
    }
  }
} finally {
  await browser.close();
}
console.log(`${pages.length + 1} pages checked with axe-core in Chromium; ${failures} with serious or critical violations.`);
process.exit(failures === 0 ? 0 : 1);
