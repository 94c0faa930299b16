// The adapter's retry rules without stopping the server (the restart and
// failover drills are test/ride_through_test and test/failover_test): an
// error from the data reaches the caller at once, as the server raised it,
// after one attempt; what counts as "the database went away"; and a pool
// built with primaryClient() passes over a host that is down.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import pg from 'pg'
import { useWhatsappAuthState, wentAway, primaryClient } from './use-whatsapp-auth-state.mjs'
import { loadBaileys } from './baileys.mjs'

const pool = new pg.Pool({ max: 2 })
after(() => pool.end())
const baileys = await loadBaileys(6)
const company = `retry_${process.pid}`

// The adapter sees only pool.query: count the calls it sends.
function countingPool() {
  const counting = { sent: 0, query: (config) => { counting.sent++; return pool.query(config) } }
  return counting
}

test('errors from the data reach the caller at once, unchanged, after one attempt', async () => {
  const counting = countingPool()
  const { state } = await useWhatsappAuthState(counting, company, baileys)
  const cases = [
    [{ session: { '': { a: 1 } } }, '22023'],                                    // empty key id
    [{ 'Pre Key': { 1: { a: 1 } } }, '22023'],                                   // bad key type
    [[1, 2], '22023'],                                                           // not an object
  ]
  for (const [data, code] of cases) {
    const before = counting.sent
    const started = Date.now()
    await assert.rejects(state.keys.set(data), (err) => {
      assert.equal(err.code, code)
      assert.ok(!/database was away/.test(err.message), 'a data error was reported as the database going away')
      return true
    })
    assert.equal(counting.sent - before, 1, `a ${code} error was sent again`)
    assert.ok(Date.now() - started < 1000, `a ${code} error waited for a retry`)
  }
})

test('a pinned session refused with 42501 is not retried', async () => {
  const client = await pool.connect()
  try {
    await client.query("SELECT set_config('whatsapp_auth.company_id', 'someone_else', false)")
    const one = { sent: 0, query: (config) => { one.sent++; return client.query(config) } }
    await assert.rejects(useWhatsappAuthState(one, company, baileys), { code: '42501' })
    assert.equal(one.sent, 1, 'a 42501 error was sent again')
  } finally {
    await client.query("RESET whatsapp_auth.company_id")
    client.release()
  }
})

test('what counts as the database going away', () => {
  for (const code of ['08006', '08001', '08P01', '57P01', '57P02', '57P03', '25006',
    'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOENT']) {
    assert.equal(wentAway({ code }), true, code)
  }
  assert.equal(wentAway(new Error('Connection terminated unexpectedly')), true)
  for (const code of ['22023', '22P02', '22004', '42501', '55000', '55P03', '54000', '42710', '23505', '40001', '57014']) {
    assert.equal(wentAway({ code }), false, code)
  }
  assert.equal(wentAway(new TypeError('x is not a function')), false)
})

test('a pool of primaryClient passes over a host that is down', async () => {
  // a port nothing listens on: bound, then closed
  const closed = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
  const hosts = [{ host: '127.0.0.1', port: closed }, { host: process.env.PGHOST, port: Number(process.env.PGPORT ?? 5432) }]
  const ha = new pg.Pool({ max: 1, Client: primaryClient(pg.Client, hosts) })
  try {
    const { state } = await useWhatsappAuthState(ha, company, baileys)
    await state.keys.set({ session: { '1.0': { n: 1 } } })
    assert.deepEqual(await state.keys.get('session', ['1.0']), { '1.0': { n: 1 } })
    await assert.rejects(useWhatsappAuthState(ha, company, baileys, { retryForMs: 0 }).then(() => ha.query('SELECT 1/0')),
      { code: '22012' })
  } finally {
    await ha.end()
    await pool.query('SELECT whatsapp_auth.session_remove($1)', [company])
  }
})
