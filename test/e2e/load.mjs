// Load test: 50 concurrent clients replay the sample session's Baileys write
// stream for 200 companies (each company served by one client, in order,
// as one Baileys process would) until every stream is done or the time
// bound (LOAD_SECONDS, default 45) is up.  Then: zero errors, every
// company holds exactly the keys its replayed prefix wrote, and the values
// of each company's last write read back equal.
//   node load.mjs   (PG* variables name the database; WHATSAPP_AUTH_SESSION the session)
import assert from 'node:assert/strict'
import pg from 'pg'
import { sessionText } from './baileys.mjs'

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 50)
const COMPANIES = Number(process.env.LOAD_COMPANIES ?? 200)
const SECONDS = Number(process.env.LOAD_SECONDS ?? 45)
const writes = JSON.parse(sessionText).writes
const texts = writes.map((w) => JSON.stringify(w))
const company = (i) => `load_${String(i).padStart(3, '0')}`

// Distinct keys after the first n writes, for every n.
const keysAfter = [0]
const seen = new Set()
for (const w of writes) {
  for (const [type, ids] of Object.entries(w)) {
    for (const [id, value] of Object.entries(ids)) {
      if (value === null) seen.delete(`${type}/${id}`)
      else seen.add(`${type}/${id}`)
    }
  }
  keysAfter.push(seen.size)
}

const admin = new pg.Client()
await admin.connect()
await admin.query("DELETE FROM whatsapp_auth.keys WHERE company_id LIKE 'load\\_%'")

const done = new Array(COMPANIES).fill(0)
const errors = []
const deadline = Date.now() + SECONDS * 1000
const started = Date.now()
await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
  const db = new pg.Client()
  await db.connect()
  const mine = Array.from({ length: COMPANIES }, (_, i) => i).filter((i) => i % CLIENTS === c)
  try {
    while (Date.now() < deadline) {
      const open = mine.filter((i) => done[i] < writes.length)
      if (open.length === 0) break
      for (const i of open) {
        try {
          await db.query('SELECT * FROM whatsapp_auth.keys_set($1, $2)', [company(i), texts[done[i]]])
          done[i]++
        } catch (err) {
          errors.push(`${company(i)} write ${done[i]}: ${err.code} ${err.message}`)
          done[i] = writes.length // stop this company: its expected state is unknown
        }
      }
    }
  } finally {
    await db.end()
  }
}))
const seconds = (Date.now() - started) / 1000

assert.deepEqual(errors, [], 'errors during the load')
const { rows } = await admin.query(
  "SELECT company_id, count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id LIKE 'load\\_%' GROUP BY company_id")
const stored = Object.fromEntries(rows.map((r) => [r.company_id, r.n]))
const wrong = []
for (let i = 0; i < COMPANIES; i++) {
  const expected = keysAfter[done[i]]
  if ((stored[company(i)] ?? 0) !== expected) wrong.push(`${company(i)}: ${stored[company(i)] ?? 0} keys, expected ${expected}`)
}
assert.deepEqual(wrong, [], 'companies whose key count is not what their replayed writes leave')
// The last write of every company reads back as written.
for (let i = 0; i < COMPANIES; i++) {
  if (done[i] === 0) continue
  for (const [type, ids] of Object.entries(writes[done[i] - 1])) {
    const { rows: [r] } = await admin.query('SELECT whatsapp_auth.keys_get($1, $2, $3) AS v', [company(i), type, Object.keys(ids)])
    assert.deepEqual(r.v, ids, `${company(i)}: last write of ${type} reads back different`)
  }
}
await admin.query("DELETE FROM whatsapp_auth.keys WHERE company_id LIKE 'load\\_%'")
await admin.end()

const calls = done.reduce((a, b) => a + b, 0)
const keys = done.reduce((a, n) => a + writes.slice(0, n).reduce((k, w) =>
  k + Object.values(w).reduce((m, ids) => m + Object.keys(ids).length, 0), 0), 0)
const complete = done.filter((n) => n === writes.length).length
console.log(`ok: ${CLIENTS} clients, ${COMPANIES} companies, ${seconds.toFixed(1)} s: ${calls} keys_set calls ` +
  `(${keys} keys, ${Math.round(calls / seconds)} calls/s), ${complete} streams complete, 0 errors, ` +
  `every company's key count exact, last writes read back equal`)
