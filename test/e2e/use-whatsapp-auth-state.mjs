// Baileys auth state in PostgreSQL through the whatsapp_auth extension:
// a drop-in for useMultiFileAuthState, one SQL call per keys.get/keys.set.
// `baileys` is the Baileys module in use (6.x or 7.x): its BufferJSON,
// initAuthCreds and proto.

// The extension returns every Buffer as {"type":"Buffer","data":"<base64>"}
// and nothing else that needs reviving: one walk, cheaper than a reviver
// called for every node.
function reviveBuffers(v) {
  if (v === null || typeof v !== 'object') return v
  if (v.type === 'Buffer' && typeof v.data === 'string') return Buffer.from(v.data, 'base64')
  for (const k in v) v[k] = reviveBuffers(v[k])
  return v
}

export async function useWhatsappAuthState(pool, companyId, { BufferJSON, initAuthCreds, proto }, options = {}) {
  const revive = (text) => reviveBuffers(JSON.parse(text))
  const serialize = (value) => JSON.stringify(value, BufferJSON.replacer)
  // Named: each pooled connection prepares a statement once, then only binds.
  // (Behind PgBouncer's transaction pooling before 1.21, leave out `name`.)
  const query = (name, text, values) => pool.query({ name: `whatsapp_auth_${name}`, text, values })
  // A write: SELECT whatsapp_auth.fn($1, ...); with a lease, its token is
  // one more argument (see accountLease below).
  const lease = options.lease ? await accountLease(query, companyId, options.lease) : null
  const write = (fn, values) => lease ? lease.write(fn, values) : query(fn, callText(fn, values.length), values)

  // A failed read throws: never a silent fresh identity over a stored one.
  const { rows } = await query('creds_get', 'SELECT whatsapp_auth.creds_get($1)::text AS creds', [companyId])
  const creds = rows[0].creds === null ? initAuthCreds() : revive(rows[0].creds)

  const keys = {
    async get(type, ids) {
      const { rows } = await query('keys_get',
        'SELECT whatsapp_auth.keys_get($1, $2, $3)::text AS found', [companyId, type, ids])
      const found = revive(rows[0].found)
      if (type === 'app-state-sync-key') {
        for (const id of Object.keys(found)) {
          found[id] = proto.Message.AppStateSyncKeyData.fromObject(found[id])
        }
      }
      return found
    },
    // Baileys' own argument, {type: {id: value | null}}: one atomic call,
    // in the select list (in FROM it would cost a function scan more).
    async set(data) {
      await write('keys_set', [companyId, serialize(data)])
    },
    async clear() {
      await write('keys_clear', [companyId])
    },
  }

  const saveCreds = async () => {
    await write('creds_set', [companyId, serialize(creds)])
  }

  if (!lease) return { state: { creds, keys }, saveCreds }
  return { state: { creds, keys }, saveCreds, close: lease.close, lease: lease.info }
}

// Leases: one live process per account (README, "Leases").
const LEASE_LOST = '55006'      // a write or renew the lease refuses
const LEASE_HELD = '55P03'      // lease_acquire while another holder's lease is live
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const callText = (fn, n) =>
  `SELECT whatsapp_auth.${fn}(${Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ')})`

// { holder, ttl = 30 (seconds), wait = 0 (ms to keep trying while another
// holds it), onLeaseLost(error) }.  Acquires before the state is read;
// renews every ttl/3; appends the token to every write; on the first
// refusal calls onLeaseLost once and refuses every later write itself.
async function accountLease(query, companyId, { holder, ttl = 30, wait = 0, onLeaseLost = () => {} }) {
  if (typeof holder !== 'string' || holder === '') throw new TypeError('lease.holder must name this process')
  const interval = `${ttl} seconds`
  const giveUpAt = Date.now() + wait
  let token
  for (;;) {
    try {
      const { rows } = await query('lease_acquire',
        'SELECT whatsapp_auth.lease_acquire($1, $2, $3::interval) AS token', [companyId, holder, interval])
      token = rows[0].token
      break
    } catch (err) {
      if (err.code !== LEASE_HELD || Date.now() >= giveUpAt) throw err
      await sleep(Math.min(250, ttl * 250, Math.max(giveUpAt - Date.now(), 0)))
    }
  }

  let lost = null
  const loseLease = (err) => {
    if (lost) return
    lost = err
    clearInterval(renewer)
    onLeaseLost(err)
  }
  const renewer = setInterval(async () => {
    try {
      await query('lease_renew', 'SELECT whatsapp_auth.lease_renew($1, $2, $3::interval)', [companyId, token, interval])
    } catch (err) {
      // Another failure (the network) is retried at the next turn: the
      // database refuses the token's writes if someone took over meanwhile.
      if (err.code === LEASE_LOST) loseLease(err)
    }
  }, ttl * 1000 / 3)
  renewer.unref()

  return {
    info: { holder, token },
    // Never a write with a token known to be stale.
    async write(fn, values) {
      if (lost) throw new Error(`whatsapp_auth: the lease of ${companyId} was lost (${lost.message}); write refused`)
      try {
        return await query(`${fn}_leased`, callText(fn, values.length + 1), [...values, token])
      } catch (err) {
        if (err.code === LEASE_LOST) loseLease(err)
        throw err
      }
    },
    async close() {
      clearInterval(renewer)
      if (!lost) await query('lease_release', 'SELECT whatsapp_auth.lease_release($1, $2)', [companyId, token])
      lost ??= new Error('closed')
    },
  }
}
