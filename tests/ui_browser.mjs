// Drives the chat page in headless Chromium for tests/test_ui.py and prints one JSON object on stdout.
//
//   node tests/ui_browser.mjs '{"url": "http://127.0.0.1:7860/", "question": "...", "screenshot": "/tmp/x.png"}'
//
// Uses the system browser (/usr/bin/chromium, or CHROMIUM_PATH) through the playwright-core package
// installed in tests/browser/ (`npm ci --prefix tests/browser`); it never downloads a browser.
// Steps: open the page, type the question, wait for the streamed answer to finish, click the last
// citation link, and report what the page shows. The test decides what is right.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const timeout = config.timeout_ms ?? 60000;
const result = { dialogs: [], external_requests: [], console_errors: [], page_errors: [] };
const origin = new URL(config.url).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(timeout);
  page.on('dialog', async (dialog) => { result.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      result.external_requests.push(url);
    }
  });
  page.on('console', (message) => { if (message.type() === 'error') result.console_errors.push(message.text()); });
  page.on('pageerror', (error) => result.page_errors.push(String(error)));

  await page.goto(config.url, { waitUntil: 'load' });
  const box = page.locator('#rag-question textarea');
  await box.waitFor({ state: 'visible' });
  result.title = await page.title();
  result.header = await page.locator('#rag-header').innerText();

  await box.fill(config.question);
  await box.press('Enter');
  const bot = page.locator('#rag-chat [data-testid="bot"]').last();
  // The streamed bubble shows [n] as plain spans; the final one has links, a notice, or an error.
  await page.waitForFunction(() => {
    const bubbles = document.querySelectorAll('#rag-chat [data-testid="bot"]');
    const last = bubbles[bubbles.length - 1];
    return last && !last.querySelector('.rag-streaming') && last.querySelector('.rag-answer');
  });
  await page.waitForTimeout(300);  // let the sources panel and the copy box render the same update
  result.answer_text = await bot.innerText();
  result.answer_html = await bot.innerHTML();
  result.abstained = (await bot.locator('.rag-abstain').count()) > 0;
  result.sources_text = await page.locator('#rag-sources').innerText();
  result.cards = await page.locator('#rag-sources .src-card').count();
  result.citation_links = await bot.locator('a.rag-cite').count();

  if (result.citation_links > 0) {
    const cite = bot.locator('a.rag-cite').last();  // the last card is the one furthest down the panel
    result.clicked_href = await cite.getAttribute('href');
    result.clicked_title = await cite.getAttribute('title');
    await cite.click();
    await page.waitForTimeout(700);  // the jump and the highlight transition
    result.location_hash = await page.evaluate(() => location.hash);
    result.target = await page.evaluate(() => {
      const target = location.hash && document.getElementById(location.hash.slice(1));
      if (!target) return null;
      const card = target.closest('.src-card');
      const rect = card.getBoundingClientRect();
      const panel = document.querySelector('#rag-sources').getBoundingClientRect();
      const style = getComputedStyle(card);
      return {
        id: target.id,
        card_title: card.querySelector('.src-title, .src-head')?.textContent ?? '',
        card_has_mark: card.querySelector('mark') !== null,
        in_viewport: rect.top < innerHeight && rect.bottom > 0 && rect.top >= panel.top - 2 && rect.top < panel.bottom,
        targeted: card.classList.contains('src-targeted') || card.matches(':target, :has(:target)'),
        highlighted: style.boxShadow !== 'none',
      };
    });
  }

  result.dom = await page.evaluate(() => ({
    img_src_x: [...document.querySelectorAll('img')].filter((img) => img.getAttribute('src') === 'x').length,
    scripts_in_content: document.querySelectorAll('#rag-chat script, #rag-sources script').length,
    onerror_attrs: document.querySelectorAll('#rag-chat [onerror], #rag-sources [onerror]').length,
    javascript_links: [...document.querySelectorAll('#rag-chat a, #rag-sources a')]
      .filter((a) => (a.getAttribute('href') || '').trim().toLowerCase().startsWith('javascript')).length,
    body_text: document.body.innerText,
  }));
  // The copy box sits in a closed accordion: open it so the screenshot shows the whole page.
  await page.locator('#rag-copy-box button').first().click().catch(() => {});
  await page.waitForTimeout(300);
  result.copy_text = await page.locator('#rag-copy textarea').inputValue().catch(() => null);
  if (result.citation_links > 0) {  // back to the cited card for the picture
    await page.locator('#rag-chat [data-testid="bot"]').last().locator('a.rag-cite').last().click();
    await page.waitForTimeout(500);
  }
  if (config.screenshot) {
    await page.screenshot({ path: config.screenshot, fullPage: Boolean(config.full_page) });
    result.screenshot = config.screenshot;
  }
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
