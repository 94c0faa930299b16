// Migration from the client-side layout this replaces: public.whatsapp_auth
// and public.whatsapp_keys filled from the sample session the way that code
// wrote them (Node's default JSON, so Buffers as byte arrays; expiry
// computed in JS), copied in with import_legacy(), then checked with the
// real client: a fresh account starts a Signal session with the migrated
// one from its migrated creds and pre-keys, and they talk.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { MAJORS, loadBaileys, sessionText } from './baileys.mjs'
import { openAccount, createAccount, preKeyBundle } from './signal.mjs'


const pool = new pg.Pool({ max: 4 })
after(() => pool.end())
const sql = async (text, params) => (await pool.query(text, params)).rows

const LEGACY_COMPANY = `legacy_${process.pid}`
const DAY = 24 * 3600 * 1000
const legacyTtl = (type) => (['lid-mapping', 'pre-key', 'session', 'sender-key'].includes(type) ? 7 : 14) * DAY

before(async () => {
  const baileys = await loadBaileys(7)
  const session = JSON.parse(sessionText, baileys.BufferJSON.reviver)
  await sql('DROP TABLE IF EXISTS public.whatsapp_auth, public.whatsapp_keys')
  await sql(`CREATE TABLE public.whatsapp_auth (company_id varchar(50) PRIMARY KEY, creds jsonb,
               updated_at timestamptz DEFAULT now())`)
  await sql(`CREATE TABLE public.whatsapp_keys (company_id varchar(50), key_type varchar(100),
               key_id varchar(255), value jsonb, updated_at timestamptz DEFAULT now(), expires_at timestamptz,
               PRIMARY KEY (company_id, key_type, key_id))`)
  await sql('INSERT INTO public.whatsapp_auth (company_id, creds) VALUES ($1, $2)',
    [LEGACY_COMPANY, JSON.stringify(session.creds)])
  const now = Date.now()
  for (const [type, ids] of Object.entries(session.keys)) {
    for (const [id, value] of Object.entries(ids)) {
      // ten sender keys had already expired in the old store
      const expired = type === 'sender-key' && Number(id.split('@')[0].slice(-2)) < 10
      await sql('INSERT INTO public.whatsapp_keys (company_id, key_type, key_id, value, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [LEGACY_COMPANY, type, id, JSON.stringify(value),
          new Date(expired ? now - DAY : now + legacyTtl(type))])
    }
  }
})

test('import_legacy copies the legacy tables, canonically, twice over to the same state', async () => {
  await sql('SELECT whatsapp_auth.session_remove($1)', [LEGACY_COMPANY])
  const [{ total, expired }] = await sql(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE expires_at <= now())::int AS expired
       FROM public.whatsapp_keys`)
  assert.equal(expired, 10)
  const [{ imported }] = await sql(
    `SELECT whatsapp_auth.import_legacy('public.whatsapp_auth', 'public.whatsapp_keys')::int AS imported`)
  assert.equal(imported, 1 + total - expired)
  const [{ arrays }] = await sql(`SELECT count(*)::int AS arrays FROM whatsapp_auth.keys
    WHERE company_id = $1 AND value::text LIKE '%"data": [%'`, [LEGACY_COMPANY])
  assert.equal(arrays, 0, 'no byte arrays left')
  const [{ never }] = await sql(`SELECT count(*)::int AS never FROM whatsapp_auth.keys
    WHERE company_id = $1 AND key_type = 'pre-key' AND expires_at IS NULL`, [LEGACY_COMPANY])
  assert.equal(never, 812, 'pre-keys take the new policy: they never expire')

  const state = async () => (await sql(
    `SELECT (whatsapp_auth.session_export($1) - 'exported_at')::text AS s`, [LEGACY_COMPANY]))[0].s
  const first = await state()
  const [{ again }] = await sql(
    `SELECT whatsapp_auth.import_legacy('public.whatsapp_auth', 'public.whatsapp_keys')::int AS again`)
  assert.equal(again, imported)
  assert.equal(await state(), first, 'running it twice leaves the same state')
})

for (const major of MAJORS) {
  test(`Baileys ${major}: a new contact talks to the migrated account`, async () => {
    const baileys = await loadBaileys(major)
    const contact = `legacy_peer_v${major}_${process.pid}`
    await sql('SELECT whatsapp_auth.session_remove($1)', [contact])
    const migrated = await openAccount(pool, LEGACY_COMPANY, baileys, major)
    const peer = await createAccount(pool, contact, baileys, major)
    const jidMigrated = migrated.creds.me.id.replace(/:\d+@/, '@')
    const jidPeer = `7900333333${major}@s.whatsapp.net`

    const preKeyId = String(100 + major)
    const { [preKeyId]: preKey } = await migrated.keys.get('pre-key', [preKeyId])
    assert.ok(preKey, 'the migrated pre-key is readable')
    await peer.repository.injectE2ESession({
      jid: jidMigrated, session: preKeyBundle(baileys, migrated.creds, preKeyId, preKey) })

    for (let i = 0; i < 10; i++) {
      const text = `to the migrated account #${i}`
      const { type, ciphertext } = await peer.repository.encryptMessage({ jid: jidMigrated, data: Buffer.from(text) })
      assert.equal(type, i === 0 ? 'pkmsg' : 'msg')
      const plain = await migrated.repository.decryptMessage({ jid: jidPeer, type, ciphertext })
      assert.equal(Buffer.from(plain).toString(), text)
      const reply = `from the migrated account #${i}`
      const out = await migrated.repository.encryptMessage({ jid: jidPeer, data: Buffer.from(reply) })
      const back = await peer.repository.decryptMessage({ jid: jidMigrated, type: out.type, ciphertext: out.ciphertext })
      assert.equal(Buffer.from(back).toString(), reply)
    }
    const [{ n }] = await sql(`SELECT count(*)::int AS n FROM whatsapp_auth.keys
      WHERE company_id = $1 AND key_type = 'pre-key' AND key_id = $2`, [LEGACY_COMPANY, preKeyId])
    assert.equal(n, 0, 'the consumed migrated pre-key is gone')
    await sql('SELECT whatsapp_auth.session_remove($1)', [contact])
  })
}

test('clean up', async () => {
  await sql('SELECT whatsapp_auth.session_remove($1)', [LEGACY_COMPANY])
  await sql('DROP TABLE public.whatsapp_auth, public.whatsapp_keys')
})
