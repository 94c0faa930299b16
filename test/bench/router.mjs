// The router's overhead: the same calls straight to a partition and through
// the router, taking turns call by call, on the same company and rows.
// Then health() of the fleet over 1, 2 and 4 partitions, and a write load
// through routers of 1 and of 4 partitions (what scales, what does not).
// Figures only, no pass/fail.  Run by test/bench/router.
//   ROUTER_URL, PARTITION_URLS (space-separated, p0 first), WHATSAPP_AUTH_SESSION;
//   BENCH_OVERHEAD_ONLY=1 stops after the first table
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(new URL('../e2e/package.json', import.meta.url))
const pg = require('pg')
const session = JSON.parse(readFileSync(process.env.WHATSAPP_AUTH_SESSION, 'utf8'))
const routerUrl = process.env.ROUTER_URL
const partitionUrls = process.env.PARTITION_URLS.trim().split(' ')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

const connect = async (url) => { const c = new pg.Client({ connectionString: url }); await c.connect(); return c }
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const fmt = (x) => x.toFixed(x < 10 ? 3 : 1)
const range = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`
const ratioRange = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`

const router = await connect(routerUrl)
const direct = await connect(partitionUrls[0])
const q = (db, name, text, values) => db.query({ name, text, values })

// One company on p0, the sample session in it (through the router, so the
// directory names p0).
const company = 'bench_overhead'
await router.query('UPDATE whatsapp_auth.partitions SET accepts_new_companies = (partition = 0)')
await router.query('SELECT whatsapp_auth.session_remove($1)', [company])
await router.query('SELECT whatsapp_auth.creds_set($1, $2)', [company, JSON.stringify(session.creds)])
await router.query('SELECT whatsapp_auth.keys_set($1, $2)', [company, JSON.stringify(session.keys)])
const [{ partition }] = (await router.query('SELECT whatsapp_auth.company_partition($1) AS partition', [company])).rows
if (partition !== 0) throw new Error(`bench company on partition ${partition}`)

const preKeyId = Object.keys(session.keys['pre-key'])[0]
const singles = session.writes.filter((w) => Object.values(w).reduce((n, ids) => n + Object.keys(ids).length, 0) === 1)
const bulk = session.writes.find((w) => Object.keys(w['pre-key'] ?? {}).length === 812)

// The bound for any PL/Proxy router: the bare hop, a PL/Proxy function that
// forwards the same call to partition 0 (no routing function, no pin).
await router.query(`CREATE SCHEMA bench;
  CREATE FUNCTION bench.keys_get(company_id text, key_type text, ids text[]) RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'whatsapp_auth'; RUN ON 0; SELECT whatsapp_auth.keys_get(company_id, key_type, ids); $$;
  CREATE FUNCTION bench.keys_set(company_id text, data jsonb, lease_token bigint DEFAULT NULL, OUT upserted integer, OUT deleted integer)
    RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'whatsapp_auth'; RUN ON 0; SELECT * FROM whatsapp_auth.keys_set(company_id, data, lease_token); $$;`)
// The bound for a router that routes by a function of the company, as a
// directory needs (RUN ON f(company_id)): the same hop, its RUN ON a
// function that reads nothing and answers 0.  PL/Proxy runs that function
// through a query of its own on every call.
await router.query(`CREATE SCHEMA bench_fn;
  CREATE FUNCTION bench_fn.route(company_id text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT 0';
  CREATE FUNCTION bench_fn.keys_get(company_id text, key_type text, ids text[]) RETURNS jsonb LANGUAGE plproxy AS $$
    CLUSTER 'whatsapp_auth'; RUN ON bench_fn.route(company_id); SELECT whatsapp_auth.keys_get(company_id, key_type, ids); $$;
  CREATE FUNCTION bench_fn.keys_set(company_id text, data jsonb, lease_token bigint DEFAULT NULL, OUT upserted integer, OUT deleted integer)
    RETURNS record LANGUAGE plproxy AS $$
    CLUSTER 'whatsapp_auth'; RUN ON bench_fn.route(company_id); SELECT * FROM whatsapp_auth.keys_set(company_id, data, lease_token); $$;`)
const get1 = (schema) => (db, i) => q(db, `g1${schema}`, `SELECT ${schema}.keys_get($1, $2, $3)::text`, [company, 'pre-key', [preKeyId]])
const set1 = (schema) => (db, i) => q(db, `s1${schema}`, `SELECT ${schema}.keys_set($1, $2)`, [company, JSON.stringify(singles[i % singles.length])])
const set812 = (schema) => (db, i) => q(db, `s812${schema}`, `SELECT ${schema}.keys_set($1, $2)`, [company, JSON.stringify(bulk)])
const calls = {
  'keys_get of 1 id': { n: 400, run: get1 },
  'single-key keys_set': { n: 200, run: set1 },
  '812-key keys_set': { n: 8, run: set812 },
}

console.log(`\nrouter vs direct, same company and rows on p0, calls taking turns; medians of each round (${ROUNDS} rounds)`)
console.log('bare hop: a PL/Proxy function forwarding the same call with RUN ON 0 (no routing, no pin), the bound of any PL/Proxy router')
console.log('routed hop: the same with RUN ON a function that reads nothing (answers 0), the bound of any PL/Proxy router routing by a function of the company')
console.log('| call | direct (ms) | bare hop (ms) | routed hop (ms) | router (ms) | bare hop / direct | routed hop / direct | router / direct | rounds: router / direct |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const [label, { n, run }] of Object.entries(calls)) {
  const ways = [[direct, run('whatsapp_auth')], [router, run('bench')], [router, run('bench_fn')], [router, run('whatsapp_auth')]]
  for (let i = 0; i < 5; i++) for (const [db, call] of ways) await call(db, i)   // prepared, connections warm
  const perRound = ways.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    const out = ways.map(() => [])
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < ways.length; k++) {   // each way first in turn
        const w = (i + round + k) % ways.length
        const t = process.hrtime.bigint(); await ways[w][1](ways[w][0], i); out[w].push(ms(t))
      }
    }
    out.forEach((xs, w) => perRound[w].push(median(xs)))
  }
  const [d, b, f, r] = perRound
  const over = (xs) => xs.map((x, i) => x / d[i])
  const bare = over(b), routed = over(f), ratios = over(r)
  console.log(`| ${label} | ${fmt(median(d))} | ${fmt(median(b))} | ${fmt(median(f))} | ${fmt(median(r))} | ${median(bare).toFixed(2)}× (${ratioRange(bare)}×) | ${median(routed).toFixed(2)}× (${ratioRange(routed)}×) | ${median(ratios).toFixed(2)}× | ${ratioRange(ratios)}× |`)
}
await router.query('SELECT whatsapp_auth.session_remove($1)', [company])
await router.query('UPDATE whatsapp_auth.partitions SET accepts_new_companies = true')
if (process.env.BENCH_OVERHEAD_ONLY) { await router.end(); await direct.end(); process.exit(0) }   // the first table alone

// health() of the fleet: the router's server lists 1, 2, then 4 partitions.
const conninfo = (url) => { const [, db, host, port] = url.match(/^postgresql:\/\/postgres@\/([^?]+)\?host=([^&]+)&port=(\d+)$/); return `host=${host} port=${port} dbname=${db}` }
const setPartitions = async (n) => {
  const opts = partitionUrls.map((u, i) => i < n ? `ADD p${i} '${conninfo(u)}'` : null).filter(Boolean)
  const current = (await router.query(`SELECT o.option_name FROM pg_foreign_server s, pg_options_to_table(s.srvoptions) o
                                        WHERE s.srvname = 'whatsapp_auth' AND o.option_name ~ '^p[0-9]+$'`)).rows
  await router.query(`ALTER SERVER whatsapp_auth OPTIONS (${[...current.map((r) => `DROP ${r.option_name}`), ...opts].join(', ')})`)
}
const keysOn = async (url) => { const c = await connect(url); const n = (await c.query('SELECT count(*)::int AS n FROM whatsapp_auth.keys')).rows[0].n; await c.end(); return n }
console.log('\nhealth() of the fleet (store-wide on each partition, in parallel), medians of 15 calls')
console.log('| partitions | keys per partition | direct health() on p0 (ms) | router health() (ms) |')
console.log('|---|---|---|---|')
for (const n of [1, 2, 4]) {
  await setPartitions(n)
  const fresh = await connect(routerUrl)   // PL/Proxy reads the cluster again
  const dt = [], rt = []
  for (let i = 0; i < 16; i++) {
    let t = process.hrtime.bigint(); await direct.query('SELECT whatsapp_auth.health()'); if (i) dt.push(ms(t))
    t = process.hrtime.bigint(); const { rows } = await fresh.query('SELECT whatsapp_auth.health() AS h'); if (i) rt.push(ms(t))
    if (rows[0].h.partitions !== n) throw new Error(`health() saw ${rows[0].h.partitions} partitions`)
  }
  await fresh.end()
  const per = (await Promise.all(partitionUrls.slice(0, n).map(keysOn))).join(' / ')
  console.log(`| ${n} | ${per} | ${fmt(median(dt))} | ${fmt(median(rt))} |`)
}

// Write load: 8 clients, each a company replaying single-key writes, 10 s,
// through a router of 1 partition, then of 4.
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10)
const commitsOf = async (url) => { const c = await connect(url); const n = Number((await c.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0].xact_commit); await c.end(); return n }
console.log(`\nwrite load through the router: 8 clients, one company each, single-key keys_set for ${SECONDS} s`)
console.log('| partitions | calls/s through the router | each partition\'s commits/s |')
console.log('|---|---|---|')
for (const n of [1, 4]) {
  await setPartitions(n)
  const before = await Promise.all(partitionUrls.map(commitsOf))
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(routerUrl)))
  // companies spread by the rule: pick 8 names whose new partition covers 0..n-1 evenly
  const names = []
  for (let i = 0; names.length < 8; i++) {
    const name = `bench_load_${n}_${i}`
    const [{ p }] = (await router.query('SELECT whatsapp_auth.new_company_partition($1) AS p', [name])).rows
    if (names.filter((x) => x.p === p).length < 8 / n) names.push({ name, p })
  }
  let done = 0
  const until = Date.now() + SECONDS * 1000
  const t0 = process.hrtime.bigint()
  await Promise.all(clients.map(async (db, c) => {
    for (let i = 0; Date.now() < until; i++) {
      await q(db, 'load', 'SELECT whatsapp_auth.keys_set($1, $2)', [names[c].name, JSON.stringify(singles[i % singles.length])])
      done++
    }
  }))
  const secs = ms(t0) / 1000
  for (const db of clients) await db.end()
  await new Promise((resolve) => setTimeout(resolve, 1500))   // backends flush their statistics
  const after = await Promise.all(partitionUrls.map(commitsOf))
  const rates = after.slice(0, n).map((a, i) => ((a - before[i]) / secs).toFixed(0)).join(' / ')
  console.log(`| ${n} | ${(done / secs).toFixed(0)} | ${rates} |`)
  for (const { name } of names) await router.query('SELECT whatsapp_auth.session_remove($1)', [name])
}
await setPartitions(partitionUrls.length)
console.log(`\n(${execFileSync('nproc').toString().trim()} cores: the router, the partitions and this client share them)`)
await router.end()
await direct.end()
