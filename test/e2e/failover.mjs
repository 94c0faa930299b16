// Failover under load, driven by test/failover_test on a pg_auto_failover
// formation: 20 companies replay the sample's write stream through the
// reference adapter (a pool of primaryClient over both nodes); a quarter of
// the way in, the processes HA_KILL names get SIGKILL (the primary's
// postmaster, or its keeper too, as if the machine went away); the manager
// promotes the other node (or restarts this one).  Checks: no error
// reaches a caller; once a node takes writes again, with no call in flight,
// every company holds on it exactly the state of its acknowledged calls
// (each acknowledged write is there, each call that was in flight whole);
// the replay completes and every company holds its whole stream; Signal
// sessions set up before the kill (both Baileys majors) go on, messages
// decrypting both ways.  Prints the gap from the kill to the first
// acknowledged call started after it, and which node took over.
//   node failover.mjs   (HA_HOSTS=host:port,host:port; HA_KILL=pids to SIGKILL,
//   each with every process under it at the moment of the kill;
//   FO_PREFIX names this run's companies)
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import pg from 'pg'
import { MAJORS, loadBaileys } from './baileys.mjs'
import { primaryClient, wentAway } from './use-whatsapp-auth-state.mjs'
import { openAccount, createAccount, preKeyBundle } from './signal.mjs'
import { replay, stateAfter, holds } from './replay.mjs'

const COMPANIES = 20
const COUNT = Number(process.env.FAILOVER_WRITES ?? 500)
const hosts = process.env.HA_HOSTS.split(',').map((h) => ({ host: h.split(':')[0], port: Number(h.split(':')[1]) }))
const victims = process.env.HA_KILL.split(',').map(Number)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const PREFIX = process.env.FO_PREFIX ?? 'fo'
const nodeName = (h) => `node${h + 1}`

// The one host that takes writes now (asked directly, not through the pool).
async function primaryNow() {
  const writable = []
  for (let h = 0; h < hosts.length; h++) {
    const c = new pg.Client({ ...hosts[h], database: 'postgres', user: 'postgres' })
    try {
      await c.connect()
      if (!(await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r) writable.push(h)
    } catch { /* down */ } finally { await c.end().catch(() => {}) }
  }
  assert.equal(writable.length, 1, `writable nodes: ${writable.map(nodeName).join(', ') || 'none'}`)
  return writable[0]
}

const pool = new pg.Pool({ max: 8, database: 'postgres', user: 'postgres', Client: primaryClient(pg.Client, hosts) })
pool.on('error', () => { /* idle connections to the dead primary: the next call finds out */ })
let failedCalls = 0
pool.on('release', (err) => { if (err) failedCalls++ })
// The test's own statements on the pool, with the adapter's rule: a host
// that is down or a standby is passed over.
async function sql(text, params) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await pool.query(text, params)).rows
    } catch (err) {
      if (!wentAway(err) || attempt === 50) throw err
      await sleep(100)
    }
  }
}

// Signal sessions between two companies per major, before the kill.
const JID_A = '79001111111@s.whatsapp.net'
const JID_B = '79002222222@s.whatsapp.net'
async function send(from, to, toJid, fromJid, text) {
  const { type, ciphertext } = await from.repository.encryptMessage({ jid: toJid, data: Buffer.from(text) })
  const plain = await to.repository.decryptMessage({ jid: fromJid, type, ciphertext })
  assert.equal(Buffer.from(plain).toString(), text)
}
const signal = {}
for (const major of MAJORS) {
  const baileys = await loadBaileys(major)
  const [ca, cb] = [`${PREFIX}_sig_a_v${major}`, `${PREFIX}_sig_b_v${major}`]
  for (const c of [ca, cb]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  const a = await createAccount(pool, ca, baileys, major)
  const b = await createAccount(pool, cb, baileys, major)
  const preKeyId = b.creds.firstUnuploadedPreKeyId - 1
  const { [preKeyId]: preKey } = await b.keys.get('pre-key', [String(preKeyId)])
  await a.repository.injectE2ESession({ jid: JID_B, session: preKeyBundle(baileys, b.creds, preKeyId, preKey) })
  for (let i = 0; i < 5; i++) {
    await send(a, b, JID_B, JID_A, `before failover A to B #${i}`)
    await send(b, a, JID_A, JID_B, `before failover B to A #${i}`)
  }
  signal[major] = { baileys, ca, cb }
}

const baileys = signal[6].baileys
const names = Array.from({ length: COMPANIES }, (_, i) => `${PREFIX}_${String(i).padStart(2, '0')}`)
const before = await primaryNow()
let closed = null
const gate = () => closed
const log = []
const run = replay({ pool, companies: names, baileys, count: COUNT, log, gate })
while (log.length < COMPANIES * COUNT / 4) {
  assert.deepEqual(run.errors, {}, 'errors before the kill')
  await sleep(5)
}

// pid and every process under it now: the backends the replay's pool opened
// after the test listed the node's processes are the node's too.
function processTree(pid) {
  let children = []
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split(/\s+/).filter(Boolean).map(Number)
  } catch { /* ps exits 1 when there are none */ }
  return [pid, ...children.flatMap(processTree)]
}
// A machine that goes away takes all its processes: a backend left alive
// after its postmaster could hold a client's connection forever.  (Not
// frozen first: runuser stops itself when its child stops, and would then
// never reap the killed keeper.)
// A process listed before (a backend, a keeper's helper) may have exited
// since: it is gone already, which is what the kill is for.
function killProcess(pid) {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (e) {
    if (e.code !== 'ESRCH') throw e
  }
}
const killAt = Date.now()
for (const pid of new Set(victims.flatMap(processTree))) killProcess(pid)
const ackedAtKill = { ...run.acked }
const inFlightAtKill = run.inFlight.size

// The first call started after the kill to be acknowledged: a node took writes.
while (!log.some((e) => e.start > killAt)) {
  assert.deepEqual(run.errors, {}, 'an error reached a caller during the failover')
  await sleep(5)
}
const first = log.find((e) => e.start > killAt)
const gapMs = first.at - killAt
let open
closed = new Promise((resolve) => { open = resolve })
while (run.inFlight.size > 0) await sleep(5)
const after = await primaryNow()
const took = after === before ? `${nodeName(after)}, restarted in place,` : `${nodeName(after)}, promoted,`
const primary = new pg.Client({ ...hosts[after], database: 'postgres', user: 'postgres' })
await primary.connect()
const lost = []
for (const c of names) {
  assert.ok(run.acked[c] >= ackedAtKill[c])
  if (!await holds(primary, c, stateAfter(run.acked[c]))) lost.push(`${c} (${run.acked[c]} acknowledged calls)`)
}
assert.deepEqual(lost, [], 'companies whose state on the new primary is not that of their acknowledged calls')
console.log(`ok: SIGKILL of ${process.env.HA_KILL_WHAT ?? 'the primary'} (${nodeName(before)}) after ` +
  `${Object.values(ackedAtKill).reduce((a, b) => a + b)} acknowledged calls; ${took} took writes ${gapMs} ms later; ${failedCalls} calls failed underneath and were retried; ` +
  `with nothing in flight every company holds there exactly its ${Object.values(run.acked).reduce((a, b) => a + b)} ` +
  `acknowledged calls (the ${inFlightAtKill} calls in flight at the kill: whole)`)

open()
await run.done
assert.deepEqual(Object.entries(run.errors).map(([c, e]) => `${c}: ${e.message}`), [], 'errors reached the caller')
for (const c of names) {
  assert.equal(run.acked[c], COUNT)
  assert.ok(await holds(primary, c, stateAfter(COUNT)), `${c} does not hold its whole replayed stream on ${nodeName(after)}`)
}
console.log(`ok: the replay completed (${COMPANIES} companies x ${COUNT} keys_set calls), no error to the caller, ` +
  `every company holds its whole stream on ${nodeName(after)}`)

for (const major of MAJORS) {
  const { baileys, ca, cb } = signal[major]
  const a = await openAccount(pool, ca, baileys, major)
  const b = await openAccount(pool, cb, baileys, major)
  for (let i = 0; i < 10; i++) {
    await send(a, b, JID_B, JID_A, `after failover A to B #${i}`)
    await send(b, a, JID_A, JID_B, `after failover B to A #${i}`)
  }
  const [{ n }] = (await primary.query(
    "SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = $1 AND key_type = 'session'", [ca])).rows
  assert.ok(n > 0, `${ca}: no Signal session row on ${nodeName(after)}`)
  for (const c of [ca, cb]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
}
console.log(`ok: Baileys ${MAJORS.join(' and ')}: the Signal sessions set up on ${nodeName(before)} go on on ` +
  `${nodeName(after)}, 10 messages each way decrypt`)
await sql('DELETE FROM whatsapp_auth.keys WHERE company_id = ANY($1)', [names])
await primary.end()
await pool.end()
