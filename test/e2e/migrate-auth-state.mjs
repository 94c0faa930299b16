// Baileys' migrateAuthState and the folder listing it needs, ported from
// Baileys' develop branch at commit e70697f6b2446199dc104dc37f42f55f4a976822
// (src/Utils/migrate-auth-state.ts; decodeIdForType, iterateType, list and
// listIds of src/Utils/use-multi-file-auth-state.ts): no npm release of
// Baileys carries them yet.  TypeScript types are dropped; the code is
// Baileys', comments shortened.  One change, marked below: iterateType
// skips the files of a longer type name (develop's lists every
// sender-key-memory file as a sender-key too).
import { readdir } from 'node:fs/promises'

const ALL_TYPES = [
  'pre-key',
  'session',
  'sender-key',
  'sender-key-memory',
  'app-state-sync-key',
  'app-state-sync-version',
  'lid-mapping',
  'device-list',
  'tctoken',
  'identity-key',
]

// --- src/Utils/migrate-auth-state.ts

export async function migrateAuthState({ from, to, batchSize = 100, skipExisting = true, logger, verify = true }) {
  if (!from.keys.list) {
    throw new Error(
      'migrateAuthState: source store does not implement `list(type)`. Upgrade the source adapter or supply the records manually.'
    )
  }

  const result = { creds: { copied: false }, counts: {}, verified: false, warnings: [] }

  Object.assign(to.creds, from.creds)
  result.creds.copied = true
  logger?.info('migrateAuthState: creds copied')

  function buildSetPayload(type, batch) {
    const payload = {}
    payload[type] = batch
    return payload
  }

  for (const type of ALL_TYPES) {
    let batch = {}
    let batchCount = 0
    let total = 0

    // not inside the listing try/catch: a destination write failure propagates
    const flush = async () => {
      if (batchCount === 0) return
      await to.keys.set(buildSetPayload(type, batch))
      total += batchCount
      batch = {}
      batchCount = 0
    }

    let existingIds = null
    if (skipExisting && to.keys.listIds) {
      existingIds = new Set()
      try {
        for await (const id of to.keys.listIds(type)) existingIds.add(id)
      } catch (e) {
        result.warnings.push(`failed to enumerate existing destination ids for ${type}: ${String(e)}`)
        existingIds = null
      }
    }

    try {
      for await (const [id, value] of from.keys.list(type)) {
        if (existingIds?.has(id)) continue
        batch[id] = value
        batchCount++
        if (batchCount >= batchSize) {
          await flush()
        }
      }
    } catch (e) {
      result.warnings.push(`failed to enumerate source records for ${type}: ${String(e)}`)
    }

    await flush()

    result.counts[type] = total
    logger?.info({ type, count: total }, 'migrateAuthState: copied type')
  }

  if (verify) {
    const verifyOk = await verifyMigration(from, to, logger, result.warnings)
    result.verified = verifyOk
  }

  logger?.info(
    { counts: result.counts, verified: result.verified, warnings: result.warnings.length },
    'migrateAuthState: done'
  )
  return result
}

async function verifyMigration(from, to, logger, warnings) {
  if (!from.keys.listIds && !from.keys.list) return false
  if (!to.keys.listIds && !to.keys.list) return false

  let ok = true
  for (const type of ALL_TYPES) {
    const fromIds = await collectIds(from, type)
    const toIds = await collectIds(to, type)
    if (fromIds === null || toIds === null) {
      warnings.push(`verification skipped for ${type}: unable to enumerate one side`)
      ok = false
      continue
    }

    for (const id of fromIds) {
      if (!toIds.has(id)) {
        warnings.push(`destination missing ${type}:${id}`)
        ok = false
      }
    }

    for (const id of toIds) {
      if (!fromIds.has(id)) {
        warnings.push(`destination has unexpected ${type}:${id}`)
        ok = false
      }
    }
  }

  logger?.info({ ok }, 'migrateAuthState: verification complete')
  return ok
}

async function collectIds(state, type) {
  const out = new Set()
  try {
    if (state.keys.listIds) {
      for await (const id of state.keys.listIds(type)) out.add(id)
    } else if (state.keys.list) {
      for await (const [id] of state.keys.list(type)) out.add(id)
    } else {
      return null
    }

    return out
  } catch {
    return null
  }
}

// --- src/Utils/use-multi-file-auth-state.ts: list / listIds, added to the
// state of the installed Baileys' useMultiFileAuthState(folder); values are
// read through its own keys.get, which revives them as develop's readData
// and fromObject do.

const fixFileName = (file) => file?.replace(/\//g, '__')?.replace(/:/g, '-')

function decodeIdForType(type, encodedId) {
  if (type === 'sender-key') {
    return encodedId.replace(/--/g, '::')
  }

  if (type === 'app-state-sync-key') {
    return encodedId.replace(/__/g, '/')
  }

  return encodedId
}

export function withFolderListing(folder, { state, saveCreds }) {
  async function* iterateType(type) {
    const entries = await readdir(folder)
    const prefix = `${fixFileName(type)}-`
    // the change: a longer type's files are not this type's
    const longer = ALL_TYPES.filter((t) => t !== type && t.startsWith(prefix)).map((t) => `${t}-`)
    for (const filename of entries) {
      if (!filename.startsWith(prefix) || !filename.endsWith('.json')) continue
      if (longer.some((p) => filename.startsWith(p))) continue
      if (filename.endsWith('.tmp') || filename.endsWith('.bak')) continue
      const encodedId = filename.slice(prefix.length, -'.json'.length)
      yield { id: decodeIdForType(type, encodedId), filename }
    }
  }

  const keys = {
    ...state.keys,
    list: async function* (type) {
      for await (const entry of iterateType(type)) {
        const value = (await state.keys.get(type, [entry.id]))[entry.id]
        if (value !== null && value !== undefined) {
          yield [entry.id, value]
        }
      }
    },
    listIds: async function* (type) {
      for await (const entry of iterateType(type)) {
        yield entry.id
      }
    },
  }
  return { state: { creds: state.creds, keys }, saveCreds }
}
