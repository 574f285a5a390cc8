// `node bench/web-pages.mjs` (after `npm run build`): the web dashboard's budget, issue 15 —
// with 50 nodes, 100 queues and 100 000 dead jobs (plus 10 000 retries, 1 000 scheduled, 10
// processes with 5 running jobs each and 1 000 recovery events, fabricated with pipelines) each
// page renders in under 300 ms. Prints each page's median and worst of 7 renders, then the live
// poll's Redis cost with 1 and with 20 open SSE streams over 10 s at the default 2 s interval
// (INFO commandstats). A private redis-server, stopped by its PID.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { createWebHandler } from '../dist/index.js';
import { startRedis } from './lib/redis-server.mjs';

const NODES = 50;
const QUEUES = 100;
const DEAD = 100_000;
const RUNS = 7;

const redis = await startRedis();
const r = redis.admin;
const job = (jid, q, extra = '') =>
  `{"class":"Bench.Job","args":[${jid.length},"payload-${jid}",{"user":42}],"queue":"${q}","jid":"${jid}","retry":true,"created_at":1795389061.3,"enqueued_at":1795389061.4${extra}}`;
const failed = (jid) =>
  job(jid, 'default', ',"error_class":"RuntimeError","error_message":"boom","failed_at":1795389061.8,"retry_count":25,"error_backtrace":["a.rb:1","b.rb:2"]');

async function fabricate() {
  const t0 = performance.now();
  let p = r.pipeline();
  for (let q = 0; q < QUEUES; q++) {
    const name = `queue-${q}`;
    p.sadd('queues', name);
    p.lpush(`queue:${name}`, ...Array.from({ length: 100 }, (_, i) => job(`q${q}-${i}`, name)));
  }
  const now = Math.floor(Date.now() / 1000);
  for (let n = 0; n < NODES; n++) {
    const id = `node-${n}`;
    const identity = `host-${n % 10}:${1000 + (n % 10)}`;
    p.sadd('verk_nodes', id).set(`verk:node:${id}`, 'alive', 'PX', 600_000);
    p.hset(`verk:node:${id}:info`, {
      host: `host-${n % 10}`,
      pid: 2000 + n,
      identity,
      ttl_ms: 600_000,
      beat: Date.now(),
      started_at: now,
      version: '0.1.0',
      busy: 5,
      state: 'running',
      rss: 50_000,
    });
    for (const q of [`queue-${n % QUEUES}`, `queue-${(n + 1) % QUEUES}`]) {
      p.sadd(`verk:node:${id}:queues`, q).rpush(`inprogress:${q}:${id}`, ...Array.from({ length: 5 }, (_, i) => job(`ip${n}-${q}-${i}`, q)));
    }
  }
  for (let s = 0; s < 10; s++) {
    const identity = `host-${s}:${1000 + s}`;
    p.sadd('processes', identity);
    p.hset(identity, {
      info: JSON.stringify({ hostname: `host-${s}`, pid: 1000 + s, started_at: now, concurrency: 50, queues: ['queue-0'], labels: ['verk'] }),
      busy: 5,
      beat: now,
      quiet: 'false',
    });
    p.expire(identity, 600);
    for (let w = 0; w < 5; w++)
      p.hset(`${identity}:workers`, `w${s}-${w}`, JSON.stringify({ queue: 'queue-0', payload: job(`w${s}-${w}`, 'queue-0'), run_at: now - w * 10 }));
  }
  for (let e = 0; e < 1000; e++) {
    p.rpush(
      'verk:recoveries',
      JSON.stringify({
        at: now - e * 60,
        by: 'host-0-supervisor-1',
        node: `gone-${e}`,
        moved: 3,
        dead: 0,
        queues: { 'queue-0': 3 },
        jids: [`r${e}a`, `r${e}b`, `r${e}c`],
        dead_jids: {},
      }),
    );
  }
  for (let d = 0; d < 30; d++) {
    const day = new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
    p.set(`stat:processed:${day}`, 10_000 + d * 17).set(`stat:failed:${day}`, 100 + d);
  }
  await p.exec();
  for (let i = 0; i < DEAD; i += 5000) {
    p = r.pipeline();
    const args = [];
    for (let j = i; j < i + 5000; j++) args.push(1795389061 + j, failed(`dead-${j}`));
    p.zadd('dead', ...args);
    await p.exec();
  }
  const retry = [];
  for (let j = 0; j < 10_000; j++) retry.push(1895389061 + j, failed(`retry-${j}`));
  await r.zadd('retry', ...retry);
  const sched = [];
  for (let j = 0; j < 1000; j++) sched.push(1895389061 + j, job(`sched-${j}`, 'default'));
  await r.zadd('schedule', ...sched);
  return performance.now() - t0;
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get({ port, path, headers: { Accept: 'text/html' } }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, bytes: n }));
      })
      .on('error', reject);
  });
}

async function calls() {
  const info = await r.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

try {
  const fabMs = await fabricate();
  console.log(
    `fabricated ${NODES} nodes, ${QUEUES} queues (10 000 jobs), ${DEAD} dead, 10 000 retries, 1 000 scheduled in ${Math.round(fabMs)} ms; keys: ${await r.dbsize()}`,
  );
  const handler = createWebHandler({ redisUrl: redis.url });
  const server = http.createServer(handler);
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  const pages = [
    '/',
    '/nodes',
    '/processes',
    '/queues',
    '/queues/queue-7',
    '/queues/queue-7?offset=50',
    '/retries',
    '/scheduled',
    '/dead',
    '/dead?offset=50000',
    '/dead?q=dead-99999',
    '/dead?q=no-such-thing',
    `/jobs/dead/${1795389061 + 5}/dead-5`,
    '/job/dead-5',
    '/recoveries',
    '/stuck',
    '/audit',
  ];
  console.log('\n| page | median ms | worst ms | KB |\n| --- | ---: | ---: | ---: |');
  for (const path of pages) {
    await get(port, path); // warm-up
    const times = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      last = await get(port, path);
      if (last.status !== 200) throw new Error(`${path}: HTTP ${last.status}`);
      times.push(last.ms);
    }
    times.sort((a, b) => a - b);
    console.log(`| \`${path}\` | ${times[RUNS >> 1].toFixed(1)} | ${times[RUNS - 1].toFixed(1)} | ${(last.bytes / 1024).toFixed(0)} |`);
  }
  // The live poll: commands per second with 1 and with 20 open streams, 10 s each.
  console.log('\n| open SSE streams | Redis commands/s (10 s) |\n| ---: | ---: |');
  for (const n of [1, 20]) {
    const reqs = Array.from({ length: n }, () => http.get({ port, path: '/live' }, (res) => res.resume()));
    await new Promise((res) => setTimeout(res, 1000));
    const before = await calls();
    await new Promise((res) => setTimeout(res, 10_000));
    const after = await calls();
    for (const q of reqs) q.destroy();
    console.log(`| ${n} | ${((after - before - 1) / 10).toFixed(1)} |`);
    await new Promise((res) => setTimeout(res, 500));
  }
  await handler.close();
  server.closeAllConnections();
  server.close();
} finally {
  await redis.stop();
}
