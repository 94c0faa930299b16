// Baileys' own Signal protocol code on keys that live in whatsapp_auth, for
// each Baileys major, with no WhatsApp server: two accounts in two
// companies, A starts a session from B's pre-key bundle, B decrypts (and
// its pre-key is consumed: gone from whatsapp_auth.keys), 50 messages each
// way, both restart from the database and go on, and a group message
// through sender keys.  Every plaintext must match.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { MAJORS, loadBaileys } from './baileys.mjs'
import { openAccount, createAccount, preKeyBundle, send, sendToGroup } from './signal.mjs'

const pool = new pg.Pool({ max: 4 })
after(() => pool.end())
const sql = async (text, params) => (await pool.query(text, params)).rows

const JID_A = '79001111111@s.whatsapp.net'
const JID_B = '79002222222@s.whatsapp.net'

const preKeyStored = async (company, id) =>
  (await sql(`SELECT count(*)::int AS n FROM whatsapp_auth.keys
               WHERE company_id = $1 AND key_type = 'pre-key' AND key_id = $2`, [company, String(id)]))[0].n

for (const major of MAJORS) {
  test(`Baileys ${major}: Signal sessions on keys stored in whatsapp_auth`, async (t) => {
    const baileys = await loadBaileys(major)
    const companyA = `sig_a_v${major}_${process.pid}`
    const companyB = `sig_b_v${major}_${process.pid}`
    for (const c of [companyA, companyB]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])

    let a = await createAccount(pool, companyA, baileys, major)
    let b = await createAccount(pool, companyB, baileys, major)
    const [{ n: preKeys }] = await sql(
      `SELECT count(*)::int AS n FROM whatsapp_auth.keys WHERE company_id = $1 AND key_type = 'pre-key'`, [companyB])
    assert.equal(preKeys, 30, 'B\'s pre-keys are in the store')

    const preKeyId = b.creds.firstUnuploadedPreKeyId - 1
    const { [preKeyId]: preKey } = await b.keys.get('pre-key', [String(preKeyId)])

    await t.test('A starts a session from B\'s bundle; B decrypts and consumes the pre-key', async () => {
      await a.repository.injectE2ESession({ jid: JID_B, session: preKeyBundle(baileys, b.creds, preKeyId, preKey) })
      assert.equal(await send(a, b, JID_B, JID_A, 'hello B, first message'), 'pkmsg')
      assert.equal(await preKeyStored(companyB, preKeyId), 0, 'the consumed pre-key is deleted')
    })

    await t.test('50 messages each way', async () => {
      for (let i = 0; i < 50; i++) {
        await send(b, a, JID_A, JID_B, `B to A #${i}`)
        await send(a, b, JID_B, JID_A, `A to B #${i}`)
      }
    })

    await t.test('a group message through sender keys', async () => {
      await sendToGroup(a, JID_A, [b], 'hello group from A')
      await sendToGroup(b, JID_B, [a], 'hello group from B')
    })

    await t.test('both restart from the database and go on', async () => {
      a = await openAccount(pool, companyA, baileys, major)
      b = await openAccount(pool, companyB, baileys, major)
      for (let i = 0; i < 20; i++) {
        assert.equal(await send(a, b, JID_B, JID_A, `after restart A to B #${i}`), 'msg')
        await send(b, a, JID_A, JID_B, `after restart B to A #${i}`)
      }
      await sendToGroup(a, JID_A, [b], 'group again after restart')
    })

    await t.test('the sessions and sender keys are rows of whatsapp_auth.keys', async () => {
      const rows = await sql(
        `SELECT company_id, key_type, count(*)::int AS n FROM whatsapp_auth.keys
          WHERE company_id IN ($1, $2) AND key_type IN ('session', 'sender-key')
          GROUP BY 1, 2 ORDER BY 1, 2`, [companyA, companyB])
      assert.deepEqual(rows.map((r) => `${r.company_id}:${r.key_type}`),
        [`${companyA}:sender-key`, `${companyA}:session`, `${companyB}:sender-key`, `${companyB}:session`])
    })

    for (const c of [companyA, companyB]) await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  })
}
