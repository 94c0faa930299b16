// Concurrent keys_set calls on overlapping keys, each listing the keys in
// a different order, never deadlock (40P01) and never hit "cannot affect
// row a second time": every call writes its rows in one sorted order.
// After the storm every key holds a value some call wrote last.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'

const pool = new pg.Pool({ max: 8 })
after(() => pool.end())
const company = `conc_${process.pid}`
const ids = Array.from({ length: 40 }, (_, i) => `7900${String(i).padStart(7, '0')}.0`)

// {session: {...}, pre-key: {...}} with the ids in the order given
function document(order, writer, round) {
  const data = { session: {}, 'pre-key': {} }
  for (const i of order) {
    data.session[ids[i]] = { writer, round }
    data['pre-key'][String(i)] = round % 5 === 4 && i % 3 === 0 ? null : { writer, round }
  }
  return JSON.stringify(data)
}

test('8 writers, overlapping keys in opposite orders, no deadlock', async () => {
  await pool.query('SELECT whatsapp_auth.session_remove($1)', [company])
  const forward = ids.map((_, i) => i)
  const orders = [forward, [...forward].reverse(), forward.filter((i) => i % 2).concat(forward.filter((i) => i % 2 === 0))]
  const errors = []
  await Promise.all(Array.from({ length: 8 }, async (_, writer) => {
    for (let round = 0; round < 40; round++) {
      try {
        await pool.query('SELECT * FROM whatsapp_auth.keys_set($1, $2)',
          [company, document(orders[(writer + round) % orders.length], writer, round)])
      } catch (err) {
        errors.push(`${err.code}: ${err.message}`)
      }
    }
  }))
  assert.deepEqual(errors, [])
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n, count(DISTINCT value)::int AS distinct_values
       FROM whatsapp_auth.keys WHERE company_id = $1 AND key_type = 'session'`, [company])
  assert.equal(rows[0].n, ids.length)
  await pool.query('SELECT whatsapp_auth.session_remove($1)', [company])
})
