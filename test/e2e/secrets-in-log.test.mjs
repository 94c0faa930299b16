// Nothing secret reaches the server log.  Calls that fail in every way a
// client can make them fail carry real key material from the sample
// session (as bind parameters, as the adapter sends them); afterwards the
// whole server log, including what the suites before wrote, holds none of
// the session's Buffer payloads.  Needs WHATSAPP_AUTH_SERVER_LOG (test/check
// sets it); skipped without it.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import pg from 'pg'
import { sessionText } from './baileys.mjs'

const LOG = process.env.WHATSAPP_AUTH_SERVER_LOG
const session = JSON.parse(sessionText)
const company = `logs_${process.pid}`
const pool = new pg.Pool({ max: 3 })
after(() => pool.end())

// Every Buffer payload of the session: base64 text, and the start of its
// byte-array form (what a client on Node's default JSON would send); and
// every base64 string value (session records keep keys that way).
function secrets() {
  const found = new Set()
  const walk = (node) => {
    if (node && typeof node === 'object') {
      if (node.type === 'Buffer' && typeof node.data === 'string') {
        if (node.data.length >= 16) {
          found.add(node.data.slice(0, 24))
          const bytes = Buffer.from(node.data, 'base64')
          found.add(Array.from(bytes.subarray(0, 8)).join(','))
        }
        return
      }
      Object.values(node).forEach(walk)
    } else if (typeof node === 'string' && /^[A-Za-z0-9+/]{32,}={0,2}$/.test(node)) {
      found.add(node.slice(0, 24)) // libsignal's session records hold keys as base64 strings
    }
  }
  walk(session.creds)
  walk(session.keys)
  return [...found]
}

const toByteArrays = (node) => JSON.parse(JSON.stringify(node), (k, v) =>
  v && v.type === 'Buffer' && typeof v.data === 'string' ? { type: 'Buffer', data: [...Buffer.from(v.data, 'base64')] } : v)

test('failing calls with real key material leave none of it in the server log', { skip: !LOG && 'WHATSAPP_AUTH_SERVER_LOG not set' }, async () => {
  const start = statSync(LOG).size
  const [sessionId, sessionValue] = Object.entries(session.keys.session)[0]
  const [preKeyId, preKey] = Object.entries(session.keys['pre-key'])[0]
  const realBuffer = preKey.private.data
  const marker = `log_marker_${process.pid}!`
  const failures = []
  const expectFailure = async (code, sql, params, client = pool) => {
    await assert.rejects(client.query(sql, params), (err) => {
      failures.push(err.code)
      assert.equal(err.code, code, `${sql}: ${err.message}`)
      return true
    })
  }

  await pool.query('SELECT whatsapp_auth.session_remove($1)', [company])
  await pool.query('SELECT whatsapp_auth.keys_set($1, $2)', [company, { session: { [sessionId]: sessionValue } }])

  // malformed Buffer next to a real session value, base64 and byte-array forms
  await expectFailure('22P02', 'SELECT whatsapp_auth.keys_set($1, $2)',
    [company, { session: { [sessionId]: sessionValue, x: { k: { type: 'Buffer', data: `${realBuffer.slice(0, 20)}*${realBuffer.slice(21)}` } } } }])
  const arrays = toByteArrays(preKey)
  arrays.private.data.push(256)
  await expectFailure('22P02', 'SELECT whatsapp_auth.keys_set($1, $2)', [company, { 'pre-key': { [preKeyId]: arrays } }])
  await expectFailure('22P02', 'SELECT whatsapp_auth.buffer_decode($1)',
    [{ type: 'Buffer', data: `${realBuffer.slice(0, 10)}%${realBuffer.slice(11)}` }])
  // bad company, bad shape, bad arguments, all with the real creds or keys
  await expectFailure('22023', 'SELECT whatsapp_auth.creds_set($1, $2)', [marker, session.creds])
  await expectFailure('22023', 'SELECT whatsapp_auth.creds_set($1, $2)', [company, JSON.stringify([session.creds])])
  await expectFailure('22023', 'SELECT whatsapp_auth.keys_upsert($1, $2, $3, $4)',
    [company, 'session', [sessionId, 'other'], [sessionValue]])
  await expectFailure('22023', 'SELECT whatsapp_auth.keys_set($1, $2)', [company, JSON.stringify({ session: [sessionValue] })])
  // a value over the size limit
  const limited = await pool.connect()
  try {
    await limited.query('SET whatsapp_auth.max_value_size = 1024')
    await expectFailure('54000', 'SELECT whatsapp_auth.keys_set($1, $2)', [company, { session: { [sessionId]: sessionValue } }], limited)
    await limited.query('RESET whatsapp_auth.max_value_size')
  } finally {
    limited.release()
  }
  // a Baileys folder with a torn file (the text stops inside a real key) and
  // one with a malformed Buffer beside real ones
  const torn = { 'creds.json': JSON.stringify(session.creds), [`pre-key-${preKeyId}.json`]: JSON.stringify(preKey).slice(0, 70) }
  await expectFailure('22P02', 'SELECT whatsapp_auth.session_import_files($1, $2)', [company, JSON.stringify(torn)])
  const bad = { 'creds.json': JSON.stringify(session.creds), [`pre-key-${preKeyId}.json`]: JSON.stringify(arrays) }
  await expectFailure('22P02', 'SELECT whatsapp_auth.session_import_files($1, $2)', [company, JSON.stringify(bad)])
  // a whole session imported over an existing company
  const doc = { company_id: company, creds: session.creds, keys: session.keys }
  await expectFailure('42710', 'SELECT whatsapp_auth.session_import($1)', [doc])
  // an error inside the extension's own SQL: a lock timeout on a held key
  const holder = await pool.connect()
  const waiter = await pool.connect()
  try {
    await holder.query('BEGIN')
    await holder.query('SELECT whatsapp_auth.keys_set($1, $2)', [company, { session: { [sessionId]: sessionValue } }])
    await waiter.query("SET lock_timeout = '100ms'")
    await expectFailure('55P03', 'SELECT whatsapp_auth.keys_set($1, $2)', [company, { session: { [sessionId]: sessionValue } }], waiter)
    await holder.query('ROLLBACK')
  } finally {
    holder.release()
    waiter.release()
  }
  await pool.query('SELECT whatsapp_auth.session_remove($1)', [company])

  const log = readFileSync(LOG, 'utf8')
  const fresh = log.slice(start)
  // the failures above are in this log (logging works and this is the server's log)
  assert.ok(fresh.includes(`invalid company_id "${marker}"`), 'the marker error is not in the server log')
  assert.ok((fresh.match(/ERROR: {2}/g) ?? []).length >= failures.length,
    `${failures.length} failures but fewer ERROR lines in the log`)
  const leaked = secrets().filter((s) => log.includes(s))
  assert.deepEqual(leaked, [], `key material in the server log: ${leaked.slice(0, 3).join(' | ')}`)
  console.log(`# ${failures.length} failing calls (${[...new Set(failures)].join(', ')}); ` +
    `${secrets().length} payload fragments searched in ${log.length} bytes of server log: none found`)
})
