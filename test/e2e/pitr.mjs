// The point-in-time recovery drill, in two phases driven by test/pitr_test.
//   node pitr.mjs before   (PG* name the live database; PITR_STATE a file to write)
//     The sample session stored for acme, globex and initech; acme gets a
//     real Baileys Signal session with a peer; four more companies replay
//     the write stream through the adapter the whole time.  Then the
//     accident: session_remove('acme'), acme's checksums taken in the same
//     transaction (its state at T); more writes; everything recorded.
//   node pitr.mjs after    (PITR_RESTORED: host:port of the restored cluster)
//     The restored cluster holds acme exactly as at T, globex and initech as
//     stored, each streaming company the state of a prefix of its stream
//     between what was acknowledged before T and what had committed by T;
//     acme alone moves back into the live cluster (session_export there,
//     session_import(..., replace => true) here) and its Signal session
//     goes on: messages decrypt both ways.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import pg from 'pg'
import { loadBaileys, sessionText } from './baileys.mjs'
import { openAccount, createAccount, preKeyBundle } from './signal.mjs'
import { replay, stateAfter, holds, prefixHeld } from './replay.mjs'

const MAJOR = 6
const baileys = await loadBaileys(MAJOR)
const sample = JSON.parse(sessionText)
const STORED = ['acme', 'globex', 'initech']
const STREAMING = ['pitr_w1', 'pitr_w2', 'pitr_w3', 'pitr_w4']
const PEER = 'pitr_peer'
const JID_ACME = '79003333333@s.whatsapp.net'
const JID_PEER = '79004444444@s.whatsapp.net'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const checksums = `SELECT md5(d->>'creds') AS creds, md5(d->>'keys') AS keys
                     FROM (SELECT whatsapp_auth.session_export($1) AS d) e`

async function send(from, to, toJid, fromJid, text) {
  const { type, ciphertext } = await from.repository.encryptMessage({ jid: toJid, data: Buffer.from(text) })
  const plain = await to.repository.decryptMessage({ jid: fromJid, type, ciphertext })
  assert.equal(Buffer.from(plain).toString(), text)
}

const pool = new pg.Pool({ max: 6 })
const sql = async (text, params) => (await pool.query(text, params)).rows

if (process.argv[2] === 'before') {
  for (const c of [...STORED, ...STREAMING, PEER]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  for (const c of STORED) {
    await sql('SELECT whatsapp_auth.session_import($1)', [JSON.stringify({ company_id: c, creds: sample.creds, keys: sample.keys })])
  }
  const stored = {}
  for (const c of STORED) stored[c] = (await sql(checksums, [c]))[0]

  // acme (the sample's identity) starts a Signal session with a fresh peer
  const acme = await openAccount(pool, 'acme', baileys, MAJOR)
  const peer = await createAccount(pool, PEER, baileys, MAJOR)
  const preKeyId = peer.creds.firstUnuploadedPreKeyId - 1
  const { [preKeyId]: preKey } = await peer.keys.get('pre-key', [String(preKeyId)])
  await acme.repository.injectE2ESession({ jid: JID_PEER, session: preKeyBundle(baileys, peer.creds, preKeyId, preKey) })
  for (let i = 0; i < 10; i++) {
    await send(acme, peer, JID_PEER, JID_ACME, `acme to peer #${i}`)
    await send(peer, acme, JID_ACME, JID_PEER, `peer to acme #${i}`)
  }

  const log = []
  const run = replay({ pool, companies: STREAMING, baileys, log })
  while (log.length < 400) {
    assert.deepEqual(run.errors, {}, 'errors during the replay')
    await sleep(5)
  }
  const ackedBefore = { ...run.acked }
  const client = await pool.connect()
  let accident
  try {
    await client.query('BEGIN')
    const [{ t, xid }] = (await client.query('SELECT clock_timestamp()::text AS t, pg_current_xact_id()::text AS xid')).rows
    const [atT] = (await client.query(checksums, ['acme'])).rows
    const [{ removed }] = (await client.query("SELECT whatsapp_auth.session_remove('acme') AS removed")).rows
    await client.query('COMMIT')
    accident = { t, xid, atT, removed: Number(removed) }
  } finally {
    client.release()
  }
  const ackedAtCommit = { ...run.acked }
  const inFlight = [...run.inFlight]
  const more = log.length
  while (log.length < more + 400) {
    assert.deepEqual(run.errors, {}, 'errors during the replay')
    await sleep(5)
  }
  assert.deepEqual(run.errors, {})
  // Stop here, mid-stream: a call in flight now may still commit.
  const ackedAfter = { ...run.acked }
  const inFlightAtEnd = [...run.inFlight]
  writeFileSync(process.env.PITR_STATE, JSON.stringify({ stored, accident, ackedBefore, ackedAtCommit, inFlight, ackedAfter, inFlightAtEnd }))
  console.log(`ok: acme, globex, initech hold the sample session (${accident.removed - 1} keys each); ` +
    `acme has a Signal session with ${PEER}; at ${accident.t} session_remove('acme') (xid ${accident.xid}) removed ` +
    `${accident.removed} rows while ${STREAMING.length} companies replayed the write stream ` +
    `(${Object.values(ackedBefore).reduce((a, b) => a + b)} calls before, ${Object.values(ackedAfter).reduce((a, b) => a + b)} by the end)`)
  process.exit(0)
}

if (process.argv[2] === 'after') {
  const drill = JSON.parse(readFileSync(process.env.PITR_STATE, 'utf8'))
  const [host, port] = process.env.PITR_RESTORED.split(':')
  const restored = new pg.Client({ host, port: Number(port) })
  await restored.connect()
  const [acmeThen] = (await restored.query(checksums, ['acme'])).rows
  assert.deepEqual(acmeThen, drill.accident.atT, 'acme in the restored cluster differs from its state at T')
  for (const c of ['globex', 'initech']) {
    assert.deepEqual((await restored.query(checksums, [c])).rows[0], drill.stored[c], `${c} differs in the restored cluster`)
  }
  const held = {}
  for (const c of STREAMING) {
    const from = drill.ackedBefore[c]
    const to = drill.ackedAtCommit[c] + (drill.inFlight.includes(c) ? 1 : 0)
    held[c] = await prefixHeld(restored, c, Array.from({ length: to - from + 1 }, (_, i) => from + i))
    assert.notEqual(held[c], null, `${c}: the restored state is no prefix of its stream between ${from} and ${to} calls`)
  }
  let started = Date.now()
  const [{ doc }] = (await restored.query("SELECT whatsapp_auth.session_export('acme')::text AS doc")).rows
  const exportMs = Date.now() - started
  await restored.end()
  console.log(`ok: restored to just before the accident: acme's creds and keys checksum-equal to their state at T ` +
    `(creds ${acmeThen.creds}, keys ${acmeThen.keys}); globex and initech as stored; the streaming companies at calls ` +
    `${STREAMING.map((c) => held[c]).join(', ')} (acknowledged before T: ${STREAMING.map((c) => drill.ackedBefore[c]).join(', ')}; ` +
    `after: ${STREAMING.map((c) => drill.ackedAfter[c]).join(', ')})`)

  started = Date.now()
  const [{ rows: n }] = await sql('SELECT whatsapp_auth.session_import($1, replace => true) AS rows', [doc])
  const importMs = Date.now() - started
  assert.deepEqual((await sql(checksums, ['acme']))[0], drill.accident.atT, 'acme in the live cluster differs from its state at T')
  for (const c of STREAMING) {
    const last = drill.ackedAfter[c]
    assert.notEqual(await prefixHeld(pool, c, drill.inFlightAtEnd.includes(c) ? [last, last + 1] : [last]), null,
      `${c} changed in the live cluster`)
  }
  const acme = await openAccount(pool, 'acme', baileys, MAJOR)
  const peer = await openAccount(pool, PEER, baileys, MAJOR)
  for (let i = 0; i < 5; i++) {
    await send(acme, peer, JID_PEER, JID_ACME, `acme back: to peer #${i}`)
    await send(peer, acme, JID_ACME, JID_PEER, `acme back: peer to acme #${i}`)
  }
  console.log(`ok: acme alone moved back into the live cluster (session_import replace => true, ${n} rows in ${importMs} ms), ` +
    'checksum-equal to T, the other companies untouched; its Signal session goes on: 5 messages each way decrypt')
  const restoreMs = Number(process.env.PITR_RESTORE_MS)
  console.log(`ok: RPO for acme: nothing (its creds and keys as at T); the last transaction the restore kept committed ` +
    `${process.env.PITR_RPO_MS} ms before the accident.  RTO: ${restoreMs + exportMs + importMs} ms from the ` +
    `search of the WAL to acme live again (restore ${restoreMs} ms, export ${exportMs} ms, import ${importMs} ms)`)
  for (const c of [...STORED, ...STREAMING, PEER]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  await pool.end()
}
