// Sidekiq Web's pages in the dashboard screenshot script: each page checked for verk's data and
// saved (shrunk with pngquant when installed), the History drawn from the data Sidekiq Web puts in
// the page, and its buttons clicked with their effect checked in Redis and with `verk processes`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, day, log, tmp, verk, waitFor } from './processes.mjs';

/** Draws #history's data (put there by Sidekiq Web) as bars, since Debian's package has no chart JS. */
export function drawHistory() {
  const el = document.querySelector('#history');
  const processed = JSON.parse(el.dataset.processed);
  const failed = JSON.parse(el.dataset.failed);
  const dates = Object.keys(processed).sort().slice(-10);
  const max = Math.max(1, ...dates.map((d) => processed[d]));
  const bar = (d) => {
    const p = processed[d];
    const f = failed[d] ?? 0;
    const h = (n) => Math.round((n / max) * 160);
    return `<div style="display:inline-block;width:88px;margin:0 6px;text-align:center;vertical-align:bottom;font:12px sans-serif">
      <div style="height:170px;display:flex;align-items:flex-end;justify-content:center;gap:4px">
        <div title="processed" style="width:30px;height:${h(p)}px;background:#b1003e"></div>
        <div title="failed" style="width:30px;height:${h(f)}px;background:#555"></div></div>
      <div><b>${p}</b> / ${f}</div><div style="color:#666">${d.slice(5)}</div></div>`;
  };
  el.innerHTML = `<div style="padding:8px 0">${dates.map(bar).join('')}</div>
    <p style="font:12px sans-serif;color:#666">processed (red) / failed (grey) per UTC day: Sidekiq Web's own #history data
    (Sidekiq::Stats::History over stat:processed:&lt;day&gt;, stat:failed:&lt;day&gt;), drawn by scripts/dashboard-screenshots.mjs
    because Debian's ruby-sidekiq ships without the chart JavaScript.</p>`;
  return { processed, failed };
}

/** Shrinks a screenshot with pngquant when it is installed (apt-get install pngquant); else keeps it. */
export function shrink(file) {
  try {
    execFileSync('pngquant', ['--quality', '60-90', '--speed', '1', '--force', '--output', file, file], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    /* not installed, or nothing gained: the PNG stays as taken */
  }
  log(`${path.relative(REPO, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
}

/** Opens `url`, checks that the page holds every text of `expectTexts`, saves <out>/dashboard-<name>.png. */
export async function shoot(page, { base, out }, name, url, expectTexts, opts = {}) {
  await page.goto(`${base}${url}`, { waitUntil: 'load' });
  // The fixed footer would cover a row of a full-page shot.
  await page.addStyleTag({ content: '.navbar-fixed-bottom { position: static !important; }' });
  const body = await page.content();
  const missing = expectTexts.filter((t) => !body.includes(t));
  if (missing.length) {
    const saved = path.join(tmp, `${name}.html`);
    fs.writeFileSync(saved, body);
    throw new Error(`${url}: expected ${missing.map((t) => JSON.stringify(t)).join(', ')} on the page (saved as ${saved})`);
  }
  if (opts.before) await opts.before(page);
  const file = path.join(out, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shrink(file);
}

/** Clicks Sidekiq Web's buttons and checks in Redis (and with `verk processes`) that verk did what they ask. */
export async function actions(page, base, redis, redisUrl, identity, verkWork) {
  const today = day(Date.now());
  const failedToday = async () => Number(await redis.get(`stat:failed:${today}`));
  const processedToday = async () => Number(await redis.get(`stat:processed:${today}`));
  const done = [];
  const submit = async (url, rowText, button) => {
    await page.goto(`${base}${url}`);
    await page.locator('tr', { hasText: rowText }).locator('input[type=checkbox]').check();
    await page.locator(`input[name=${button}]`).first().click();
    await page.waitForLoadState('load');
  };

  const p0 = await processedToday();
  await submit('/scheduled', 'digest', 'add_to_queue');
  await waitFor('Add to Queue: the scheduled job runs', async () => (await redis.zcard('schedule')) === 2 && (await processedToday()) === p0 + 1);
  done.push('Scheduled › Add to Queue: Newsletter.Send ran at once');

  const f0 = await failedToday();
  await submit('/retries', 'invoice 1042', 'retry');
  // Sidekiq's Retry Now lowers retry_count by one before it pushes the job (a manual retry
  // spends no retry): after the new failure it is back at 0, now with retried_at.
  await waitFor('Retry Now: the retry runs again and is back in Retries', async () => {
    const entries = (await redis.zrange('retry', 0, -1)).map((e) => JSON.parse(e));
    return entries.length === 4 && entries.some((e) => e.args[0].invoice === 1042 && e.retry_count === 0 && e.retried_at) && (await failedToday()) === f0 + 1;
  });
  done.push('Retries › Retry Now: Billing.Charge ran again, failed, back in Retries (retried_at set; Sidekiq lowers retry_count before a manual retry)');

  await submit('/morgue', 'row 17 has', 'retry');
  await waitFor('dead Retry Now: the job runs again and is buried again', async () => (await failedToday()) === f0 + 2 && (await redis.zcard('dead')) === 3);
  done.push('Dead › Retry Now: Import.Csv ran again, failed, back in Dead');

  await page.goto(`${base}/queues`);
  await page.locator('tr', { hasText: 'low' }).locator('input[name=delete]').click();
  await page.waitForLoadState('load');
  await waitFor('queue low deleted', async () => (await redis.exists('queue:low')) === 0);
  done.push('Queues › Delete: queue:low removed');

  await page.goto(`${base}/busy`);
  await page.locator('button[name=quiet]').first().click();
  await waitFor('Quiet: verk processes says quiet', async () => JSON.parse(verk(['processes', '--json'], redisUrl)).processes[0]?.state === 'quiet');
  done.push('Busy › Quiet: `verk processes` shows the supervisor quiet (running jobs go on)');

  await page.goto(`${base}/busy`);
  await page.locator('button[name=stop]').first().click();
  await waitFor('Stop: verk work exits', async () => verkWork.exitCode !== null || verkWork.signalCode !== null);
  await waitFor('Stop: the process leaves the processes set', async () => (await redis.sismember('processes', identity)) === 0);
  done.push('Busy › Stop: `verk work` handed its running jobs back, left `processes` and exited');
  for (const d of done) log(`action ok: ${d}`);
}
