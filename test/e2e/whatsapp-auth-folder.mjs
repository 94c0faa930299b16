// A useMultiFileAuthState folder into whatsapp_auth and back, one SQL call
// each way (session_import_files / session_export_files), with the `pg`
// pool the adapter uses.  As a command (connection from the PG* variables):
//   node whatsapp-auth-folder.mjs import <company_id> <folder> [--replace]
//   node whatsapp-auth-folder.mjs export <company_id> <new folder>
import { realpathSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

// Every file of the folder goes in: the server decides what is state and
// tells (a NOTICE) which files it skipped.
export async function importFolder(pool, companyId, folder, { replace = false } = {}) {
  const files = {}
  for (const name of await readdir(folder)) files[name] = await readFile(join(folder, name), 'utf8')
  const { rows } = await pool.query('SELECT whatsapp_auth.session_import_files($1, $2, $3)::int AS n',
    [companyId, JSON.stringify(files), replace])
  return rows[0].n
}

// Into a folder that is new or empty: never mixed with another state.
export async function exportFolder(pool, companyId, folder) {
  await mkdir(folder, { recursive: true })
  if ((await readdir(folder)).length > 0) throw new Error(`${folder} is not empty`)
  const { rows } = await pool.query(
    'SELECT file_name, content FROM whatsapp_auth.session_export_files($1)', [companyId])
  for (const { file_name: name, content } of rows) await writeFile(join(folder, name), content)
  return rows.length
}

// run as a command (also through a link), not when imported
if (import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const [command, companyId, folder, flag] = process.argv.slice(2)
  if (!['import', 'export'].includes(command) || !companyId || !folder) {
    console.error('usage: node whatsapp-auth-folder.mjs import <company_id> <folder> [--replace]\n' +
      '       node whatsapp-auth-folder.mjs export <company_id> <new folder>')
    process.exit(2)
  }
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ max: 1 })
  pool.on('connect', (client) => client.on('notice', (n) => console.error(`${n.message}${n.detail ? `\n${n.detail}` : ''}`)))
  try {
    const n = command === 'import'
      ? await importFolder(pool, companyId, folder, { replace: flag === '--replace' })
      : await exportFolder(pool, companyId, folder)
    console.log(command === 'import' ? `${n} rows written for ${companyId}` : `${n} files written to ${folder}`)
  } catch (e) {
    console.error(`${e.code ? `${e.code}: ` : ''}${e.message}`)
    process.exitCode = 1
  } finally {
    await pool.end()
  }
}
