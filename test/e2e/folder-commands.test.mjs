// The README's two folder command lines, copied from it and run as they
// are: a folder Baileys wrote goes into the database as company acme, then
// comes back out as a new folder that Baileys loads as the same state.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import pg from 'pg'
import { loadBaileys, sessionText } from './baileys.mjs'

const pool = new pg.Pool({ max: 1 })
const cwd = mkdtempSync(join(tmpdir(), 'wa-commands-'))
after(async () => {
  await pool.query("SELECT whatsapp_auth.session_remove('acme')")
  await pool.end()
  rmSync(cwd, { recursive: true, force: true })
})

// The lines of the sh block under the README's "folder commands" marker.
function readmeCommands() {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const block = readme.split('<!-- folder commands')[1].split('```sh\n')[1].split('```')[0]
  return block.split('\n').filter((line) => line && !line.startsWith('#'))
}

test('the README\'s folder -> database and database -> folder commands, run verbatim', async () => {
  const [importCommand, exportCommand] = readmeCommands()
  assert.match(importCommand, /import acme auth_info_baileys$/)
  assert.match(exportCommand, /export acme auth_info_restored$/)
  await pool.query("SELECT whatsapp_auth.session_remove('acme')")

  // the script beside the adapter, as a user copies it (a link finds test/e2e's node_modules)
  symlinkSync(fileURLToPath(new URL('./whatsapp-auth-folder.mjs', import.meta.url)), join(cwd, 'whatsapp-auth-folder.mjs'))
  const baileys = await loadBaileys(7)
  const sample = JSON.parse(sessionText, baileys.BufferJSON.reviver)
  const source = await baileys.useMultiFileAuthState(join(cwd, 'auth_info_baileys'))
  Object.assign(source.state.creds, sample.creds)
  await source.saveCreds()
  await source.state.keys.set(sample.keys)
  const files = readdirSync(join(cwd, 'auth_info_baileys'))

  const run = (command) => execFileSync('bash', ['-ec', command], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  assert.equal(run(importCommand).trim(), `${files.length} rows written for acme`)
  const [{ n }] = (await pool.query("SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = 'acme'")).rows
  assert.equal(n, files.length - 1, 'every key file is a row')
  assert.throws(() => run(importCommand), /42710: company "acme" already has auth state/, 'an existing company is refused')

  assert.equal(run(exportCommand).trim(), `${files.length} files written to auth_info_restored`)
  assert.deepEqual(readdirSync(join(cwd, 'auth_info_restored')).sort(), [...files].sort(), 'the same file names')
  const restored = await baileys.useMultiFileAuthState(join(cwd, 'auth_info_restored'))
  const reopened = await baileys.useMultiFileAuthState(join(cwd, 'auth_info_baileys'))
  assert.deepStrictEqual(restored.state.creds, reopened.state.creds, 'the same creds')
  for (const [type, ids] of Object.entries(sample.keys)) {
    const [want, got] = [await source.state.keys.get(type, Object.keys(ids)), await restored.state.keys.get(type, Object.keys(ids))]
    assert.ok(isDeepStrictEqual(got, want), `${type}: every record equal`)
  }
  assert.throws(() => run(exportCommand), /auth_info_restored is not empty/, 'never into a folder that has files')
})
