// test/bench/lease: what fencing costs a write, and what a renew costs.
// Three connections, each calling as the adapter does (named statements,
// the call in the select list):
//   before:   keys_set(company, data) in a database on the 1.1 catalog (no leases);
//   unfenced: keys_set(company, data) for a company without a lease;
//   fenced:   keys_set(company, data, token) for a company whose lease is live.
// They take turns call by call (the first of each turn rotating), so a slow
// moment of the disk falls on all of them; each round settles first
// (VACUUM, CHECKPOINT), untimed; figures are medians of the rounds.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(process.env.NODE_PATH + '/')
const pg = require('pg')
const session = JSON.parse(readFileSync(process.env.WHATSAPP_AUTH_SESSION, 'utf8'))

const ms = () => Number(process.hrtime.bigint()) / 1e6
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const connect = async (database) => { const c = new pg.Client({ database }); await c.connect(); return c }

const leases = await connect('bench_leases')
const before = await connect('bench_before')
const fencedDb = await connect('bench_leases')
const { rows: [{ token }] } = await leases.query(
  "SELECT whatsapp_auth.lease_acquire('fenced', 'bench', '1 day') AS token")

const variants = {
  before: (name, data) => before.query({ name, text: 'SELECT whatsapp_auth.keys_set($1, $2)', values: ['before', data] }),
  unfenced: (name, data) => leases.query({ name, text: 'SELECT whatsapp_auth.keys_set($1, $2)', values: ['unfenced', data] }),
  fenced: (name, data) => fencedDb.query({ name: `${name}_leased`, text: 'SELECT whatsapp_auth.keys_set($1, $2, $3)', values: ['fenced', data, token] }),
}
const names = Object.keys(variants)

async function settle() {
  for (const db of [leases, before]) await db.query('VACUUM whatsapp_auth.keys')
  await leases.query('CHECKPOINT')
}

// ms per call of each variant: mean of a round, median of the rounds
async function turns(label, calls, rounds, dataOf) {
  const perRound = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    await settle()
    const spent = Object.fromEntries(names.map((n) => [n, 0]))
    for (let i = 0; i < calls; i++) {
      const data = dataOf(r * calls + i)
      for (let j = 0; j < names.length; j++) {
        const n = names[(i + r + j) % names.length]
        const t = ms()
        await variants[n](label, data)
        spent[n] += ms() - t
      }
    }
    for (const n of names) perRound[n].push(spent[n] / calls)
  }
  return Object.fromEntries(names.map((n) => [n, { median: median(perRound[n]), rounds: perRound[n] }]))
}

const sessions = Object.entries(session.keys.session)
const single = await turns('single', 300, 7, (k) => {
  const [id, value] = sessions[k % sessions.length]
  return JSON.stringify({ session: { [id]: value } })
})
const preKeys = session.writes[0]
const bulkData = JSON.stringify(preKeys)
const bulk = await turns('bulk', 10, 9, () => bulkData)

// lease_renew against a one-id keys_get, in turn, on one connection each
const [id] = sessions[0]
await leases.query("SELECT whatsapp_auth.keys_set('unfenced', $1)", [JSON.stringify({ session: { [id]: sessions[0][1] } })])
const renewRounds = []
const getRounds = []
for (let r = 0; r < 7; r++) {
  await settle()
  let renew = 0
  let get = 0
  for (let i = 0; i < 300; i++) {
    const first = (i + r) % 2
    for (let j = 0; j < 2; j++) {
      const t = ms()
      if ((first + j) % 2 === 0) {
        await fencedDb.query({ name: 'renew', text: "SELECT whatsapp_auth.lease_renew($1, $2, '1 day')", values: ['fenced', token] })
        renew += ms() - t
      } else {
        await leases.query({ name: 'get_one', text: 'SELECT whatsapp_auth.keys_get($1, $2, $3)::text', values: ['unfenced', 'session', [id]] })
        get += ms() - t
      }
    }
  }
  renewRounds.push(renew / 300)
  getRounds.push(get / 300)
}

const f = (x) => x.toFixed(3)
const ratio = (a, b) => `${(a / b).toFixed(3)}×`
const range = (xs) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`
console.log(`single-key keys_set (ms per call; 300 calls x 7 rounds; ${Object.keys(preKeys['pre-key']).length}-key batches: 10 calls x 9 rounds; renew and keys_get: 300 calls x 7 rounds)`)
console.log('| figure | fenced | baseline | ratio | target |')
console.log('|---|---|---|---|---|')
console.log(`| single-key keys_set (ms), fenced vs unfenced | ${f(single.fenced.median)} | ${f(single.unfenced.median)} | ${ratio(single.fenced.median, single.unfenced.median)} | ≤ 1.05× |`)
console.log(`| single-key keys_set (ms), fenced vs before leases (1.1) | ${f(single.fenced.median)} | ${f(single.before.median)} | ${ratio(single.fenced.median, single.before.median)} | |`)
console.log(`| single-key keys_set (ms), unfenced vs before leases (1.1) | ${f(single.unfenced.median)} | ${f(single.before.median)} | ${ratio(single.unfenced.median, single.before.median)} | |`)
console.log(`| 812-key keys_set (ms), fenced vs unfenced | ${f(bulk.fenced.median)} | ${f(bulk.unfenced.median)} | ${ratio(bulk.fenced.median, bulk.unfenced.median)} | ≤ 1.02× |`)
console.log(`| 812-key keys_set (ms), fenced vs before leases (1.1) | ${f(bulk.fenced.median)} | ${f(bulk.before.median)} | ${ratio(bulk.fenced.median, bulk.before.median)} | |`)
console.log(`| lease_renew vs keys_get of one id (ms) | ${f(median(renewRounds))} | ${f(median(getRounds))} | ${ratio(median(renewRounds), median(getRounds))} | ≤ 1× |`)
console.log('rounds (ms per call):')
for (const n of names) console.log(`  single ${n}: ${range(single[n].rounds)}; 812-key ${n}: ${range(bulk[n].rounds)}`)
console.log(`  lease_renew: ${range(renewRounds)}; keys_get one id: ${range(getRounds)}`)
for (const db of [leases, before, fencedDb]) await db.end()
