import { readFileSync } from 'fs'
import pg from 'pg'
import { BufferJSON } from 'baileys6'
const session = JSON.parse(readFileSync(process.env.S, 'utf8'), BufferJSON.reviver)
const pool = new pg.Pool({ max: 4 })
const canonical = (value) => JSON.stringify(value, BufferJSON.replacer)
const ext = async (db, company, data) => {
  const text = JSON.stringify(data, BufferJSON.replacer)
  await db.query({ name: 'wa_keys_set', text: 'SELECT whatsapp_auth.keys_set($1, $2)', values: [company, text] })
}
const prep = (data) => { const rows = []; for (const [type, ids] of Object.entries(data)) for (const [id, value] of Object.entries(ids)) rows.push([type, id, canonical(value)]); return rows }
const flo = async (db, company, rows) => {
  if (rows.length > 1) await db.query('BEGIN')
  for (const [type, id, text] of rows) await db.query({ name: 'floor_upsert', text: `INSERT INTO bench.floor_keys (company_id, key_type, key_id, value, updated_at, expires_at)
       VALUES ($1, $2, $3, $4, now(), now() + interval '7 days') ON CONFLICT (company_id, key_type, key_id) DO UPDATE
       SET value = excluded.value, updated_at = excluded.updated_at, expires_at = excluded.expires_at`, values: [company, type, id, text] })
  if (rows.length > 1) await db.query('COMMIT')
}
const which = process.argv[2], prefix = process.argv[3]
const writes = which === 'flo' ? session.writes.map(prep) : session.writes
const run = which === 'flos' ? (db, c, w) => flo(db, c, prep(w)) : which === 'flo' ? flo : ext
const t0 = Date.now()
await Promise.all([0, 1, 2, 3].map(async (i) => { const db = await pool.connect(); for (const w of writes) await run(db, prefix + i, w); db.release() }))
const n = 4 * session.writes.reduce((n, w) => n + Object.values(w).reduce((m, ids) => m + Object.keys(ids).length, 0), 0)
console.log(which, Math.round(n / (Date.now() - t0) * 1000), 'keys/s')
await pool.end()
