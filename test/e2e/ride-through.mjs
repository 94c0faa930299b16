// The adapter rides through a restart of its one server: 20 companies
// replay the sample's write stream through it; a quarter of the way in the
// server is restarted with `pg_ctl restart -m immediate` (a crash: recovery
// on start).  The replay completes, no error reaches the caller, calls did
// fail underneath (and were retried), every company holds exactly its
// replayed state.  Then the server stays away longer than the retry bound:
// every caller gets the adapter's clear error, and each company holds the
// state of its acknowledged calls, the failed call whole or absent.
//   node ride-through.mjs   (PG* name the database; WA_PGCTL is the command
//   line `pg_ctl -D <data> -l <log>` of that server, run through sh)
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import pg from 'pg'
import { loadBaileys } from './baileys.mjs'
import { replay, stateAfter, holds, prefixHeld } from './replay.mjs'

const COMPANIES = 20
const COUNT = Number(process.env.RIDE_WRITES ?? 300)
const BOUND_MS = 2000
const AWAY_MS = 3 * BOUND_MS
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const pgctl = (args) => promisify(execFile)('sh', ['-c', `${process.env.WA_PGCTL} ${args} >/dev/null`])
const baileys = await loadBaileys(6)

const pool = new pg.Pool({ max: 8 })
pool.on('error', () => { /* idle connections die with the server; the next call finds out */ })
let failedCalls = 0
pool.on('release', (err) => { if (err) failedCalls++ })

// Checks on a connection of their own, opened after the server is back.
const admin = new pg.Client()
const companies = (tag) => Array.from({ length: COMPANIES }, (_, i) => `ride_${tag}_${i}`)

// 1. restart -m immediate in the middle of the replay ----------------------
{
  const names = companies('restart')
  const log = []
  const run = replay({ pool, companies: names, baileys, count: COUNT, log })
  while (log.length < COMPANIES * COUNT / 4) {
    assert.deepEqual(run.errors, {}, 'errors during the replay')
    await sleep(5)
  }
  const restart = Date.now()
  await pgctl('restart -m immediate -w')
  const restartMs = Date.now() - restart
  await run.done
  assert.deepEqual(Object.entries(run.errors).map(([c, e]) => `${c}: ${e.message}`), [], 'errors reached the caller')
  assert.ok(failedCalls > 0, 'no call failed underneath: the restart did not hit the replay')
  await admin.connect()
  for (const c of names) {
    assert.equal(run.acked[c], COUNT, `${c}: not every call acknowledged`)
    assert.ok(await holds(admin, c, stateAfter(COUNT)), `${c} does not hold its replayed state`)
  }
  const ats = log.map((e) => e.at).sort((a, b) => a - b)
  const pause = Math.max(...ats.slice(1).map((at, i) => at - ats[i]))
  console.log(`ok: restart -m immediate during a ${COMPANIES}-company replay (${COUNT} keys_set calls each; ` +
    `restart took ${restartMs} ms): ${failedCalls} calls failed underneath and were retried, ` +
    `longest pause between acknowledged calls ${pause} ms, no error to the caller, every company holds its replayed state`)
  await admin.query("DELETE FROM whatsapp_auth.keys WHERE company_id LIKE 'ride\\_restart\\_%'")
  await admin.end()
}

// 2. the server away for longer than the bound ------------------------------
{
  const names = companies('away')
  const log = []
  const run = replay({ pool, companies: names, baileys, count: COUNT, log, adapterOptions: { retryForMs: BOUND_MS } })
  while (log.length < COMPANIES * COUNT / 4) {
    assert.deepEqual(run.errors, {}, 'errors during the replay')
    await sleep(5)
  }
  const stop = Date.now()
  await pgctl('stop -m immediate')
  const away = Promise.race([run.done, sleep(AWAY_MS)])
  await away
  const gaveUpMs = Date.now() - stop
  await sleep(Math.max(0, AWAY_MS - gaveUpMs))
  await pgctl('start -w')
  await run.done
  const errors = Object.entries(run.errors)
  assert.equal(errors.length, COMPANIES, `${COMPANIES - errors.length} callers saw no error with the server away ${AWAY_MS} ms`)
  for (const [c, err] of errors) {
    assert.match(err.message, new RegExp(`^whatsapp_auth keys_set: the database was away for \\d+ ms \\(\\d+ attempts, retryForMs ${BOUND_MS}\\)`), c)
    assert.ok(err.cause, `${c}: the error does not carry its cause`)
  }
  const db = new pg.Client()
  await db.connect()
  const whole = { absent: 0, whole: 0 }
  for (const c of names) {
    const n = await prefixHeld(db, c, [run.acked[c], run.acked[c] + 1])
    assert.notEqual(n, null, `${c}: holds neither the state of its ${run.acked[c]} acknowledged calls nor that plus the failed one`)
    whole[n === run.acked[c] ? 'absent' : 'whole']++
  }
  console.log(`ok: server away ${AWAY_MS} ms with a ${BOUND_MS} ms bound: all ${COMPANIES} callers got ` +
    `"the database was away for ... ms" ${gaveUpMs} ms after the stop; ` +
    `each holds its acknowledged calls, the failed call absent (${whole.absent}) or whole (${whole.whole}), never half`)
  await db.query("DELETE FROM whatsapp_auth.keys WHERE company_id LIKE 'ride\\_%'")
  await db.end()
}
await pool.end()
