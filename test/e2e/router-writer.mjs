// One Baileys process's writes through the router while the company moves:
// the sample session's write stream replayed with the reference adapter
// (every object value marked with the call's sequence number, so that each
// acknowledged write can be found again), call after call, until the stop
// file appears.  Then, read straight from the partitions: every key holds
// the value of its last acknowledged write on the target partition, the
// target holds no other key of the company, the source holds nothing of
// it.  Prints one JSON line: calls, failures, latencies.
//   node router-writer.mjs <company> <stop file> <source conninfo> <target conninfo>
// (PG* variables name the router.)  With ROUTER_WRITER_LEASE=<holder>, the
// adapter's lease option: the writer acquires the company's lease through
// the router (ttl 3 s, renewed every second, before, during and after the
// move), every write carries its token, and at the end it renews the lease
// for 60 s and leaves it live for the caller to check; the summary gives
// the token.
import { existsSync } from 'node:fs'
import assert from 'node:assert/strict'
import pg from 'pg'
import { useWhatsappAuthState } from './use-whatsapp-auth-state.mjs'
import { loadBaileys, sessionText } from './baileys.mjs'

const [company, stopFile, sourceConn, targetConn] = process.argv.slice(2)
const baileys = await loadBaileys(7)
const session = JSON.parse(sessionText)
const pool = new pg.Pool({ max: 1 })

const holder = process.env.ROUTER_WRITER_LEASE
const leaseLost = []
const { state, saveCreds, lease } = await useWhatsappAuthState(pool, company, baileys,
  holder ? { lease: { holder, ttl: 3, onLeaseLost: (err) => leaseLost.push(err.message) } } : {})
Object.assign(state.creds, JSON.parse(JSON.stringify(session.creds), baileys.BufferJSON.reviver))
await saveCreds()

const expected = new Map()   // "type/id" -> the value last acknowledged
const latencies = []
const failures = []
let seq = 0
let slowest = { ms: 0, seq: 0 }
while (!existsSync(stopFile)) {
  const write = session.writes[seq % session.writes.length]
  seq += 1
  const data = {}
  for (const [type, ids] of Object.entries(write)) {
    data[type] = {}
    for (const [id, value] of Object.entries(ids)) {
      data[type][id] = value !== null && typeof value === 'object' && !Array.isArray(value)
        ? { ...value, _seq: seq } : value
    }
  }
  const started = process.hrtime.bigint()
  try {
    await state.keys.set(data)
  } catch (err) {
    failures.push({ seq, code: err.code, message: err.message })
    if (failures.length >= 20) break   // the test fails anyway; do not spin
    continue
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  latencies.push(ms)
  if (ms > slowest.ms) slowest = { ms, seq, at: new Date().toISOString() }
  for (const [type, ids] of Object.entries(data)) {
    for (const [id, value] of Object.entries(ids)) expected.set(`${type}/${id}`, value)
  }
}
await pool.end()   // the adapter's renewals stop here
if (lease) {   // the holder extends its own lease for the caller's checks
  const client = new pg.Client()
  await client.connect()
  await client.query('SELECT whatsapp_auth.lease_renew($1, $2, $3)', [company, lease.token, '60 seconds'])
  await client.end()
}

const rowsOf = async (conn) => {
  const client = new pg.Client({ connectionString: conn })
  await client.connect()
  const keys = (await client.query(
    'SELECT key_type, key_id, value FROM whatsapp_auth.keys WHERE company_id = $1', [company])).rows
  const creds = (await client.query(
    'SELECT count(*)::int AS n FROM whatsapp_auth.creds WHERE company_id = $1', [company])).rows[0].n
  await client.end()
  return { keys, creds }
}
const target = await rowsOf(targetConn)
const source = await rowsOf(sourceConn)
const stored = new Map(target.keys.map((r) => [`${r.key_type}/${r.key_id}`, r.value]))
let wrong = 0
for (const [key, value] of expected) {
  const got = stored.get(key)
  const same = value !== null && typeof value === 'object' && !Array.isArray(value)
    ? got?._seq === value._seq : got !== undefined
  if (!same) wrong += 1
}
latencies.sort((a, b) => a - b)
const summary = {
  company,
  leaseToken: lease?.token ?? null,
  leaseLost: leaseLost[0] ?? null,
  calls: latencies.length + failures.length,
  failed: failures.length,
  firstFailure: failures[0] ?? null,
  keysExpected: expected.size,
  keysOnTarget: stored.size,
  keysWrongOrMissing: wrong,
  credsOnTarget: target.creds,
  rowsOnSource: source.keys.length + source.creds,
  medianMs: Number(latencies[Math.floor(latencies.length / 2)]?.toFixed(2)),
  p99Ms: Number(latencies[Math.floor(latencies.length * 0.99)]?.toFixed(2)),
  maxMs: Number(slowest.ms.toFixed(1)),
  maxAtCall: slowest.seq,
  maxAt: slowest.at,
}
console.log(JSON.stringify(summary))
assert.equal(summary.leaseLost, null, 'the lease was lost')
assert.equal(summary.failed, 0, `calls failed: ${JSON.stringify(summary.firstFailure)}`)
assert.equal(summary.keysWrongOrMissing, 0, 'acknowledged writes missing on the target')
assert.equal(summary.keysOnTarget, summary.keysExpected, 'keys on the target that no acknowledged write made')
assert.equal(summary.credsOnTarget, 1, 'the creds are on the target')
assert.equal(summary.rowsOnSource, 0, 'rows of the company left on the source')
