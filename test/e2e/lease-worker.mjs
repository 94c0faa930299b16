// One process of an account for lease.test.mjs: the adapter (with or
// without a lease) under Baileys' own Signal repository, driven by its
// parent over IPC.  Every message is {id, op, ...} and is answered
// {id, ok, ...} or {id, error}; {event: 'leaseLost'} is sent on its own.
import pg from 'pg'
import { loadBaileys } from './baileys.mjs'
import { openAccount } from './signal.mjs'

const pool = new pg.Pool({ max: 2 })
pool.on('error', () => {})
let baileys
let account
const leaseLost = []

const b64 = (bytes) => Buffer.from(bytes).toString('base64')

const ops = {
  async open({ company, major, lease }) {
    baileys = await loadBaileys(major)
    const options = lease ? {
      lease: {
        ...lease, onLeaseLost(err) {
          leaseLost.push(err.message)
          process.send({ event: 'leaseLost', message: err.message, code: err.code })
        },
      },
    } : undefined
    account = await openAccount(pool, company, baileys, major, options)
    return { leaseLostCount: leaseLost.length }
  },
  async inject({ jid, bundle }) {
    const session = JSON.parse(bundle, baileys.BufferJSON.reviver)
    await account.repository.injectE2ESession({ jid, session })
    return {}
  },
  async encrypt({ jid, text }) {
    const { type, ciphertext } = await account.repository.encryptMessage({ jid, data: Buffer.from(text) })
    return { type, ciphertext: b64(ciphertext) }
  },
  async decrypt({ jid, type, ciphertext }) {
    const plain = await account.repository.decryptMessage({ jid, type, ciphertext: Buffer.from(ciphertext, 'base64') })
    return { text: Buffer.from(plain).toString() }
  },
  async saveCreds() {
    await account.saveCreds()
    return {}
  },
  async leaseLostCount() {
    return { count: leaseLost.length, messages: leaseLost }
  },
  async close() {
    if (account.close) await account.close()
    await pool.end()
    return {}
  },
}

process.on('message', async ({ id, op, ...args }) => {
  try {
    process.send({ id, ok: true, ...(await ops[op](args)) })
  } catch (err) {
    process.send({ id, error: err.message, code: err.code })
  }
})
