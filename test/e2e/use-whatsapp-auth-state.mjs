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

export async function useWhatsappAuthState(pool, companyId, { BufferJSON, initAuthCreds, proto }) {
  const revive = (text) => reviveBuffers(JSON.parse(text))
  const serialize = (value) => JSON.stringify(value, BufferJSON.replacer)
  // Named: each pooled connection prepares a statement once, then only binds.
  // (Behind PgBouncer's transaction pooling before 1.21, leave out `name`.)
  const query = (name, text, values) => pool.query({ name: `whatsapp_auth_${name}`, text, values })

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
      const { rows } = await query('keys_get',
        'SELECT whatsapp_auth.keys_get($1, $2, $3)::text AS found', [companyId, type, ids])
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
    async set(data) {
      await query('keys_set', 'SELECT whatsapp_auth.keys_set($1, $2)', [companyId, serialize(data)])
    },
    async clear() {
      await query('keys_clear', 'SELECT whatsapp_auth.keys_clear($1)', [companyId])
    },
  }

  const saveCreds = async () => {
    await query('creds_set', 'SELECT whatsapp_auth.creds_set($1, $2)', [companyId, serialize(creds)])
  }

  return { state: { creds, keys }, saveCreds }
}
