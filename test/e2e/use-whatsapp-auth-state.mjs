// Baileys auth state in PostgreSQL through the whatsapp_auth extension:
// a drop-in for useMultiFileAuthState, one SQL call per keys.get/keys.set.
// `baileys` is the Baileys module in use (6.x or 7.x): its BufferJSON,
// initAuthCreds and proto.  Options: `retryForMs`, how long a call keeps
// retrying while the database is away (0: never retry); `lease`, one live
// process per account (see accountLease below).

// The extension returns every Buffer as {"type":"Buffer","data":"<base64>"}
// and nothing else that needs reviving: one walk, cheaper than a reviver
// called for every node.
function reviveBuffers(v) {
  if (v === null || typeof v !== 'object') return v
  if (v.type === 'Buffer' && typeof v.data === 'string') return Buffer.from(v.data, 'base64')
  for (const k in v) v[k] = reviveBuffers(v[k])
  return v
}

// The connection or the server went away, the call itself was fine: socket
// errors, node-postgres' own "Connection terminated", SQLSTATE class 08,
// 57P01-57P03 (shut down, crashed, starting up) and 25006 (a standby
// refusing a write).  Any other SQLSTATE comes from the data: never retried.
const SOCKET_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOENT',
  'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
export function wentAway(err) {
  if (SOCKET_ERRORS.has(err?.code)) return true
  if (typeof err?.code === 'string') return /^(08...|57P0[123]|25006)$/.test(err.code)
  return /^(Connection terminated|Client has encountered a connection error|timeout expired)/.test(err?.message ?? '')
}

// node-postgres connects to one host.  Where a failover manager moves the
// primary, build the pool with this Client class: a connection goes to the
// host that last took writes; one that is down or a standby fails as a
// retryable error and the next connection tries the next host (libpq's
// target_session_attrs=read-write, by hand).
export function primaryClient(Client, hosts) {
  let current = 0
  return class PrimaryClient extends Client {
    connect(callback) {
      const at = current
      Object.assign(this, hosts[at])
      const done = super.connect().then(async () => {
        const { rows } = await this.query('SELECT pg_catalog.pg_is_in_recovery() AS standby')
        if (rows[0].standby) {
          await this.end()
          throw Object.assign(new Error(`${this.host}:${this.port} is a standby`), { code: '25006' })
        }
      }).catch((err) => {
        if (current === at) current = (at + 1) % hosts.length
        throw err
      })
      if (!callback) return done
      done.then(() => callback(), callback)
    }
  }
}

// keys.set documents from this many characters go through keys_set_text
const LARGE_SET = 65536

export async function useWhatsappAuthState(pool, companyId, { BufferJSON, initAuthCreds, proto },
  { retryForMs = 60000, lease: leaseOptions } = {}) {
  const revive = (text) => reviveBuffers(JSON.parse(text))
  const serialize = (value) => JSON.stringify(value, BufferJSON.replacer)
  // Named: each pooled connection prepares a statement once, then only binds.
  // (Behind PgBouncer's transaction pooling before 1.21, leave out `name`.)
  // A call that failed because the database went away is sent again, on a
  // new connection, after 50 ms, 100 ms, ... at most 2 s apart, until
  // retryForMs is spent: safe, since every call here gives the same state
  // when applied twice (README, "The adapter's retry rules").
  const query = async (name, text, values) => {
    const started = Date.now()
    for (let pause = 50, attempt = 1; ; pause = Math.min(2 * pause, 2000), attempt++) {
      try {
        return await pool.query({ name: `whatsapp_auth_${name}`, text, values })
      } catch (err) {
        const left = started + retryForMs - Date.now()
        if (!wentAway(err) || left <= 0) {
          if (attempt === 1) throw err
          throw Object.assign(new Error(`whatsapp_auth ${name}: the database was away for ` +
            `${Date.now() - started} ms (${attempt} attempts, retryForMs ${retryForMs}): ${err.message}`,
          { cause: err }), { code: err.code })
        }
        await sleep(Math.min(pause, left))
      }
    }
  }
  // A write: SELECT whatsapp_auth.fn($1, ...); with a lease, its token is
  // one more argument.
  const lease = leaseOptions ? await accountLease(query, companyId, leaseOptions) : null
  const write = (fn, values) => lease ? lease.write(fn, values) : query(fn, callText(fn, values.length), values)

  // A failed read throws: never a silent fresh identity over a stored one.
  const { rows } = await query('creds_get', 'SELECT whatsapp_auth.creds_get($1)::text AS creds', [companyId])
  const creds = rows[0].creds === null ? initAuthCreds() : revive(rows[0].creds)

  const reviveKey = (type, value) =>
    type === 'app-state-sync-key' ? proto.Message.AppStateSyncKeyData.fromObject(value) : value
  // keys.list / keys.listIds: one type in id order, a page of ids per call.
  const PAGE = 1000
  async function* pages(type, withValues) {
    for (let after = null; ;) {
      const { rows } = await query(withValues ? 'keys_page' : 'keys_page_ids',
        `SELECT key_id, ${withValues ? 'value::text' : 'NULL'} AS value
           FROM whatsapp_auth.keys_page($1, $2, $3, $4, $5)`, [companyId, type, after, PAGE, withValues])
      yield* rows
      if (rows.length < PAGE) return
      after = rows[rows.length - 1].key_id
    }
  }

  const keys = {
    async get(type, ids) {
      // keys_get_json: the answer already in the JSON text it is parsed from.
      // One id, Baileys' most frequent read, goes as a text parameter:
      // binding an array costs both ends more.
      const { rows } = ids.length === 1
        ? await query('keys_get_json_one',
          'SELECT whatsapp_auth.keys_get_json($1, $2, ARRAY[$3::text])::text AS found', [companyId, type, ids[0]])
        : await query('keys_get_json',
          'SELECT whatsapp_auth.keys_get_json($1, $2, $3)::text AS found', [companyId, type, ids])
      const found = revive(rows[0].found)
      if (type === 'app-state-sync-key') {
        for (const id of Object.keys(found)) found[id] = reviveKey(type, found[id])
      }
      return found
    },
    async* list(type) {
      for await (const row of pages(type, true)) yield [row.key_id, reviveKey(type, revive(row.value))]
    },
    async* listIds(type) {
      for await (const row of pages(type, false)) yield row.key_id
    },
    // Baileys' own argument, {type: {id: value | null}}: one atomic call,
    // in the select list (in FROM it would cost a function scan more).
    // A large one through keys_set_text, which walks the text as it is sent
    // instead of holding a jsonb tree of it (a fifth of the memory, and
    // faster); a small one through keys_set, a few µs cheaper per call.
    async set(data) {
      const text = serialize(data)
      await write(text.length >= LARGE_SET ? 'keys_set_text' : 'keys_set', [companyId, text])
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
