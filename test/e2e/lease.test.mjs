// Leases with real processes and real Baileys, for each major: account A
// runs in separate Node processes (lease-worker.mjs: the adapter under
// Baileys' own Signal repository), the peer B in this one.
//
// With leases: a second process cannot start while the first holds the
// lease (the error names it), and with `wait` starts once the first
// releases; that process is frozen (SIGSTOP) past its ttl with a message
// of B's in hand, a third takes over and exchanges messages with B; the
// frozen one resumed (SIGCONT) decrypts what it had and saves its creds:
// every write refused, nothing of it in the table, onLeaseLost fired once;
// B and the third go on both ways, and so does the account restarted from
// the table.  The control runs the same without leases: the stale write
// lands, and the restarted account fails to decrypt B's next message.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import pg from 'pg'
import { MAJORS, loadBaileys } from './baileys.mjs'
import { createAccount, preKeyBundle } from './signal.mjs'

const pool = new pg.Pool({ max: 4 })
after(() => pool.end())
const sql = async (text, params) => (await pool.query(text, params)).rows
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const JID_A = '79003333333@s.whatsapp.net'
const JID_B = '79004444444@s.whatsapp.net'
const TTL = 4 // seconds: renewed every 1.3 s, room enough on a busy machine

// A process of account A, answering its parent's calls.
class AccountProcess {
  constructor() {
    this.child = fork(new URL('./lease-worker.mjs', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.calls = new Map()
    this.events = []
    this.nextId = 0
    this.child.on('message', (m) => {
      if (m.event) return this.events.push(m)
      const { resolve, reject } = this.calls.get(m.id)
      this.calls.delete(m.id)
      if (m.error) reject(Object.assign(new Error(m.error), { code: m.code }))
      else resolve(m)
    })
    this.child.on('exit', () => {
      for (const { reject } of this.calls.values()) reject(new Error('the account process exited'))
    })
  }
  call(op, args = {}) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject })
      this.child.send({ id, op, ...args })
    })
  }
  freeze() { this.child.kill('SIGSTOP') }
  resume() { this.child.kill('SIGCONT') }
  kill() { this.child.kill('SIGKILL') }
}

// A to B through process p, and B to A: every plaintext must match.
async function aToB(p, b, text) {
  const { type, ciphertext } = await p.call('encrypt', { jid: JID_B, text })
  const plain = await b.repository.decryptMessage({ jid: JID_A, type, ciphertext: Buffer.from(ciphertext, 'base64') })
  assert.equal(Buffer.from(plain).toString(), text)
  return type
}
async function encryptFromB(b, text) {
  const { type, ciphertext } = await b.repository.encryptMessage({ jid: JID_A, data: Buffer.from(text) })
  return { jid: JID_B, type, ciphertext: Buffer.from(ciphertext).toString('base64') }
}
async function bToA(b, p, text) {
  const { text: got } = await p.call('decrypt', await encryptFromB(b, text))
  assert.equal(got, text)
}

// Everything of a company in the table: keys and creds.
async function fingerprint(company) {
  const [{ f }] = await sql(
    `SELECT md5(coalesce((SELECT string_agg(format('%s|%s|%s', key_type, key_id, value), ',' ORDER BY key_type, key_id)
                            FROM whatsapp_auth.keys WHERE company_id = $1), '') ||
                coalesce((SELECT creds::text FROM whatsapp_auth.creds WHERE company_id = $1), '')) AS f`, [company])
  return f
}

async function forget(...companies) {
  for (const c of companies) {
    await sql('DELETE FROM whatsapp_auth.leases WHERE company_id = $1', [c])
    await sql('SELECT whatsapp_auth.session_remove($1)', [c])
  }
}

// Accounts A (stored, not yet run by any process) and B (run here), and
// the bundle A starts its session from.
async function accounts(baileys, major, companyA, companyB) {
  await forget(companyA, companyB)
  await createAccount(pool, companyA, baileys, major)
  const b = await createAccount(pool, companyB, baileys, major)
  const preKeyId = b.creds.firstUnuploadedPreKeyId - 1
  const { [preKeyId]: preKey } = await b.keys.get('pre-key', [String(preKeyId)])
  const bundle = JSON.stringify(preKeyBundle(baileys, b.creds, preKeyId, preKey), baileys.BufferJSON.replacer)
  return { b, bundle }
}

for (const major of MAJORS) {
  test(`Baileys ${major}: with leases, one live process per account`, async (t) => {
    const baileys = await loadBaileys(major)
    const companyA = `lease_a_v${major}_${process.pid}`
    const companyB = `lease_b_v${major}_${process.pid}`
    const { b, bundle } = await accounts(baileys, major, companyA, companyB)
    const processes = []
    const start = () => { const p = new AccountProcess(); processes.push(p); return p }
    const open = (p, holder, extra = {}) => p.call('open', { company: companyA, major, lease: { holder, ttl: TTL, ...extra } })
    const status = async () => (await sql('SELECT whatsapp_auth.lease_status($1) AS s', [companyA]))[0].s
    try {
      const p1 = start()
      const p2 = start()
      await open(p1, 'p1')

      await t.test('a second process cannot start while the first holds the lease; the error names it', async () => {
        await assert.rejects(open(p2, 'p2'), (err) => err.code === '55P03' && /leased by "p1" until /.test(err.message))
      })

      await t.test('the first process exchanges messages with the peer', async () => {
        await p1.call('inject', { jid: JID_B, bundle })
        assert.equal(await aToB(p1, b, 'hello B from p1'), 'pkmsg')
        for (let i = 0; i < 3; i++) {
          await bToA(b, p1, `B to p1 #${i}`)
          await aToB(p1, b, `p1 to B #${i}`)
        }
      })

      await t.test('with wait, the second starts as soon as the first releases', async () => {
        let startedAt = null
        const opening = open(p2, 'p2', { wait: 20000 }).then(() => { startedAt = Date.now() })
        await sleep(1500)
        assert.equal(startedAt, null, 'still waiting while p1 holds the lease')
        const releasedAt = Date.now()
        await p1.call('close')
        await opening
        assert.ok(startedAt - releasedAt < 1500, `p2 started ${startedAt - releasedAt} ms after p1 released`)
        assert.deepEqual([(await status()).holder, (await status()).lease_token], ['p2', 2])
        await bToA(b, p2, 'B to p2')
        await aToB(p2, b, 'p2 to B')
      })

      await t.test('frozen past its ttl and taken over, the stale process writes nothing', async () => {
        // B's next message starts a new ratchet step: whoever decrypts it
        // picks a ratchet key of its own.
        const inHand = await encryptFromB(b, 'B to A while p2 is frozen')
        p2.freeze()
        await sleep((TTL + 1) * 1000)
        const p3 = start()
        await open(p3, 'p3')
        assert.deepEqual([(await status()).holder, (await status()).lease_token], ['p3', 3])
        const { text } = await p3.call('decrypt', inHand)
        assert.equal(text, 'B to A while p2 is frozen')
        await aToB(p3, b, 'p3 to B after the takeover')
        await bToA(b, p3, 'B to p3 after the takeover')
        const before = await fingerprint(companyA)

        p2.resume()
        await assert.rejects(p2.call('decrypt', inHand), 'the stale decrypt cannot store its session')
        await assert.rejects(p2.call('saveCreds'), 'the stale creds are refused')
        await sleep(TTL * 1000) // its renew timer fires too
        assert.equal(await fingerprint(companyA), before, 'nothing the stale process wrote is in the table')
        assert.equal(p2.events.filter((e) => e.event === 'leaseLost').length, 1, 'onLeaseLost fired once')
        assert.equal((await p2.call('leaseLostCount')).count, 1)
        assert.match(p2.events[0].message, /lease token 2 of company|leased by "p3"/)

        for (let i = 0; i < 3; i++) {
          await bToA(b, p3, `B to p3 #${i}`)
          await aToB(p3, b, `p3 to B #${i}`)
        }
        await p3.call('close')
      })

      await t.test('restarted from the table, the account decrypts both ways', async () => {
        const p4 = start()
        await open(p4, 'p4')
        for (let i = 0; i < 3; i++) {
          await bToA(b, p4, `B to p4 #${i}`)
          await aToB(p4, b, `p4 to B #${i}`)
        }
        await p4.call('close')
      })
    } finally {
      for (const p of processes) { p.resume(); p.kill() }
      await forget(companyA, companyB)
    }
  })

  test(`Baileys ${major}: the control without leases, the stale process breaks the account`, async (t) => {
    const baileys = await loadBaileys(major)
    const companyA = `nolease_a_v${major}_${process.pid}`
    const companyB = `nolease_b_v${major}_${process.pid}`
    const { b, bundle } = await accounts(baileys, major, companyA, companyB)
    const processes = []
    const start = () => { const p = new AccountProcess(); processes.push(p); return p }
    const open = (p) => p.call('open', { company: companyA, major })
    try {
      const q1 = start()
      await open(q1)
      await q1.call('inject', { jid: JID_B, bundle })
      assert.equal(await aToB(q1, b, 'hello B from q1'), 'pkmsg')
      for (let i = 0; i < 3; i++) {
        await bToA(b, q1, `B to q1 #${i}`)
        await aToB(q1, b, `q1 to B #${i}`)
      }

      await t.test('the stale process\'s writes land', async () => {
        const inHand = await encryptFromB(b, 'B to A while q1 is frozen')
        q1.freeze()
        await sleep((TTL + 1) * 1000)
        const q2 = start()
        await open(q2)
        assert.equal((await q2.call('decrypt', inHand)).text, 'B to A while q1 is frozen')
        await aToB(q2, b, 'q2 to B')
        await bToA(b, q2, 'B to q2')
        const before = await fingerprint(companyA)
        q1.resume()
        assert.equal((await q1.call('decrypt', inHand)).text, 'B to A while q1 is frozen')
        await q1.call('saveCreds')
        assert.notEqual(await fingerprint(companyA), before, 'the stale session is in the table')
        await q2.call('close')
      })

      await t.test('restarted from the table, the account cannot decrypt the peer\'s next message', async () => {
        const q3 = start()
        await open(q3)
        await assert.rejects(bToA(b, q3, 'B to q3 after the stale write'), /Bad MAC|No matching sessions|decrypt/)
      })
    } finally {
      for (const p of processes) { p.resume(); p.kill() }
      await forget(companyA, companyB)
    }
  })
}
