// The Baileys write stream of the sample session, replayed through the
// reference adapter for many companies at once, each company in order (as
// its one Baileys process would), every acknowledged call logged with its
// time; and the check that a company holds exactly the state of a prefix of
// its stream.  Shared by the ride-through and failover tests.
import { sessionText } from './baileys.mjs'
import { useWhatsappAuthState } from './use-whatsapp-auth-state.mjs'

export const writes = JSON.parse(sessionText).writes

// {type: {id: value}} after the first n writes, values in the stored form
export function stateAfter(n) {
  const state = {}
  for (const write of writes.slice(0, n)) {
    for (const [type, ids] of Object.entries(write)) {
      state[type] ??= {}
      for (const [id, value] of Object.entries(ids)) {
        if (value === null) delete state[type][id]
        else state[type][id] = value
      }
    }
  }
  for (const type of Object.keys(state)) if (Object.keys(state[type]).length === 0) delete state[type]
  return state
}

// Compared as jsonb, in the server: true when the company holds exactly `state`.
export async function holds(db, company, state) {
  const { rows: [r] } = await db.query(`
    SELECT COALESCE((SELECT jsonb_object_agg(key_type, ids) FROM (
             SELECT key_type, jsonb_object_agg(key_id, value) AS ids
               FROM whatsapp_auth.keys WHERE company_id = $1 GROUP BY key_type) t), '{}')
           = $2::jsonb AS same`, [company, JSON.stringify(state)])
  return r.same
}

// The n such that the company holds the state after n writes, among `candidates`; else null.
export async function prefixHeld(db, company, candidates) {
  for (const n of candidates) if (await holds(db, company, stateAfter(n))) return n
  return null
}

// Replay `count` writes for each company through its own adapter on `pool`.
// acked[c] counts company c's acknowledged calls; log gets {company, n,
// start, at} for each.  `gate()` (optional) is awaited before every call.
// A call that throws stops its company: errors[c] keeps the error.
export function replay({ pool, companies, baileys, count = writes.length, adapterOptions, gate, log }) {
  const revived = writes.slice(0, count).map((w) => JSON.parse(JSON.stringify(w), baileys.BufferJSON.reviver))
  const acked = Object.fromEntries(companies.map((c) => [c, 0]))
  const errors = {}
  const inFlight = new Set()
  const run = Promise.all(companies.map(async (company) => {
    try {
      const { state } = await useWhatsappAuthState(pool, company, baileys, adapterOptions)
      for (let i = 0; i < revived.length; i++) {
        if (gate) await gate()
        inFlight.add(company)
        const start = Date.now()
        await state.keys.set(revived[i])
        inFlight.delete(company)
        acked[company]++
        log?.push({ company, n: acked[company], start, at: Date.now() })
      }
    } catch (err) {
      errors[company] = err
    }
  }))
  return { acked, errors, inFlight, done: run }
}
