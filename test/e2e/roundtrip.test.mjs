// The sample session through the SQL API with real Baileys code, for each
// Baileys major: creds and every key stored with the reference adapter,
// the recorded write stream replayed, everything read back and revived with
// Baileys' own BufferJSON.reviver, and compared with the original.  Then the
// same values written as Node's default JSON.stringify produces them
// (Buffers as byte arrays) and as Uint8Array objects: the stored result must
// be identical, byte for byte.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { useWhatsappAuthState } from './use-whatsapp-auth-state.mjs'
import { MAJORS, loadBaileys, sessionText } from './baileys.mjs'


const pool = new pg.Pool({ max: 4 })
after(() => pool.end())

const sql = async (text, params) => (await pool.query(text, params)).rows

// The state the store must hold: the keys, then every write in order.
function expectedKeys(session) {
  const keys = structuredClone(session.keys)
  for (const write of session.writes) {
    for (const [type, ids] of Object.entries(write)) {
      keys[type] ??= {}
      for (const [id, value] of Object.entries(ids)) {
        if (value === null) delete keys[type][id]
        else keys[type][id] = value
      }
    }
  }
  return keys
}

// Buffers the way Node's JSON.stringify writes a Uint8Array: {"0":b0,...}
const asUint8ArrayObjects = (_, value) =>
  value?.type === 'Buffer' && Array.isArray(value.data)
    ? Object.fromEntries(value.data.map((b, i) => [i, b]))
    : value

for (const major of MAJORS) {
  test(`Baileys ${major}: session round trip through whatsapp_auth`, async (t) => {
    const baileys = await loadBaileys(major)
    const { BufferJSON, proto } = baileys
    const session = JSON.parse(sessionText, BufferJSON.reviver)
    const expected = expectedKeys(session)
    const tenant = `e2e_v${major}_${process.pid}`
    const plain = `${tenant}_plain`
    const objects = `${tenant}_u8`
    for (const c of [tenant, plain, objects]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])

    await t.test('a company without creds starts from initAuthCreds()', async () => {
      const { state } = await useWhatsappAuthState(pool, tenant, baileys)
      assert.equal(typeof state.creds.registrationId, 'number')
      assert.ok(Buffer.isBuffer(state.creds.noiseKey.private))
    })

    await t.test('store creds, every key, then replay the write stream', async () => {
      const { state, saveCreds } = await useWhatsappAuthState(pool, tenant, baileys)
      Object.assign(state.creds, session.creds)
      await saveCreds()
      for (const [type, ids] of Object.entries(session.keys)) await state.keys.set({ [type]: ids })
      for (const write of session.writes) await state.keys.set(write)
    })

    await t.test('read everything back through a fresh adapter: identical', async () => {
      const { state } = await useWhatsappAuthState(pool, tenant, baileys)
      assert.deepEqual(state.creds, session.creds)
      for (const [type, ids] of Object.entries(expected)) {
        const got = await state.keys.get(type, [...Object.keys(ids), 'no-such-id'])
        const want = type === 'app-state-sync-key'
          ? Object.fromEntries(Object.entries(ids).map(([id, v]) =>
              [id, proto.Message.AppStateSyncKeyData.fromObject(v)]))
          : ids
        assert.deepStrictEqual(got, want, `${type} differs`)
      }
      const [{ n }] = await sql('SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = $1', [tenant])
      assert.equal(n, Object.values(expected).reduce((sum, ids) => sum + Object.keys(ids).length, 0))
    })

    await t.test('stored values are canonical: base64 Buffer nodes only', async () => {
      const [{ arrays }] = await sql(
        `SELECT count(*)::int AS arrays FROM whatsapp_auth.keys
          WHERE company_id = $1 AND value::text LIKE '%"data": [%'`, [tenant])
      assert.equal(arrays, 0)
    })

    await t.test('Node default JSON (byte arrays) and Uint8Array objects store the same bytes', async () => {
      for (const [company, replacer] of [[plain, undefined], [objects, asUint8ArrayObjects]]) {
        const text = (v) => JSON.stringify(v, replacer)
        await sql('SELECT whatsapp_auth.creds_set($1, $2)', [company, text(session.creds)])
        for (const [type, ids] of Object.entries(session.keys)) {
          await sql('SELECT * FROM whatsapp_auth.keys_set($1, $2)', [company, text({ [type]: ids })])
        }
        for (const write of session.writes) {
          await sql('SELECT * FROM whatsapp_auth.keys_set($1, $2)', [company, text(write)])
        }
        const [creds] = await sql(
          'SELECT whatsapp_auth.creds_get($1)::text AS a, whatsapp_auth.creds_get($2)::text AS b', [tenant, company])
        assert.equal(creds.b, creds.a, `${company}: creds differ`)
        for (const [type, ids] of Object.entries(expected)) {
          const [row] = await sql(
            `SELECT whatsapp_auth.keys_get($1, $3, $4)::text AS a, whatsapp_auth.keys_get($2, $3, $4)::text AS b`,
            [tenant, company, type, Object.keys(ids)])
          assert.equal(row.b, row.a, `${company}: ${type} differs`)
        }
      }
    })

    await t.test('a failed read is an error, never a fresh identity', async () => {
      await assert.rejects(useWhatsappAuthState(pool, 'not a company id', baileys), { code: '22023' })
    })

    await t.test('session_export / session_import round trip of the whole session is exact', async () => {
      const copy = `${tenant}_copy`
      await sql('SELECT whatsapp_auth.session_remove($1)', [copy])
      const [{ doc }] = await sql('SELECT whatsapp_auth.session_export($1) AS doc', [tenant])
      doc.company_id = copy
      const [{ written }] = await sql('SELECT whatsapp_auth.session_import($1)::int AS written', [doc])
      assert.equal(written, 1 + Object.values(expected).reduce((sum, ids) => sum + Object.keys(ids).length, 0))
      await assert.rejects(sql('SELECT whatsapp_auth.session_import($1)', [doc]), { code: '42710' })
      const [{ same }] = await sql(
        `SELECT (whatsapp_auth.session_export($1) - 'exported_at' - 'company_id')
              = (whatsapp_auth.session_export($2) - 'exported_at' - 'company_id') AS same`, [tenant, copy])
      assert.equal(same, true)
      const { state } = await useWhatsappAuthState(pool, copy, baileys)
      assert.deepEqual(state.creds, session.creds)
      await sql('SELECT whatsapp_auth.session_remove($1)', [copy])
    })

    await t.test('null deletes; missing ids read as {}', async () => {
      const { state } = await useWhatsappAuthState(pool, tenant, baileys)
      const id = Object.keys(expected.session)[0]
      await state.keys.set({ session: { [id]: null }, 'pre-key': { 'no-such-id': null } })
      assert.deepStrictEqual(await state.keys.get('session', [id]), {})
      assert.deepStrictEqual(await state.keys.get('pre-key', ['no-such-id']), {})
    })

    await t.test('keys.clear() drops the keys, keeps the creds', async () => {
      const { state } = await useWhatsappAuthState(pool, tenant, baileys)
      await state.keys.clear()
      const [{ n }] = await sql('SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = $1', [tenant])
      assert.equal(n, 0)
      const again = await useWhatsappAuthState(pool, tenant, baileys)
      assert.deepEqual(again.state.creds, session.creds)
    })

    for (const c of [tenant, plain, objects]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  })
}
