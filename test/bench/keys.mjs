// Key-store benchmark: the extension against the client-side store it
// replaces and against the physical floor, in one run on one server.
// Every figure is printed with its ratio; nothing passes or fails.
// Run through test/bench/keys (it starts the cluster and sets PG*).
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(new URL('../e2e/package.json', import.meta.url))
const pg = require('pg')
const { from: copyFrom } = require('pg-copy-streams')
const { BufferJSON } = require('baileys6')

const session = JSON.parse(readFileSync(process.env.WHATSAPP_AUTH_SESSION, 'utf8'), BufferJSON.reviver)
const pool = new pg.Pool({ max: 4 })
const DAY = 86400000

// --- the three stores ---------------------------------------------------

// whatsapp_auth: one call per keys.set / keys.get, prepared statements, as
// the reference adapter
const reviveCanonical = (v) => {
  if (v === null || typeof v !== 'object') return v
  if (v.type === 'Buffer' && typeof v.data === 'string') return Buffer.from(v.data, 'base64')
  for (const k in v) v[k] = reviveCanonical(v[k])
  return v
}
const extension = {
  name: 'extension',
  table: 'whatsapp_auth.keys',
  // as the adapter: keys_set_text from 65,536 characters, keys_set below
  async set(db, company, data) {
    const text = JSON.stringify(data, BufferJSON.replacer)
    if (text.length >= 65536) await db.query({ name: 'wa_keys_set_text', text: 'SELECT whatsapp_auth.keys_set_text($1, $2)', values: [company, text] })
    else await db.query({ name: 'wa_keys_set', text: 'SELECT whatsapp_auth.keys_set($1, $2)', values: [company, text] })
  },
  // as the adapter: one id as a text parameter, more as an array
  async get(db, company, type, ids) {
    const { rows } = ids.length === 1
      ? await db.query({ name: 'wa_keys_get_json_one', text: 'SELECT whatsapp_auth.keys_get_json($1, $2, ARRAY[$3::text])::text AS v', values: [company, type, ids[0]] })
      : await db.query({ name: 'wa_keys_get_json', text: 'SELECT whatsapp_auth.keys_get_json($1, $2, $3)::text AS v', values: [company, type, ids] })
    return reviveCanonical(JSON.parse(rows[0].v))
  },
}
// the same store answering through keys_get's jsonb, as the adapter did
// before keys_get_json: only for the many-id reads below
const extensionJsonb = {
  ...extension,
  name: 'extension (keys_get jsonb)',
  async get(db, company, type, ids) {
    const { rows } = await db.query({ name: 'wa_keys_get', text: 'SELECT whatsapp_auth.keys_get($1, $2, $3)::text AS v', values: [company, type, ids] })
    return reviveCanonical(JSON.parse(rows[0].v))
  },
}

// The client-side store this replaces: TTL in JS, Node's JSON (byte
// arrays), 100-row multi-row upserts of 6 parameters, one DELETE per null,
// SELECT ... = ANY and a recursive reviver.
const legacyTtl = (type) => (['lid-mapping', 'pre-key', 'session', 'sender-key'].includes(type) ? 7 : 14) * DAY
const reviveBuffers = (v) => {
  if (Array.isArray(v)) return v.map(reviveBuffers)
  if (v && typeof v === 'object') {
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data)
    for (const k of Object.keys(v)) v[k] = reviveBuffers(v[k])
  }
  return v
}
const client = {
  name: 'client-side',
  table: 'public.whatsapp_keys',
  async set(db, company, data) {
    const rows = []
    for (const [type, ids] of Object.entries(data)) {
      for (const [id, value] of Object.entries(ids)) {
        if (value === null) {
          await db.query('DELETE FROM public.whatsapp_keys WHERE company_id = $1 AND key_type = $2 AND key_id = $3', [company, type, id])
        } else {
          rows.push([company, type, id, JSON.stringify(value), new Date(), new Date(Date.now() + legacyTtl(type))])
        }
      }
    }
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100)
      const values = chunk.map((_, r) => `($${r * 6 + 1}, $${r * 6 + 2}, $${r * 6 + 3}, $${r * 6 + 4}, $${r * 6 + 5}, $${r * 6 + 6})`)
      await db.query(`INSERT INTO public.whatsapp_keys (company_id, key_type, key_id, value, updated_at, expires_at)
        VALUES ${values.join(', ')} ON CONFLICT (company_id, key_type, key_id) DO UPDATE
        SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at`, chunk.flat())
    }
  },
  async get(db, company, type, ids) {
    const { rows } = await db.query(
      'SELECT key_id, value FROM public.whatsapp_keys WHERE company_id = $1 AND key_type = $2 AND key_id = ANY($3)',
      [company, type, ids])
    const out = {}
    for (const r of rows) out[r.key_id] = reviveBuffers(r.value)
    return out
  },
}

// The floor: already-canonical JSON text, one prepared single-row upsert
// per key (a call's keys in one transaction), into a table identical to
// the extension's.
const canonical = (value) => JSON.stringify(value, BufferJSON.replacer)
const floor = {
  name: 'floor',
  table: 'bench.floor_keys',
  prepare(data) {
    const rows = []
    for (const [type, ids] of Object.entries(data)) {
      for (const [id, value] of Object.entries(ids)) rows.push([type, id, canonical(value)])
    }
    return rows
  },
  // several keys are one transaction, one commit, as any store's would be
  async setPrepared(db, company, rows) {
    if (rows.length > 1) await db.query('BEGIN')
    for (const [type, id, text] of rows) {
      await db.query({
        name: 'floor_upsert',
        text: `INSERT INTO bench.floor_keys (company_id, key_type, key_id, value, updated_at, expires_at)
               VALUES ($1, $2, $3, $4, now(), now() + interval '7 days')
               ON CONFLICT (company_id, key_type, key_id) DO UPDATE
               SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
        values: [company, type, id, text],
      })
    }
    if (rows.length > 1) await db.query('COMMIT')
  },
  async get(db, company, type, ids) {
    const { rows } = await db.query({
      name: 'floor_get',
      text: 'SELECT key_id, value::text AS v FROM bench.floor_keys WHERE company_id = $1 AND key_type = $2 AND key_id = ANY($3)',
      values: [company, type, ids],
    })
    const out = {}
    for (const r of rows) out[r.key_id] = reviveCanonical(JSON.parse(r.v))
    return out
  },
}

// The least any store's replay can cost: each call commits one tiny row
// and writes nothing else.  Its reads are the least a read can cost this
// client: one round trip with the call's parameters that reads no table
// and carries no value back, then the same parse and revive of the key's
// canonical JSON, which it keeps in Node's memory.
const canonicalText = new Map(Object.entries(session.keys).flatMap(([type, m]) =>
  Object.entries(m).map(([id, v]) => [`${type}/${id}`, canonical(v)])))
const commitOnly = {
  name: 'commit-only',
  async set(db, company) {
    await db.query({ name: 'commit_only', text: 'INSERT INTO bench.commits (company_id) VALUES ($1)', values: [company] })
  },
  async get(db, company, type, ids) {
    await db.query({ name: 'round_trip', text: 'SELECT $1::text IS NULL OR $2::text IS NULL OR $3::text[] IS NULL AS v', values: [company, type, ids] })
    const out = {}
    for (const id of ids) {
      const text = canonicalText.get(`${type}/${id}`)
      if (text !== undefined) out[id] = reviveCanonical(JSON.parse(text))
    }
    return out
  },
}

// The floor as a store handed Baileys' objects runs it: each write
// serialised as it comes (JSON.stringify with Baileys' BufferJSON.replacer,
// what the adapter does too), instead of once before the replay for every
// company.  No store given keys.set's objects can do less.
const floorSerializing = {
  name: 'floor, serializing',
  table: 'bench.floor_keys',
  set: (db, company, data) => floor.setPrepared(db, company, floor.prepare(data)),
}

// The store that reads nothing, but the server also sends as many bytes as
// the key's canonical JSON (a string it makes without reading anything):
// what any store answering in that JSON pays to get the value across.
const sendsValue = {
  name: 'sends the value',
  set: commitOnly.set,
  async get(db, company, type, ids) {
    const texts = ids.map((id) => canonicalText.get(`${type}/${id}`))
    const bytes = texts.reduce((n, text) => n + (text === undefined ? 0 : text.length), 0)
    await db.query({ name: 'sends_value', text: 'SELECT pg_catalog.repeat(\'x\', $4) AS v WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL AND $3::text[] IS NOT NULL', values: [company, type, ids, bytes] })
    const out = {}
    texts.forEach((text, i) => { if (text !== undefined) out[ids[i]] = reviveCanonical(JSON.parse(text)) })
    return out
  },
}

// Two stores reading the rows the extension wrote in the same round (their
// companies' names mapped to the extension's), writing nothing, one id a
// call (a plain equality, whose generic plan the server keeps; with = ANY
// it plans every call).  `column` is what the server sends back, `answer`
// the client's value from it.
const extensionRowsReader = (name, column, answer) => {
  const prefix = name.replace(/\W/g, '_')
  return {
    name,
    set: async () => {},
    async get(db, company, type, [id, ...more]) {
      if (more.length) throw new Error(`${name}: one id a call`)
      const { rows } = await db.query({
        name: prefix,
        text: `SELECT ${column} AS v FROM whatsapp_auth.keys k WHERE k.company_id = $1 AND k.key_type = $2
               AND k.key_id = $3 AND (k.expires_at IS NULL OR k.expires_at > now())`,
        values: [company.replace(prefix, 'extension'), type, id],
      })
      return rows.length ? { [id]: answer(type, id, rows[0].v) } : {}
    },
  }
}
// The least any store reading this table pays: the round trip with the
// call's parameters, the primary key probe and the row's visibility and
// expiry, nothing sent back; then the same parse and revive as the
// others, from Node's memory.
const findsRow = extensionRowsReader('finds the row', 'true',
  (type, id) => reviveCanonical(JSON.parse(canonicalText.get(`${type}/${id}`))))
// The leanest SQL a store could read this table's values with: the stored
// jsonb printed by the server's own output, then the extension's parse and
// revive.
const readsValue = extensionRowsReader('reads the value', 'k.value::text',
  (type, id, text) => reviveCanonical(JSON.parse(text)))

// --- helpers --------------------------------------------------------------

const ms = () => Number(process.hrtime.bigint()) / 1e6
const keyCount = (data) => Object.values(data).reduce((n, ids) => n + Object.keys(ids).length, 0)
const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const results = []
const report = (what, ext, base, unit, target) => {
  results.push({ what, ext, base, unit, target })
  console.log(`${what}: ${fmt(ext, 1)} vs ${fmt(base, 1)} ${unit}`)
}
// Untimed, before each round: the stores' tables vacuumed (autovacuum is
// off for them, so their sizes do not depend on when it woke), then a
// checkpoint, so that none lands inside a timed call and the WAL files it
// recycles are there for the round's writes (a new one is 16 MB
// zero-filled and synced inside whichever call crosses into it).
const settle = async () => {
  await pool.query('VACUUM (ANALYZE) whatsapp_auth.keys, public.whatsapp_keys, bench.floor_keys')
  await pool.query('CHECKPOINT')
}
async function withClient(fn) {
  const db = await pool.connect()
  try { return await fn(db) } finally { db.release() }
}
// run `work(tenant)` for every tenant, at most 4 at once (the pool)
async function forTenants(tenants, work) {
  await Promise.all(tenants.map((t) => withClient((db) => work(db, t))))
}
const tenantsOf = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

// --- workloads --------------------------------------------------------------

// The replay, every store on companies of its own, the stores taking
// turns through the write stream and then through the reads, a slice at a
// time (REPLAY_SLICE writes or reads of each company), the first store of
// each slice the next one: this machine's speed drifts between minutes by
// more than the stores differ, and replayed one after the other each
// store's figure was its own minute's.  A store's time is the sum of its
// slices.  Returns, per store, keys written and read a second.
const REPLAY_SLICE = Number(process.env.BENCH_REPLAY_SLICE ?? 250)
const slices = (xs) => Array.from({ length: Math.ceil(xs.length / REPLAY_SLICE) },
  (_, i) => xs.slice(i * REPLAY_SLICE, (i + 1) * REPLAY_SLICE))
async function inTurns(stores, parts, work) {
  const spent = new Map(stores.map((s) => [s, 0]))
  for (const [i, part] of parts.entries()) {
    for (let k = 0; k < stores.length; k++) {
      const store = stores[(i + k) % stores.length]
      const t0 = ms()
      await work(store, part)
      spent.set(store, spent.get(store) + ms() - t0)
    }
  }
  return spent
}
async function replay(stores, companiesOf) {
  const prepared = session.writes.map((w) => floor.prepare(w))
  const writeParts = slices(session.writes.map((w, i) => [w, prepared[i]]))
  const writeMs = await inTurns(stores, writeParts, (store, part) =>
    forTenants(companiesOf(store), async (db, t) => {
      for (const [w, rows] of part) {
        if (store === floor) await floor.setPrepared(db, t, rows)
        else await store.set(db, t, w)
      }
    }))
  const written = session.writes.reduce((n, w) => n + keyCount(w), 0)
  const readers = stores.filter((s) => s.get)
  // untimed: statistics that know these companies, as a server's have for
  // its accounts.  Without them the client-side store's plan for a company
  // newer than its last ANALYZE walks its company_id index and filters the
  // company's every key, a trap of its schema this bench does not count.
  for (const table of new Set(readers.map((s) => s.table).filter(Boolean))) await pool.query(`ANALYZE ${table}`)

  const ids = Object.entries(session.keys).flatMap(([type, m]) => Object.keys(m).map((id) => [type, id]))
  const found = new Map(readers.map((s) => [s, 0]))
  const readMs = await inTurns(readers, slices(ids), (store, part) =>
    forTenants(companiesOf(store), async (db, t) => {
      for (const [type, id] of part) {
        const got = Object.keys(await store.get(db, t, type, [id])).length
        found.set(store, found.get(store) + got)
      }
    }))
  return new Map(stores.map((s) => {
    const n = companiesOf(s).length
    const result = { writesPerS: n * written / writeMs.get(s) * 1000 }
    if (s.get) Object.assign(result, { readsPerS: n * ids.length / readMs.get(s) * 1000, found: found.get(s) })
    return [s, result]
  }))
}

function bulkData(n) {
  const preKeys = Object.values(session.keys['pre-key'])
  const sessions = Object.values(session.keys.session)
  const data = { 'pre-key': {}, session: {} }
  for (let i = 0; i < n / 2; i++) {
    data['pre-key'][10000 + i] = preKeys[i % preKeys.length]
    data.session[`7900${String(i).padStart(7, '0')}.0`] = sessions[i % sessions.length]
  }
  return data
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

// One bulk write per store.  Cold: each on a new connection, the first
// large statement of its backend, which gets its memory from the kernel
// (on this VM every page fault is a trip to the hypervisor).  Warm: the
// third such write on one connection, whose memory is in place.  Medians
// of `rounds`, each store writing into a company of its own.
async function bulk(n, rounds = 7) {
  const data = bulkData(n)
  const rows = floor.prepare(data)
  const text = JSON.stringify(data, BufferJSON.replacer)
  const expires = new Date(Date.now() + 7 * DAY).toISOString()
  const esc = (s) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')
  // the bulk rows through COPY, each line led by `prefix` (its first columns)
  const copyRows = (db, sql, prefix) => new Promise((resolve, reject) => {
    const stream = db.query(copyFrom(sql))
    stream.on('finish', resolve).on('error', reject)
    for (const [type, id, value] of rows) stream.write(`${prefix}${type}\t${esc(id)}\t${esc(value)}\t${expires}\n`)
    stream.end()
  })
  const writers = {
    // given the document already serialised, as COPY is given its rows
    extension: (db, company) => db.query({ name: 'wa_keys_set_text', text: 'SELECT whatsapp_auth.keys_set_text($1, $2)', values: [company, text] }),
    // the same text as keys_set's jsonb argument (the adapter before keys_set_text)
    extensionJsonb: (db, company) => db.query({ name: 'wa_keys_set', text: 'SELECT whatsapp_auth.keys_set($1, $2)', values: [company, text] }),
    client: (db, company) => client.set(db, company, data),
    copy: (db, company) => copyRows(db,
      'COPY bench.floor_keys (company_id, updated_at, key_type, key_id, value, expires_at) FROM STDIN', `${company}\tnow\t`),
    // no store taking keys.set's argument as one jsonb can do less
    parse: (db) => db.query('SELECT $1::jsonb IS NOT NULL', [text]),
    // nor can it insert the rows for less than SQL does: the same rows,
    // already parsed (loaded untimed, below), upserted by one INSERT ... SELECT
    // (the company checked against its domain once, not once a row)
    insert: (db, company) => db.query(`INSERT INTO bench.floor_keys
        SELECT c.id, key_type, key_id, value, now(), expires_at
        FROM pg_temp.bulk_rows, (SELECT $1::whatsapp_auth.company_id AS id OFFSET 0) c
        ON CONFLICT (company_id, key_type, key_id) DO UPDATE
        SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at`, [company]),
  }
  const setup = {
    insert: async (db) => {
      await db.query('CREATE TEMP TABLE bulk_rows (key_type text, key_id text, value jsonb, expires_at timestamptz)')
      await copyRows(db, 'COPY pg_temp.bulk_rows FROM STDIN', '')
    },
  }
  const cold = {}
  const warm = {}
  for (const name of Object.keys(writers)) { cold[name] = []; warm[name] = [] }
  const order = Object.entries(writers)
  for (let r = 0; r < rounds; r++) {
    await settle()
    // each round in another order: no store always follows the same one
    for (const [name, write] of [...order.slice(r % order.length), ...order.slice(0, r % order.length)]) {
      const db = new pg.Client()
      await db.connect()
      if (setup[name]) await setup[name](db)
      for (let call = 0; call < 3; call++) {
        const t = ms()
        await write(db, `bulk_${name}_${r}_${call}`)
        if (call === 0) cold[name].push(ms() - t)
        if (call === 2) warm[name].push(ms() - t)
      }
      await db.end()
    }
  }
  let t = ms()
  for (let r = 0; r < 5; r++) JSON.stringify(data, BufferJSON.replacer)
  const serialise = (ms() - t) / 5
  const med = (o) => Object.fromEntries(Object.entries(o).map(([k, xs]) => [k, median(xs)]))
  for (const [backend, times] of [['cold', cold], ['warm', warm]]) {
    for (const [name, xs] of [['extension', times.extension], ['COPY', times.copy]]) console.log(`bulk rounds, ${backend} backend, ${name} (ms): ${xs.map((x) => fmt(x)).join(' ')}`)
  }
  return { cold: med(cold), warm: med(warm), serialise }
}

// ids of the company `reads`, which holds 1,000 sessions in every store
const readIds = Array.from({ length: 1000 }, (_, i) => `7800${String(i).padStart(7, '0')}.0`)
async function reads(store, company, n, calls = 300) {
  const ids = company === 'reads' ? readIds.slice(0, n) : Object.keys(session.keys.session).slice(0, n)
  return withClient(async (db) => {
    const got = Object.keys(await store.get(db, company, 'session', ids)).length
    if (got !== n) throw new Error(`${store.name}: ${got} of ${n} sessions of ${company} found`)
    const t = ms()
    for (let i = 0; i < calls; i++) await store.get(db, company, 'session', ids)
    return (ms() - t) / calls
  })
}

// Single-key writes of a session (300 of them, in turn: inserts, then
// updates), `calls` per store and round, the stores taking turns call by
// call so that a slow moment of the disk (each call waits for its commit)
// falls on all of them; median of the rounds' ms per call.
async function singleWrites(stores, calls = 300, rounds = 5) {
  const sessions = Object.entries(session.keys.session)
  const perCall = new Map(stores.map((s) => [s, []]))
  await withClient(async (db) => {
    for (let r = 0; r < rounds; r++) {
      await settle()
      const spent = new Map(stores.map((s) => [s, 0]))
      for (let i = 0; i < calls; i++) {
        const [id, value] = sessions[(r * calls + i) % sessions.length]
        const data = { session: { [id]: value } }
        for (const store of stores) {
          const t = ms()
          if (store === floor) await floor.setPrepared(db, `single_${store.name}`, floor.prepare(data))
          else await store.set(db, `single_${store.name}`, data)
          spent.set(store, spent.get(store) + ms() - t)
        }
      }
      for (const store of stores) perCall.get(store).push(spent.get(store) / calls)
    }
  })
  return stores.map((s) => median(perCall.get(s)))
}

// table + TOAST (and the free space and visibility maps) + indexes
const bytes = async (table) => (await pool.query(
  `SELECT pg_total_relation_size($1::regclass) AS b, pg_relation_size($1::regclass) AS heap,
          pg_table_size($1::regclass) - pg_relation_size($1::regclass) AS toast,
          pg_indexes_size($1::regclass) AS idx, (SELECT count(*) FROM ${table}) AS n`, [table])).rows[0]
const showBytes = (name, x) => console.log(`${name}: ${fmt(Number(x.n))} keys, heap ${fmt(x.heap / x.n)} + toast ${fmt(x.toast / x.n)} + indexes ${fmt(x.idx / x.n)} bytes/key`)
// Where a heap's bytes go (pgstattuple, which reads every page): live
// tuples, dead ones, free space, and the rest (page headers, line pointers).
// The same for its TOAST table, per key of the table.
const heapSplit = async (name, table, when) => {
  const { rows: [t] } = await pool.query(`SELECT table_len, tuple_count, tuple_len, dead_tuple_len, free_space
    FROM public.pgstattuple($1::regclass)`, [table])
  const { rows: [x] } = await pool.query(`SELECT table_len, tuple_len, dead_tuple_len, free_space
    FROM public.pgstattuple((SELECT reltoastrelid FROM pg_class WHERE oid = $1::regclass)::regclass)`, [table])
  const per = (v) => fmt(Number(v) / Number(t.tuple_count))
  const split = (s) => `${per(s.table_len)} bytes/key = live tuples ${per(s.tuple_len)} + dead ${per(s.dead_tuple_len)} + free ${per(s.free_space)} + page and line-pointer overhead ${per(s.table_len - s.tuple_len - s.dead_tuple_len - s.free_space)}`
  console.log(`heap ${when}, ${name}: ${split(t)}; its TOAST: ${split(x)}`)
}

// Many-id reads (a group send asks for every device's session at once):
// one company with 1,000 real sessions (300 values, repeated) in each
// store; per size, the stores take turns `rounds` times; medians and ranges.
async function manyIdReads() {
  const sessionValues = Object.values(session.keys.session)
  const many = { session: Object.fromEntries(readIds.map((id, i) => [id, sessionValues[i % sessionValues.length]])) }
  await withClient((db) => extension.set(db, 'reads', many))
  await withClient((db) => client.set(db, 'reads', many))
  await pool.query('VACUUM ANALYZE whatsapp_auth.keys, public.whatsapp_keys')
  const rounds = 5
  const range = (xs) => `${fmt(Math.min(...xs), 3)}-${fmt(Math.max(...xs), 3)}`
  for (const n of [1, 10, 100, 1000]) {
    const calls = n === 1000 ? 30 : n === 100 ? 100 : 300
    // The least a store answering with one JSON text can cost this client:
    // a round trip with the call's parameters that reads nothing, then the
    // parse and revive of the answer's text, which it holds in memory.
    const answer = await withClient(async (db) => (await db.query(
      'SELECT whatsapp_auth.keys_get_json($1, $2, $3)::text AS v', ['reads', 'session', readIds.slice(0, n)])).rows[0].v)
    const nothing = {
      name: 'reads nothing',
      async get(db, company, type, ids) {
        await db.query({ name: 'round_trip', text: 'SELECT $1::text IS NULL OR $2::text IS NULL OR $3::text[] IS NULL AS v', values: [company, type, ids] })
        return reviveCanonical(JSON.parse(answer))
      },
    }
    // The same, but the server also sends as many bytes as the answer (a
    // string it makes without reading anything) and the client receives
    // them: what any store answering in that JSON pays to get it across.
    const sends = {
      name: 'sends the answer',
      async get(db, company, type, ids) {
        await db.query({ name: 'sends_answer', text: 'SELECT pg_catalog.repeat(\'x\', $4) AS v WHERE $1::text IS NOT NULL AND $2::text IS NOT NULL AND $3::text[] IS NOT NULL', values: [company, type, ids, answer.length] })
        return reviveCanonical(JSON.parse(answer))
      },
    }
    const t = { ext: [], jsonb: [], cli: [], nothing: [], sends: [] }
    for (let r = 0; r < rounds; r++) {
      t.ext.push(await reads(extension, 'reads', n, calls))
      t.jsonb.push(await reads(extensionJsonb, 'reads', n, calls))
      t.cli.push(await reads(client, 'reads', n, calls))
      t.nothing.push(await reads(nothing, 'reads', n, calls))
      t.sends.push(await reads(sends, 'reads', n, calls))
    }
    console.log(`keys_get of ${n} ids (ms/call, ${rounds} rounds of ${calls} calls): keys_get_json ${range(t.ext)}, keys_get jsonb ${range(t.jsonb)}, client-side ${range(t.cli)}, reads nothing ${range(t.nothing)}, sends the answer ${range(t.sends)}`)
    report(`keys_get of ${n} ids (ms/call), extension (keys_get_json, as the adapter) vs client-side`, median(t.ext), median(t.cli), 'ms', n >= 100 ? '<= 0.5x' : '')
    report(`keys_get of ${n} ids (ms/call), keys_get jsonb (the adapter before) vs client-side`, median(t.jsonb), median(t.cli), 'ms', '')
    report(`keys_get of ${n} ids (ms/call), a store that reads nothing (a round trip, then the client parses and revives the answer) vs client-side: no store answering in JSON can beat the client-side store by more`, median(t.nothing), median(t.cli), 'ms', 'bound')
    report(`keys_get of ${n} ids (ms/call), a store that reads nothing but sends as many bytes as the answer (round trip and transfer, then the client parses and revives the answer) vs client-side: no store answering in this JSON can beat the client-side store by more`, median(t.sends), median(t.cli), 'ms', 'bound')
  }
}

// Peak memory of one 10,000-key keys.set sent as the adapter sends it (a
// text parameter of its named statement): on a new connection, after
// small calls of the same statement, the backend's peak anonymous memory
// (VmHWM less the shared and file pages resident: a backend keeps every
// shared buffer it touched mapped), then the call, then the peak again;
// medians of `rounds`.  Two cases: the connection's first call (one small
// call before), which PostgreSQL plans with the parameter's value (a
// custom plan copies it twice while the Bind message is read), and its
// sixth and later (five small calls before: the generic plan, which binds
// the parameter alone).  bench.noop, a function that reads nothing, is
// what receiving the parameter costs in each case.
async function memoryPeaks(n = 10000, rounds = 3) {
  const text = JSON.stringify(bulkData(n), BufferJSON.replacer)
  const anon = `WITH s AS (SELECT split_part(l, ':', 1) AS k, (regexp_match(l, '(\\d+) kB'))[1]::bigint AS kb
                 FROM regexp_split_to_table(pg_read_file('/proc/self/status'), E'\\n') l)
    SELECT (SELECT kb FROM s WHERE k = 'VmHWM') - (SELECT kb FROM s WHERE k = 'RssShmem')
         - (SELECT kb FROM s WHERE k = 'RssFile') AS kb`
  const mb = (b) => fmt(b / 1048576, 1)
  console.log(`memory: ${fmt(n)}-key keys.set of ${mb(text.length)} MB; peak above the backend's peak before the call (MB, ${rounds} rounds):`)
  for (const [plan, before] of [['first call of a connection, custom plan', 1], ['sixth call on, generic plan', 5]]) {
    const peaks = {}
    for (const fn of ['whatsapp_auth.keys_set_text', 'whatsapp_auth.keys_set', 'bench.noop']) {
      peaks[fn] = []
      for (let r = 0; r < rounds; r++) {
        const db = new pg.Client({ options: '-c jit=off' })
        await db.connect()
        const id = `mem_${fn.replace(/\W/g, '_')}_${r}`
        const call = (values) => db.query({ name: `mem_${fn}`, text: `SELECT ${fn}($1, $2)`, values })
        for (let i = 0; i < before; i++) await call([`${id}_warm`, '{"session":{"1.0":{}}}'])
        const start = Number((await db.query(anon)).rows[0].kb)
        await call([id, text])
        const after = Number((await db.query(anon)).rows[0].kb)
        await db.end()
        peaks[fn].push((after - start) * 1024)
      }
    }
    console.log(`  ${plan}: ${Object.entries(peaks).map(([fn, p]) => `${fn} ${p.map(mb).join(' ')}`).join(', ')}`)
    const fig = (what) => `peak backend memory of a ${fmt(n)}-key keys.set as a text parameter, ${plan}, ${what}, vs the document's size (bytes)`
    report(fig('keys_set_text (as the adapter)'), median(peaks['whatsapp_auth.keys_set_text']), text.length, 'bytes', '<= 3x')
    report(fig('keys_set (jsonb)'), median(peaks['whatsapp_auth.keys_set']), text.length, 'bytes', '')
    report(fig('a function that reads nothing (what receiving the parameter costs)'), median(peaks['bench.noop']), text.length, 'bytes', 'bound')
  }
}

// --- run --------------------------------------------------------------------

// BENCH_READS_ONLY=1: the many-id reads and the memory probe alone (a
// quick look while tuning)
if (process.env.BENCH_READS_ONLY) {
  await memoryPeaks()
  await manyIdReads()
  console.log('\n| figure | extension | baseline | ratio | target |\n|---|---|---|---|---|')
  for (const r of results) console.log(`| ${r.what} | ${fmt(r.ext, 2)} | ${fmt(r.base, 2)} | ${fmt(r.ext / r.base, 2)}x | ${r.target} |`)
  await pool.end()
  process.exit(0)
}
const tenants = Number(process.env.BENCH_TENANTS ?? 20)
// untimed: Node's JIT and the pool's prepared statements warm up on each
// store's code path, or the first store measured would pay for it
const replayStores = [extension, client, floor, floorSerializing, commitOnly, sendsValue, findsRow, readsValue]
const storeTenants = (prefix, n) => (store) => tenantsOf(`${prefix}${store.name.replace(/\W/g, '_')}_`, n)
await replay(replayStores, storeTenants('warm_', 4))
console.log(`replay: ${tenants} companies, pool of 4, median of ${process.env.BENCH_ROUNDS ?? 3} rounds`)
// each round a replay of every store (in turns, above) on companies of its
// own; medians of the rounds, so that one slow moment of the disk does not
// decide
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const replays = new Map(replayStores.map((s) => [s, []]))
for (let r = 0; r < rounds; r++) {
  await settle()
  const round = await replay(replayStores, storeTenants(`r${r}_`, tenants))
  for (const [store, runs] of replays) runs.push(round.get(store))
}
const medianReplay = (store) => {
  const runs = replays.get(store)
  return { writesPerS: median(runs.map((x) => x.writesPerS)), readsPerS: median(runs.map((x) => x.readsPerS ?? 0)) }
}
const [ext, cli, flo, fls, com, snd, fnd, rdv] = replayStores.map(medianReplay)
// every store that reads must have read back the same keys, or the figures compare nothing
const found = replayStores.filter((s) => s.get).map((s) => replays.get(s).map((x) => x.found).join('/'))
console.log(`replay reads found (per round): ${found.join(' | ')}`)
if (new Set(found).size !== 1 || replays.get(extension).some((x) => !x.found)) throw new Error('the stores read back different keys')
report('replay writes, extension vs client-side (keys/s)', ext.writesPerS, cli.writesPerS, 'keys/s', '>= 1.5x')
report('replay writes, extension vs floor (keys/s)', ext.writesPerS, flo.writesPerS, 'keys/s', '')
report('replay writes, floor vs client-side (keys/s)', flo.writesPerS, cli.writesPerS, 'keys/s', '')
report('replay writes, commit-only vs client-side (keys/s): no store can beat the client-side store by more', com.writesPerS, cli.writesPerS, 'keys/s', 'bound')
report('replay writes, the floor serializing each write as it comes vs the floor (keys/s): no store handed Baileys\' objects can reach the floor by more', fls.writesPerS, flo.writesPerS, 'keys/s', 'bound')
report('replay writes, extension vs the floor serializing each write (keys/s)', ext.writesPerS, fls.writesPerS, 'keys/s', '')
report('replay reads, extension vs client-side (keys/s)', ext.readsPerS, cli.readsPerS, 'keys/s', '>= 1.5x')
report('replay reads, extension vs floor (keys/s)', ext.readsPerS, flo.readsPerS, 'keys/s', '')
report('replay reads, floor (a plain SELECT) vs client-side (keys/s)', flo.readsPerS, cli.readsPerS, 'keys/s', '')
report('replay reads, a store that reads nothing (a round trip, then the client parses and revives the value) vs client-side (keys/s): no store can beat the client-side store by more', com.readsPerS, cli.readsPerS, 'keys/s', 'bound')
report('replay reads, extension vs that store (keys/s)', ext.readsPerS, com.readsPerS, 'keys/s', '')
report('replay reads, a store that reads nothing but sends as many bytes as the value vs the store that reads nothing (keys/s): no store answering in this JSON can reach that store by more', snd.readsPerS, com.readsPerS, 'keys/s', 'bound')
report('replay reads, extension vs the store that sends the value (keys/s)', ext.readsPerS, snd.readsPerS, 'keys/s', '')
report('replay reads, a store that finds the row and sends nothing vs the store that reads nothing (keys/s): no store reading this table can reach that store by more', fnd.readsPerS, com.readsPerS, 'keys/s', 'bound')
report('replay reads, extension vs the store that finds the row (keys/s)', ext.readsPerS, fnd.readsPerS, 'keys/s', '')
report('replay reads, a store that reads the stored value with one plain prepared SELECT vs the store that reads nothing (keys/s): no store reading this table\'s values through SQL can reach that store by more', rdv.readsPerS, com.readsPerS, 'keys/s', 'bound')
report('replay reads, extension vs the store that reads the value with one plain SELECT (keys/s)', ext.readsPerS, rdv.readsPerS, 'keys/s', '')

// how many of the replay's updates were HOT (no new index entries)
await new Promise((resolve) => setTimeout(resolve, 1500)) // backends report their counts when idle
for (const [name, table] of [['extension', 'keys'], ['client-side', 'whatsapp_keys']]) {
  const { rows: [h] } = await pool.query(`SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot, vacuum_count + autovacuum_count AS vac
    FROM pg_stat_user_tables WHERE relname = $1`, [table])
  // the space dead rows leave is reused only once a vacuum has found it
  console.log(`replay updates, ${name}: ${fmt(Number(h.hot))} of ${fmt(Number(h.upd))} HOT; vacuumed ${h.vac} times`)
}
await pool.query('CREATE EXTENSION IF NOT EXISTS pgstattuple SCHEMA public')
const storeTables = [['extension', 'whatsapp_auth.keys'], ['client-side', 'public.whatsapp_keys']]
for (const [name, table] of storeTables) await heapSplit(name, table, 'after the replay')
await pool.query('VACUUM ANALYZE')
for (const [name, table] of storeTables) await heapSplit(name, table, 'after VACUUM')
const be = await bytes('whatsapp_auth.keys')
const bc = await bytes('public.whatsapp_keys')
showBytes('storage after replay, extension', be)
showBytes('storage after replay, client-side', bc)
report('storage after replay (bytes/key, lower is better)', be.b / be.n, bc.b / bc.n, 'bytes/key', '<= 0.6x')
for (const [name, table] of storeTables) {
  const cols = (await pool.query(`SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table])).rows.map((r) => r.attname)
  const { rows: [c] } = await pool.query(`SELECT ${cols.map((a) => `avg(pg_column_size(${a}))::numeric(10, 1) AS ${a}`).join(', ')} FROM ${table}`)
  console.log(`stored column sizes, ${name} (bytes/key, average; values as stored, compressed or a TOAST pointer): ${cols.map((a) => `${a} ${c[a]}`).join(', ')}`)
}

const [singleExt, singleFloor, singleClient] = await singleWrites([extension, floor, client])
report('single-key write (ms/call, lower is better), extension vs floor', singleExt, singleFloor, 'ms', '<= 1.15x')
report('single-key write (ms/call), client-side vs floor: no store can beat the client-side store by more', singleClient, singleFloor, 'ms', 'bound')
// BENCH_STORAGE_ONLY=1: stop here (the replay, storage and single-key
// writes: a quick look while tuning the table)
if (process.env.BENCH_STORAGE_ONLY) {
  console.log('\n| figure | extension | baseline | ratio | target |\n|---|---|---|---|---|')
  for (const r of results) console.log(`| ${r.what} | ${fmt(r.ext, 2)} | ${fmt(r.base, 2)} | ${fmt(r.ext / r.base, 2)}x | ${r.target} |`)
  await pool.end()
  process.exit(0)
}

await memoryPeaks()
const b = await bulk(10000)
report('bulk 10,000 keys, warm backend (ms), extension vs COPY', b.warm.extension, b.warm.copy, 'ms', '<= 1.3x')
report('bulk 10,000 keys, warm backend (ms), keys_set (jsonb) vs COPY', b.warm.extensionJsonb, b.warm.copy, 'ms', '')
report('bulk 10,000 keys, warm backend (ms), extension vs client-side', b.warm.extension, b.warm.client, 'ms', '>= 5x faster')
report('bulk 10,000 keys, warm backend (ms), client-side vs COPY: no store can beat the client-side store by more', b.warm.client, b.warm.copy, 'ms', 'bound')
report('bulk 10,000 keys, cold backend (ms), extension vs COPY', b.cold.extension, b.cold.copy, 'ms', '<= 1.3x')
report('bulk 10,000 keys, cold backend (ms), keys_set (jsonb) vs COPY', b.cold.extensionJsonb, b.cold.copy, 'ms', '')
report('bulk 10,000 keys, cold backend (ms), extension vs client-side', b.cold.extension, b.cold.client, 'ms', '>= 5x faster')
report('bulk 10,000 keys, warm backend (ms): receiving the document as jsonb, alone, vs COPY', b.warm.parse, b.warm.copy, 'ms', '')
report('bulk 10,000 keys, warm backend (ms): its rows, already parsed, by one INSERT ... SELECT, alone, vs COPY', b.warm.insert, b.warm.copy, 'ms', '')
report('bulk 10,000 keys, warm backend (ms): receiving the jsonb + that INSERT: no store taking one jsonb can do less', b.warm.parse + b.warm.insert, b.warm.copy, 'ms', 'bound')
report('bulk 10,000 keys, cold backend (ms): receiving the document as jsonb, alone, vs COPY', b.cold.parse, b.cold.copy, 'ms', '')
report('bulk 10,000 keys, cold backend (ms): receiving the jsonb + that INSERT: no store taking one jsonb can do less', b.cold.parse + b.cold.insert, b.cold.copy, 'ms', 'bound')
report('bulk 10,000 keys (ms): serialising it first (BufferJSON.replacer, in the client), vs COPY', b.serialise, b.warm.copy, 'ms', '')

await manyIdReads()

// The curve: cost per key as companies and table size grow.
const curve = []
const shortStream = session.writes.slice(0, 300)
const streamKeys = shortStream.reduce((n, w) => n + keyCount(w), 0)
for (const n of [1, 10, 100]) {
  const t = ms()
  await forTenants(tenantsOf(`curve${n}_`, n), async (db, c) => { for (const w of shortStream) await extension.set(db, c, w) })
  curve.push([`${n} companies replaying ${streamKeys} keys each`, (ms() - t) * 1000 / (n * streamKeys), 'us per key written'])
}
// from an empty table up; one company's sessions to read back
await pool.query('TRUNCATE whatsapp_auth.keys')
await withClient((db) => extension.set(db, 'curve_reads', { session: session.keys.session }))
for (const size of [1e4, 1e5, 1e6]) {
  // fill the table to `size` rows with copies of real sessions
  await pool.query(`INSERT INTO whatsapp_auth.keys (company_id, key_type, key_id, value, updated_at)
    SELECT 'fill' || (g / 5000), 'session', g::text, $1::jsonb, now()
    FROM generate_series((SELECT count(*) FROM whatsapp_auth.keys), $2::bigint - 1) g
    ON CONFLICT DO NOTHING`, [canonical(Object.values(session.keys.session)[0]), size])
  await pool.query('VACUUM ANALYZE whatsapp_auth.keys')
  const rows = Number((await pool.query('SELECT count(*) AS n FROM whatsapp_auth.keys')).rows[0].n)
  curve.push([`table of ${fmt(rows)} keys: single-key write`, (await singleWrites([extension], 100, 5))[0] * 1000, 'us per call'])
  curve.push([`table of ${fmt(rows)} keys: keys_get of 10 ids`, await reads(extension, 'curve_reads', 10, 500) * 1000, 'us per call'])
}
console.log('\n| scale | cost |\n|---|---|')
for (const [what, cost, unit] of curve) console.log(`| ${what} | ${fmt(cost, 1)} ${unit} |`)

console.log('\n| figure | extension | baseline | ratio | target |\n|---|---|---|---|---|')
for (const r of results) {
  const ratio = r.ext / r.base
  console.log(`| ${r.what} | ${fmt(r.ext, 2)} | ${fmt(r.base, 2)} | ${fmt(ratio, 2)}x | ${r.target} |`)
}
await pool.end()
