// Folder benchmark: session_import_files / session_export_files of the
// sample session's useMultiFileAuthState folder against session_import /
// session_export of the same state as one document, in turns, in one run.
// Every figure is a median of the rounds, with its range; nothing passes or
// fails.  Run through test/bench/files (it starts the cluster and sets PG*).
import { createRequire } from 'node:module'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../e2e/package.json', import.meta.url))
const pg = require('pg')
const baileys = require('baileys6')

const ROUNDS = Number(process.env.ROUNDS ?? 15)
const text = readFileSync(process.env.WHATSAPP_AUTH_SESSION, 'utf8')
const session = JSON.parse(text, baileys.BufferJSON.reviver)

// The folder as Baileys writes it, then read back as a user's script would.
const dir = mkdtempSync(join(tmpdir(), 'bench-folder-'))
const { state, saveCreds } = await baileys.useMultiFileAuthState(dir)
Object.assign(state.creds, session.creds)
await saveCreds()
await state.keys.set(session.keys)
const files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
rmSync(dir, { recursive: true })
const filesText = JSON.stringify(files)
const plain = JSON.parse(text)
const docText = (company) => JSON.stringify({ company_id: company, creds: plain.creds, keys: plain.keys })

const pool = new pg.Pool({ max: 1 })
const db = await pool.connect()
const timed = async (sql, values) => {
  const t0 = process.hrtime.bigint()
  const { rows } = await db.query(sql, values)
  return [Number(process.hrtime.bigint() - t0) / 1e6, rows]
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const range = (xs, digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`

const t = { importFiles: [], importDoc: [], exportFiles: [], exportDoc: [], ratioImport: [], ratioExport: [] }
for (let round = 0; round < ROUNDS; round++) {
  await db.query("SELECT whatsapp_auth.session_remove(c) FROM unnest(ARRAY['bench_files', 'bench_doc']) c")
  await db.query('VACUUM whatsapp_auth.keys')
  await db.query('CHECKPOINT')
  // in turns: each goes first in half of the rounds
  const order = round % 2 === 0 ? ['files', 'doc'] : ['doc', 'files']
  for (const which of order) {
    if (which === 'files') {
      const [ms, rows] = await timed('SELECT whatsapp_auth.session_import_files($1, $2) AS n', ['bench_files', filesText])
      if (Number(rows[0].n) !== Object.keys(files).length) throw new Error(`imported ${rows[0].n} rows`)
      t.importFiles.push(ms)
    } else {
      const [ms] = await timed('SELECT whatsapp_auth.session_import($1)', [docText('bench_doc')])
      t.importDoc.push(ms)
    }
  }
  for (const which of order) {
    if (which === 'files') {
      const [ms, rows] = await timed('SELECT file_name, content FROM whatsapp_auth.session_export_files($1)', ['bench_files'])
      if (rows.length !== Object.keys(files).length) throw new Error(`exported ${rows.length} files`)
      t.exportFiles.push(ms)
    } else {
      const [ms] = await timed('SELECT whatsapp_auth.session_export($1)::text AS doc', ['bench_doc'])
      t.exportDoc.push(ms)
    }
  }
  t.ratioImport.push(t.importFiles.at(-1) / t.importDoc.at(-1))
  t.ratioExport.push(t.exportFiles.at(-1) / t.exportDoc.at(-1))
}
db.release()
await pool.end()

const n = Object.keys(files).length
console.log(`sample folder: ${n} files (${n - 1} keys + creds.json), ${(filesText.length / 1e6).toFixed(2)} MB as the files argument; ${ROUNDS} rounds, medians (ranges)`)
console.log('| figure | files | document | ratio (median of rounds) | target | ratio range |')
console.log('|---|---|---|---|---|---|')
console.log(`| import of the sample folder (ms): \`session_import_files\` vs \`session_import\` | ${median(t.importFiles).toFixed(1)} (${range(t.importFiles)}) | ${median(t.importDoc).toFixed(1)} (${range(t.importDoc)}) | ${median(t.ratioImport).toFixed(2)}× | ≤ 1.5× | ${range(t.ratioImport, 2)}× |`)
console.log(`| export (ms): \`session_export_files\` vs \`session_export\` | ${median(t.exportFiles).toFixed(1)} (${range(t.exportFiles)}) | ${median(t.exportDoc).toFixed(1)} (${range(t.exportDoc)}) | ${median(t.ratioExport).toFixed(2)}× | ≤ 1.5× | ${range(t.ratioExport, 2)}× |`)
