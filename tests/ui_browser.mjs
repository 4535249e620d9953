// Drives the app in headless Chromium for tests/test_ui.py and prints one JSON object on stdout.
//
//   node tests/ui_browser.mjs '{"url": "http://127.0.0.1:7860/", "scenario": "chat", "screens": "/tmp/screens"}'
//
// Without a scenario it plays "inert": one question, then a look for anything live in the page.
//
// Uses the system browser (/usr/bin/chromium, or CHROMIUM_PATH) through the playwright-core package
// installed in tests/browser/ (`npm ci --prefix tests/browser`); it never downloads a browser.
// Each scenario plays what a user does and reports what the page shows; the test decides what is right.
// Screenshots of the main states go to config.screens.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const config = JSON.parse(process.argv[2]);
const timeout = config.timeout_ms ?? 90000;
const result = { dialogs: [], external_requests: [], console_errors: [], page_errors: [], screenshots: [] };
const origin = new URL(config.url).origin;
const MOBILE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { viewport: { width: 1400, height: 1000 } };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function open(options) {
  const page = await browser.newPage(options);
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
  await page.locator('#rag-question textarea').waitFor({ state: 'visible' });
  return page;
}

async function shot(page, name, fullPage = false) {
  if (!config.screens) return;
  const file = path.join(config.screens, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  result.screenshots.push(file);
}

const field = (page, id) => page.locator(`#${id} textarea, #${id} input`);
const bots = (page) => page.locator('#rag-chat [data-testid="bot"]');

// Waits until the number-th answer (1-based) is finished: a streamed bubble has no links yet.
async function waitForAnswer(page, number) {
  await page.waitForFunction((n) => {
    const bubbles = document.querySelectorAll('#rag-chat [data-testid="bot"]');
    const last = bubbles[n - 1];
    return bubbles.length === n && last && !last.querySelector('.rag-streaming') && last.querySelector('.rag-answer');
  }, number);
  await page.waitForTimeout(300);  // the rest of the same update (chips, copy box)
  return bots(page).nth(number - 1);
}

async function ask(page, question) {
  const count = await bots(page).count();
  await page.locator('#rag-question textarea').fill(question);
  await page.locator('#rag-question textarea').press('Enter');
  return waitForAnswer(page, count + 1);
}

// What the preview card shows, and where.
const preview = (page) => page.evaluate(() => {
  const card = document.getElementById('rag-preview');
  if (!card || card.hidden) return null;
  const rect = card.getBoundingClientRect();
  return {
    title: card.querySelector('.rag-preview-title').textContent,
    quote: card.querySelector('.rag-preview-quote').textContent,
    in_viewport: rect.top >= 0 && rect.bottom <= innerHeight && rect.left >= 0 && rect.right <= innerWidth,
  };
});

// The quote a [n] link points to, and the title of the source it belongs to.
const citedSource = (link) => link.evaluate((a) => {
  const quote = document.getElementById(a.getAttribute('href').slice(1));
  const item = quote && quote.closest('.src-item');
  const text = quote ? quote.cloneNode(true) : null;
  text?.querySelector('.src-num')?.remove();
  return quote && {
    title: item.querySelector('.src-title').textContent,
    quote: text.textContent.trim(),
    same_answer: a.closest('[data-testid="bot"]') === quote.closest('[data-testid="bot"]'),
  };
});

// Scroll boxes inside the page (content taller than the box and scrollable) among the given elements.
const scrollBoxes = (page, selector) => page.evaluate((sel) => [...document.querySelectorAll(sel)].filter((el) => {
  const style = getComputedStyle(el);
  return ['auto', 'scroll'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 2;
}).map((el) => `${el.tagName}.${el.className}`), selector);

async function chat() {
  const page = await open(DESKTOP);
  result.title = await page.title();
  result.header = await page.locator('#rag-header').innerText();
  result.empty_chat_height = (await page.locator('#rag-chat').boundingBox()).height;
  result.question_max_length = await page.locator('#rag-question textarea').evaluate((box) => box.maxLength);
  result.trash_buttons = await page.locator('#rag-chat button[aria-label="Clear"]:visible').count();
  result.chat_label = await page.locator('#rag-chat [data-testid="block-label"]:visible').count();
  result.examples = await page.locator('.rag-example').evaluateAll((buttons) => buttons.map((b) => ({
    text: b.innerText, cut: b.scrollWidth > b.clientWidth + 1 || getComputedStyle(b).textOverflow === 'ellipsis' })));
  await shot(page, 'start');
  const first = await ask(page, config.question);
  result.first_text = await first.innerText();
  result.first_sources = await first.locator('.src-item').count();
  const firstLink = first.locator('a.rag-cite').first();
  result.first_citation = await citedSource(firstLink);
  await firstLink.hover();
  await page.waitForTimeout(300);
  result.hover_preview = await preview(page);
  await shot(page, 'preview');
  await page.locator('#rag-preview button[data-action="abstract"]').click();
  await page.waitForTimeout(800);
  result.abstract = await first.locator('.src-item').first().locator('details.src-abstract').evaluate((details) => {
    const mark = details.querySelector('mark');
    const rect = mark.getBoundingClientRect();
    return { open: details.open, mark: mark.textContent, mark_in_viewport: rect.top >= 0 && rect.bottom <= innerHeight };
  });
  result.entry_links = await first.locator('.src-item').first().locator('.src-links a').evaluateAll(
    (links) => links.map((a) => ({ text: a.textContent, href: a.getAttribute('href'), target: a.target })));
  await shot(page, 'abstract');
  // A second answer: the first one's [1] still shows the first answer's own source.
  const second = await ask(page, config.second_question);
  result.second_citation = await citedSource(second.locator('a.rag-cite').first());
  const again = bots(page).first().locator('a.rag-cite').first();
  await again.scrollIntoViewIfNeeded();
  await again.click();
  await page.waitForTimeout(400);
  result.earlier_preview = await preview(page);
  result.earlier_location = await page.evaluate(() => location.href);
  await shot(page, 'earlier-citation');
  await page.locator('#rag-copy-box button').first().click();  // the copy box opens on demand
  result.copy_text = await page.locator('#rag-copy textarea').inputValue();
  return page;
}

async function filters() {
  const page = await open(DESKTOP);
  await page.locator('#rag-filters button').first().click();
  await field(page, 'rag-date-from').fill(config.date_from);
  await field(page, 'rag-min-upvotes').fill(config.min_upvotes);
  await field(page, 'rag-min-upvotes').press('Enter');
  await page.locator('#rag-chip-min_upvotes').waitFor({ state: 'visible' });
  result.chips = await page.locator('.rag-chip-btn:visible').allInnerTexts();
  await page.locator('#rag-filters button').first().click();  // closed again: the chips still show them
  const blocked = await ask(page, config.question);
  result.blocked_text = await blocked.innerText();
  result.blocked_citations = await blocked.locator('a.rag-cite').count();
  result.retry_visible = await page.locator('#rag-retry').isVisible();
  await shot(page, 'filters-exclude-everything');
  await page.locator('#rag-chip-min_upvotes').click();
  await page.locator('#rag-chip-min_upvotes').waitFor({ state: 'hidden' });
  result.chips_after_removal = await page.locator('.rag-chip-btn:visible').allInnerTexts();
  const freed = await ask(page, config.question);
  result.freed_text = await freed.innerText();
  result.freed_citations = await freed.locator('a.rag-cite').count();
  const fromQuestion = await ask(page, config.filtered_question);
  result.question_chips = await fromQuestion.locator('.rag-chip-question').allInnerTexts();
  // Blocked again, then the offer: "Clear the filters and ask again".
  await page.locator('#rag-filters button').first().click();
  await field(page, 'rag-min-upvotes').fill(config.min_upvotes);
  await field(page, 'rag-min-upvotes').press('Enter');
  await page.locator('#rag-chip-min_upvotes').waitFor({ state: 'visible' });
  await ask(page, config.question);
  const count = await bots(page).count();
  await page.locator('#rag-retry').click();
  const retried = await waitForAnswer(page, count + 1);
  result.retried_citations = await retried.locator('a.rag-cite').count();
  result.chips_after_retry = await page.locator('.rag-chip-btn:visible').allInnerTexts();
  result.retry_after_retry = await page.locator('#rag-retry').isVisible();
  await fromQuestion.scrollIntoViewIfNeeded();
  await shot(page, 'filters-chips');
  return page;
}

async function papers() {
  const page = await open(DESKTOP);
  await page.locator('#rag-papers-tab-button').click();
  const cells = page.locator('#rag-papers [role="gridcell"]');
  await cells.first().waitFor({ state: 'visible' });
  result.summary_all = await page.locator('#rag-papers-summary').innerText();
  result.headers = await page.locator('#rag-papers [role="columnheader"]').allInnerTexts();
  for (const plot of ['#rag-per-month', '#rag-upvotes']) {  // the plots draw after the table
    await page.locator(`${plot} canvas, ${plot} svg`).first().waitFor({ state: 'visible' });
  }
  result.plots = await page.locator('#rag-per-month canvas, #rag-per-month svg, #rag-upvotes canvas, #rag-upvotes svg').count();
  await shot(page, 'papers');
  await field(page, 'rag-search').fill(config.search);
  await field(page, 'rag-search').press('Enter');
  await page.waitForFunction((all) => document.querySelector('#rag-papers-summary').innerText !== all, result.summary_all);
  await page.waitForTimeout(500);
  result.summary_search = await page.locator('#rag-papers-summary').innerText();
  result.search_titles = await page.locator('#rag-papers [role="gridcell"][data-col="0"]').allInnerTexts();
  await page.locator('#rag-papers [role="gridcell"][data-col="0"]').first().click();
  await page.locator('#rag-paper .rag-paper').waitFor({ state: 'visible' });
  result.picked_title = await page.locator('#rag-paper .src-title').innerText();
  result.picked_abstract = await page.locator('#rag-paper details.src-abstract p').innerText();
  await shot(page, 'papers-picked');
  await page.locator('#rag-ask-about').click();
  const answer = await waitForAnswer(page, 1);
  result.chat_selected = await page.locator('#rag-chat-tab-button').getAttribute('aria-selected');
  result.about_question = await page.locator('#rag-chat [data-testid="user"]').first().innerText();
  result.about_sources = await answer.locator('.src-title').allInnerTexts();
  return page;
}

async function mobile() {
  const page = await open(MOBILE);
  const answer = await ask(page, config.question);
  result.layout = await answer.evaluate((bubble) => {
    const text = bubble.querySelector('.rag-answer > ul, .rag-answer > p');
    const evidence = bubble.querySelector('.rag-evidence');
    return { gap: evidence.getBoundingClientRect().top - text.getBoundingClientRect().bottom,
             page_width: document.documentElement.scrollWidth };
  });
  result.scroll_boxes = await scrollBoxes(page, '#rag-chat, #rag-chat *');
  await shot(page, 'mobile-answer');
  const link = answer.locator('a.rag-cite').first();
  result.first_citation = await citedSource(link);
  await link.scrollIntoViewIfNeeded();
  await link.tap();
  await page.waitForTimeout(400);
  result.tap_preview = await preview(page);
  await shot(page, 'mobile-citation');
  return page;
}

// Records every state of the answer bubble while it streams.
async function stream() {
  const page = await open(DESKTOP);
  await page.evaluate(() => {
    window.streamed = [];
    new MutationObserver(() => {
      const bubble = document.querySelector('#rag-chat [data-testid="bot"] .rag-streaming');
      const text = bubble && bubble.innerText;
      if (text && window.streamed[window.streamed.length - 1] !== text) window.streamed.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const finished = ask(page, config.question);
  await page.waitForFunction(() => window.streamed.length > 3);
  await shot(page, 'streaming');
  const answer = await finished;
  result.streamed = await page.evaluate(() => window.streamed);
  result.final_text = await answer.innerText();
  result.final_citations = await answer.locator('a.rag-cite').count();
  return page;
}

// The hostile-record check: asks one question, then looks for anything live in the page.
async function inert() {
  const page = await open(DESKTOP);
  const answer = await ask(page, config.question);
  result.citation_links = await answer.locator('a.rag-cite').count();
  if (result.citation_links) result.first_citation = await citedSource(answer.locator('a.rag-cite').first());
  if (await answer.locator('details.src-abstract').count()) {  // the abstract, opened, is in the page too
    await answer.locator('details.src-abstract summary').first().click();
  }
  result.dom = await page.evaluate(() => ({
    img_src_x: [...document.querySelectorAll('img')].filter((img) => img.getAttribute('src') === 'x').length,
    scripts_in_content: document.querySelectorAll('#rag-chat script').length,
    onerror_attrs: document.querySelectorAll('#rag-chat [onerror]').length,
    javascript_links: [...document.querySelectorAll('#rag-chat a')]
      .filter((a) => (a.getAttribute('href') || '').trim().toLowerCase().startsWith('javascript')).length,
    body_text: document.body.innerText,
  }));
  await shot(page, 'hostile-record');
  return page;
}

const scenarios = { chat, filters, papers, mobile, stream, inert };
try {
  await scenarios[config.scenario ?? 'inert']();
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
