// Baileys' own useMultiFileAuthState folders and whatsapp_auth, both ways,
// with each Baileys major: two accounts talk on folders, A's folder is
// imported (session_import_files) and A goes on through the adapter, then
// A's state is exported (session_export_files) to a new folder and A goes on
// from Baileys' own folder store.  Baileys' migrateAuthState (develop) copies
// folder -> whatsapp_auth -> folder; the samples round-trip through files;
// bad folders are refused with their SQLSTATE and nothing written; the
// adapter's keys.list / keys.listIds page through a type in id order.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import pg from 'pg'
import { MAJORS, loadBaileys, sessionText, sessionV7Text } from './baileys.mjs'
import { openState, openAccount, initAccount, preKeyBundle, send, sendToGroup } from './signal.mjs'
import { useWhatsappAuthState } from './use-whatsapp-auth-state.mjs'
import { importFolder, exportFolder } from './whatsapp-auth-folder.mjs'
import { migrateAuthState, withFolderListing } from './migrate-auth-state.mjs'

const pool = new pg.Pool({ max: 4 })
const folders = []
after(async () => {
  await pool.end()
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})
const sql = async (text, params) => (await pool.query(text, params)).rows
const newFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'wa-files-'))
  folders.push(dir)
  return dir
}
const jsonFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.json'))
const keyRows = async (company) => (await sql(
  'SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = $1', [company]))[0].n
const exported = async (company) => (await sql(
  'SELECT file_name, content FROM whatsapp_auth.session_export_files($1) ORDER BY file_name', [company]))
const forget = async (...companies) => {
  for (const c of companies) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
}

const JID_A = '79001111111@s.whatsapp.net'
const JID_B = '79002222222@s.whatsapp.net'
const TYPES = ['pre-key', 'session', 'sender-key', 'sender-key-memory', 'app-state-sync-key',
  'app-state-sync-version', 'lid-mapping', 'device-list', 'tctoken', 'identity-key']

// A sample state written by Baileys' own useMultiFileAuthState.
async function writeSampleFolder(baileys, text, dir) {
  const sample = JSON.parse(text, baileys.BufferJSON.reviver)
  const { state, saveCreds } = await baileys.useMultiFileAuthState(dir)
  Object.assign(state.creds, sample.creds)
  await saveCreds()
  await state.keys.set(sample.keys)
  return sample
}

// Every record of a store as Baileys reads it, type by type.
async function records(keys, ids) {
  const out = {}
  for (const [type, list] of Object.entries(ids)) out[type] = await keys.get(type, list)
  return out
}

// The records that differ, named (the values are too long to print).
function assertSameRecords(actual, expected, what) {
  const differ = []
  for (const type of Object.keys({ ...expected, ...actual })) {
    for (const id of Object.keys({ ...expected[type], ...actual[type] })) {
      if (!isDeepStrictEqual(actual[type]?.[id], expected[type]?.[id])) differ.push(`${type}:${id}`)
    }
  }
  assert.deepEqual(differ.slice(0, 20), [], `${what}: ${differ.length} records differ`)
}

for (const major of MAJORS) {
  test(`Baileys ${major}: folder accounts talk, move into whatsapp_auth, go on, and move back to a folder`, async (t) => {
    const baileys = await loadBaileys(major)
    const company = `files_a_v${major}_${process.pid}`
    await forget(company)
    const onFolder = async (dir) => openState(await baileys.useMultiFileAuthState(dir), baileys, major)
    const dirA = newFolder()
    let a = await initAccount(await onFolder(dirA), baileys)
    const b = await initAccount(await onFolder(newFolder()), baileys)

    await t.test('on Baileys\' own folders: a session from B\'s bundle, messages both ways, group messages', async () => {
      const preKeyId = b.creds.firstUnuploadedPreKeyId - 1
      const { [preKeyId]: preKey } = await b.keys.get('pre-key', [String(preKeyId)])
      await a.repository.injectE2ESession({ jid: JID_B, session: preKeyBundle(baileys, b.creds, preKeyId, preKey) })
      assert.equal(await send(a, b, JID_B, JID_A, 'hello B, first message'), 'pkmsg')
      for (let i = 0; i < 10; i++) {
        await send(b, a, JID_A, JID_B, `B to A #${i}`)
        await send(a, b, JID_B, JID_A, `A to B #${i}`)
      }
      await sendToGroup(a, JID_A, [b], 'group from A on folders')
      await sendToGroup(b, JID_B, [a], 'group from B on folders')
    })

    await t.test('A\'s folder is imported with one session_import_files call; A goes on through the adapter', async () => {
      const files = jsonFiles(dirA)
      assert.ok(files.some((f) => f.startsWith('sender-key-') && f.includes('--')), 'a sender key with "::" in its id')
      assert.equal(await importFolder(pool, company, dirA), files.length, 'one row per .json file')
      a = await openAccount(pool, company, baileys, major)
      for (let i = 0; i < 10; i++) {
        assert.equal(await send(a, b, JID_B, JID_A, `after import A to B #${i}`), 'msg')
        await send(b, a, JID_A, JID_B, `after import B to A #${i}`)
      }
      // from the sender keys each side already holds: A's came from the folder
      await sendToGroup(b, JID_B, [a], 'group from B after the import', { distribute: false })
      await sendToGroup(a, JID_A, [b], 'group from A after the import', { distribute: false })
    })

    await t.test('exported to a new folder, Baileys\' own useMultiFileAuthState loads it and A goes on', async () => {
      const dirA2 = newFolder()
      const started = performance.now()
      const written = await exportFolder(pool, company, dirA2)
      const loaded = await baileys.useMultiFileAuthState(dirA2)
      const rollbackMs = performance.now() - started
      t.diagnostic(`rollback of the test account (${written} files): ${rollbackMs.toFixed(1)} ms`)
      assert.equal(written, await keyRows(company) + 1)
      assert.deepStrictEqual(loaded.state.creds, a.creds, 'the same creds')
      a = await openState(loaded, baileys, major)
      for (let i = 0; i < 10; i++) {
        assert.equal(await send(a, b, JID_B, JID_A, `after export A to B #${i}`), 'msg')
        await send(b, a, JID_A, JID_B, `after export B to A #${i}`)
      }
      await sendToGroup(b, JID_B, [a], 'group from B after the export', { distribute: false })
      await sendToGroup(a, JID_A, [b], 'group from A after the export', { distribute: false })
    })
    await forget(company)
  })

  test(`Baileys ${major}: migrateAuthState (develop) folder -> whatsapp_auth, again, -> folder`, async () => {
    const baileys = await loadBaileys(major)
    const company = `files_mig_v${major}_${process.pid}`
    await forget(company)
    const source = newFolder()
    const sample = await writeSampleFolder(baileys, sessionV7Text(), source)
    const from = withFolderListing(source, await baileys.useMultiFileAuthState(source)).state
    const db = await useWhatsappAuthState(pool, company, baileys)

    const first = await migrateAuthState({ from: from, to: db.state, verify: true })
    await db.saveCreds()
    assert.deepEqual(first.warnings, [])
    assert.equal(first.verified, true)
    for (const type of TYPES) {
      assert.equal(first.counts[type], Object.keys(sample.keys[type]).length, `${type} copied`)
    }
    const before = await sql(`SELECT key_type, key_id, value, updated_at FROM whatsapp_auth.keys
                               WHERE company_id = $1 ORDER BY 1, 2`, [company])

    const again = await migrateAuthState({ from: from, to: (await useWhatsappAuthState(pool, company, baileys)).state, verify: true })
    assert.equal(again.verified, true)
    assert.deepEqual(again.warnings, [])
    assert.deepEqual(Object.values(again.counts), TYPES.map(() => 0), 'nothing copied twice')
    assert.deepEqual(await sql(`SELECT key_type, key_id, value, updated_at FROM whatsapp_auth.keys
                                 WHERE company_id = $1 ORDER BY 1, 2`, [company]), before, 'no row rewritten')

    const target = newFolder()
    const back = withFolderListing(target, await baileys.useMultiFileAuthState(target))
    const out = await migrateAuthState({ from: (await useWhatsappAuthState(pool, company, baileys)).state, to: back.state, verify: true })
    await back.saveCreds()
    assert.equal(out.verified, true)
    assert.deepEqual(out.warnings, [])

    // every record equal: the source folder and the new one, read by Baileys
    const ids = Object.fromEntries(TYPES.map((type) => [type, Object.keys(sample.keys[type])]))
    const reread = (dir) => baileys.useMultiFileAuthState(dir)
    const [src, dst] = [await reread(source), await reread(target)]
    assertSameRecords(await records(dst.state.keys, ids), await records(src.state.keys, ids), 'folder -> whatsapp_auth -> folder')
    assert.deepStrictEqual(dst.state.creds, src.state.creds, 'the same creds')
    assert.deepEqual(jsonFiles(target).sort(), jsonFiles(source).sort(), 'the same file names')
    await forget(company)
  })

  test(`Baileys ${major}: the samples round-trip through files, and Baileys loads the export as the same state`, async () => {
    const baileys = await loadBaileys(major)
    for (const [name, text] of [['session.json', sessionText], ['session-v7.json', sessionV7Text()]]) {
      const [c1, c2] = [`files_rt1_v${major}_${process.pid}`, `files_rt2_v${major}_${process.pid}`]
      await forget(c1, c2)
      const sample = JSON.parse(text)
      await sql('SELECT whatsapp_auth.session_import($1)',
        [JSON.stringify({ company_id: c1, creds: sample.creds, keys: sample.keys })])
      const first = await exported(c1)
      await sql(`SELECT whatsapp_auth.session_import_files($1,
                   (SELECT jsonb_object_agg(file_name, content) FROM whatsapp_auth.session_export_files($2)))`, [c2, c1])
      assert.deepEqual(await exported(c2), first, `${name}: export -> import under another company -> export`)

      const dir = newFolder()
      await exportFolder(pool, c2, dir)
      const { state } = await baileys.useMultiFileAuthState(dir)
      const revived = JSON.parse(text, baileys.BufferJSON.reviver)
      const ids = Object.fromEntries(Object.keys(revived.keys).map((type) => [type, Object.keys(revived.keys[type])]))
      const expected = {}
      for (const [type, list] of Object.entries(ids)) {
        expected[type] = Object.fromEntries(list.map((id) => {
          const v = revived.keys[type][id]
          return [id, type === 'app-state-sync-key' ? baileys.proto.Message.AppStateSyncKeyData.fromObject(v) : v]
        }))
      }
      assertSameRecords(await records(state.keys, ids), expected, `${name}: Baileys ${major} loads every key as it was`)
      assert.deepStrictEqual(state.creds, revived.creds, `${name}: the same creds`)
      await forget(c1, c2)
    }
  })
}

test('bad folders: each refused with its SQLSTATE, nothing written', async () => {
  const baileys = await loadBaileys(7)
  const company = `files_bad_${process.pid}`
  await forget(company)
  const dir = newFolder()
  await writeSampleFolder(baileys, sessionText, dir)
  const good = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
  const preKey = Object.keys(good).find((f) => f.startsWith('pre-key-'))
  const cases = [
    ['an unknown .json name', { ...good, 'pre-keys-1.json': '{}' }, '22023', /file name "pre-keys-1.json" is not one/],
    ['a name that needs a guess', { ...good, 'session-79001-12.0.json': '{}' }, '22023', /cannot be decoded without guessing/],
    ['a torn file', { ...good, [preKey]: good[preKey].slice(0, 40) }, '22P02', new RegExp(`file "${preKey}" is not JSON`)],
    ['a malformed Buffer', { ...good, [preKey]: good[preKey].replace(/"data":"[^"]*"/, '"data":[1,2,300]') },
      '22P02', new RegExp(`malformed Buffer node at \\$\\."${preKey}"\\.[a-zA-Z]+\\.data\\[2\\]`)],
    ['no creds.json', Object.fromEntries(Object.entries(good).filter(([f]) => f !== 'creds.json')), '22023', /no "creds.json"/],
    ['creds.json not an object', { ...good, 'creds.json': '[1]' }, '22023', /"creds.json" must hold a JSON object/],
  ]
  for (const [what, files, code, message] of cases) {
    await assert.rejects(sql('SELECT whatsapp_auth.session_import_files($1, $2)', [company, JSON.stringify(files)]),
      (e) => { assert.equal(e.code, code, what); assert.match(e.message, message, what); return true })
    assert.equal(await keyRows(company), 0, `${what}: nothing written`)
  }
  assert.equal(await importFolder(pool, company, dir), Object.keys(good).length)
  await assert.rejects(importFolder(pool, company, dir), (e) => e.code === '42710')
  // leftovers are skipped, with one NOTICE naming them
  writeFileSync(join(dir, `${preKey}.tmp`), '{')
  writeFileSync(join(dir, 'creds.json.bak'), '')
  const client = await pool.connect()
  const notices = []
  client.on('notice', (n) => notices.push(n))
  try {
    await importFolder({ query: (...args) => client.query(...args) }, company, dir, { replace: true })
  } finally {
    client.release()
  }
  assert.equal(notices.length, 1)
  assert.match(notices[0].message, /skipped 2 files/)
  assert.match(notices[0].detail, new RegExp(`"creds.json.bak", "${preKey}.tmp"`))
  await forget(company)
})

test('the adapter\'s keys.list and keys.listIds: id order, pages of 1,000, expired keys left out, values as get gives them', async () => {
  const baileys = await loadBaileys(7)
  const company = `files_list_${process.pid}`
  await forget(company)
  const sample = JSON.parse(sessionV7Text())
  await sql('SELECT whatsapp_auth.session_import($1)', [JSON.stringify({ company_id: company, creds: sample.creds, keys: sample.keys })])
  const expired = Object.keys(sample.keys.session).slice(0, 5)
  await sql(`UPDATE whatsapp_auth.keys SET expires_at = now() - interval '1 second'
              WHERE company_id = $1 AND key_type = 'session' AND key_id = ANY($2)`, [company, expired])
  // the statements the adapter sends, by name
  const sent = []
  const counting = { query: (q) => { sent.push(q.name); return pool.query(q) } }
  const { state } = await useWhatsappAuthState(counting, company, baileys)
  const bytewise = (x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))
  for (const type of TYPES) {
    const ids = []
    for await (const id of state.keys.listIds(type)) ids.push(id)
    let want = Object.keys(sample.keys[type])
    if (type === 'session') want = want.filter((id) => !expired.includes(id))
    assert.deepEqual(ids, [...want].sort(bytewise), `${type}: every live id once, in id order`)
    const listed = []
    for await (const [id, value] of state.keys.list(type)) listed.push([id, value])
    assert.deepEqual(listed.map(([id]) => id), ids)
    const got = await state.keys.get(type, ids)
    for (const [id, value] of listed) assert.deepEqual(value, got[id], `${type} ${id}: revived as get revives it`)
  }
  const live = Object.keys(sample.keys.session).length - expired.length
  assert.ok(live > 1000 && live < 2000, 'sessions span two pages')
  sent.length = 0
  for await (const id of state.keys.listIds('session')) assert.ok(id)
  for await (const [id] of state.keys.list('session')) assert.ok(id)
  assert.deepEqual(sent, ['whatsapp_auth_keys_page_ids', 'whatsapp_auth_keys_page_ids',
    'whatsapp_auth_keys_page', 'whatsapp_auth_keys_page'], 'a page of 1,000 per call, never the whole type')
  assert.deepEqual(await state.keys.get('session', [expired[0], 'no-such-id']), {}, 'get leaves missing and expired ids out')
  for await (const [, value] of state.keys.list('app-state-sync-key')) {
    assert.ok(value instanceof baileys.proto.Message.AppStateSyncKeyData)
  }
  await forget(company)
})

test('rollback time: export + write the files + Baileys loads the folder', async (t) => {
  const baileys = await loadBaileys(7)
  const sample = JSON.parse(sessionText)
  const big = structuredClone(sample.keys)
  const value = Object.values(sample.keys.session)[0]
  const total = () => Object.values(big).reduce((n, ids) => n + Object.keys(ids).length, 0)
  for (let i = 0; total() < 10000; i++) big.session[`7900500${String(i).padStart(4, '0')}.0`] = value
  for (const [label, keys] of [['the sample account', sample.keys], ['an account of 10,000 keys', big]]) {
    const company = `files_rollback_${process.pid}`
    await forget(company)
    await sql('SELECT whatsapp_auth.session_import($1)', [JSON.stringify({ company_id: company, creds: sample.creds, keys })])
    const dir = newFolder()
    const started = performance.now()
    const files = await exportFolder(pool, company, dir)
    const { state } = await baileys.useMultiFileAuthState(dir)
    const ms = performance.now() - started
    assert.equal(state.creds.registrationId, sample.creds.registrationId)
    assert.equal(files, 1 + Object.values(keys).reduce((n, ids) => n + Object.keys(ids).length, 0))
    t.diagnostic(`rollback of ${label} (${files} files): ${ms.toFixed(0)} ms`)
    await forget(company)
  }
})
