// An SQL mutation loop: real values of the sample session, mutated with
// knowledge of their structure (Buffer nodes, key documents, ids, company
// ids) and sometimes as raw text, fed to every function that takes input.
// Each call either succeeds or fails with a typed SQLSTATE: never XX000
// (an elog that the C code did not mean to reach), never a crash (which
// would end every connection), never a hang.  The loop must also still
// reach the C code: every function sees successes and errors raised past
// the parameter casts, so the test fails if the mutations stop biting.
//
// Reproducible: the PRNG seed is printed; MUTATION_SEED=<seed> replays a
// run and MUTATION_ROUNDS=<n> sets its length (one round calls every
// function once; the default 500 rounds take about 15 s).  A failing call's
// full input is written to a file in the temporary directory.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { sessionText } from './baileys.mjs'

const ROUNDS = Number(process.env.MUTATION_ROUNDS ?? 500)
const SEED = process.env.MUTATION_SEED !== undefined
  ? Number(process.env.MUTATION_SEED) >>> 0
  : (Date.now() ^ (process.pid << 12)) >>> 0
// rounds between two checks that the server still accepts connections
const BATCH = 100
// Small enough for the huge mutations to reach 54000, big enough for every
// real value of the sample session (the largest is 55 kB).
const MAX_VALUE_SIZE = 128 * 1024
const CONFIG = { options: '-c statement_timeout=20s' }
// Superuser settings, skipped for other roles: the size limit above, and
// the thousands of expected errors (some quoting 200 kB tokens) kept out
// of the server log.  A crash is still logged by the postmaster.
const SESSION_SETTINGS = [
  `SET whatsapp_auth.max_value_size = ${MAX_VALUE_SIZE}`,
  'SET log_min_messages = fatal',
  'SET log_min_error_statement = panic',
]

const COMPANY_RE = /^[A-Za-z0-9_-]{1,50}$/
const BASE = `mut_${process.pid}`
const SOURCE = `${BASE}_src`
const IMPORTED = `${BASE}_imp`
// every well-formed company id handed to a function: removed at the end
const touched = new Set([BASE, SOURCE, IMPORTED])
const track = (company) => {
  if (typeof company === 'string' && COMPANY_RE.test(company)) touched.add(company)
  return company
}

//
// Seeded PRNG (mulberry32) and helpers
//
function mulberry32(a) {
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = mulberry32(SEED)
const int = (n) => Math.floor(rand() * n)
const between = (lo, hi) => lo + int(hi - lo + 1)
const chance = (p) => rand() < p
const pick = (a) => a[int(a.length)]
const choose = (a) => { const x = pick(a); return typeof x === 'function' ? x() : x }
function randomBytes(n) {
  if (n > 4096) return Buffer.alloc(n, randomBytes(4093)) // a random block, repeated
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = int(256)
  return b
}
const VALID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
const validChars = (n) => Array.from({ length: n }, () => pick(VALID_CHARS)).join('')
function shuffled(a) {
  const out = [...a]
  for (let i = out.length - 1; i > 0; i--) { const j = int(i + 1); [out[i], out[j]] = [out[j], out[i]] }
  return out
}

//
// The real values
//
const session = JSON.parse(sessionText)
const keyTypes = Object.keys(session.keys)
const keyIds = Object.fromEntries(keyTypes.map((t) => [t, Object.keys(session.keys[t])]))
function realKey() {
  const type = pick(keyTypes)
  const id = pick(keyIds[type])
  return { type, id, value: session.keys[type][id] }
}
// mostly key values (of a random type, so the big sessions stay a minority), sometimes the creds
const realValue = () => (chance(0.2) ? session.creds : realKey().value)

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const isBufferNode = (v) => isObject(v) && v.type === 'Buffer' && typeof v.data === 'string'

// Every position in a value: {parent, key, value, path}
function positions(root) {
  const out = []
  const visit = (parent, key, value, path) => {
    out.push({ parent, key, value, path })
    if (path.length < 200 && value !== null && typeof value === 'object') {
      for (const k of Object.keys(value)) {
        const key = Array.isArray(value) ? Number(k) : k
        visit(value, key, value[k], [...path, String(key)])
      }
    }
  }
  visit(null, null, root, [])
  return out
}

//
// Mutations
//
const WEIRD_STRINGS = ['', ' ', 'é', '日本語', '🙂', '\u0000', '\ud800', '\udc00', '\u2028', '\u200b',
  '\ufeff', 'e\u0301', '"', '\\', '\n', '\u001f', '\u007f', 'Buffer', 'type', 'data', '$', '.',
  '[0]', "'", '%s%n', 'x'.repeat(300), '\u202e', '𝄞']
// JSON number literals (some invalid) spliced into the text as they are
const NUMBER_LITERALS = ['256', '-1', '1.5', '255.0', '7.0', '1e2', '2.55e2', '2.56e2', '1e400',
  '-0', '0.0', '-0.0', '1e-400', '99999999999999999999999', '1E+2', '255.00000000000000000001',
  '-1e-999', '0.5e1', '1e-1', '00', '01', '0x10', 'NaN', 'Infinity', '+1', '.5', '5.']
const BAD_BASE64_CHARS = ['!', '*', ' ', '\n', '.', 'é', '=', '\\', '"', '\t', '%', '€', '\u0000',
  '-', '_', '+', '/', '🙂', '\r']
const TEXT_FLIPS = ['{', '}', '[', ']', '"', ':', ',', '\\', ' ', '0', 'a', 'Z', 'é', '\u0000', '\n',
  '\t', '-', '.', 'e', 'E', '+', 't', 'n', '🙂', '\ud800']

// A value under mutation; raw() splices literal JSON text in at serialisation.
class Mutant {
  constructor(value) {
    this.root = structuredClone(value)
    this.raws = new Map()
  }

  raw(text) {
    const token = `\u0001raw${this.raws.size}\u0001`
    this.raws.set(JSON.stringify(token), text)
    return token
  }

  set(pos, value) {
    if (pos.parent === null) this.root = value
    else pos.parent[pos.key] = value
  }

  text() {
    let text = JSON.stringify(this.root) ?? 'null'
    for (const [token, raw] of this.raws) text = text.split(token).join(raw)
    return text
  }
}

const randomScalar = (m) => choose([0, 1, -1, 1.5, 'x', '', null, true, false,
  () => m.raw(pick(NUMBER_LITERALS)), () => pick(WEIRD_STRINGS)])

function weirdString(s) {
  switch (int(4)) {
    case 0: { const i = int(s.length + 1); return s.slice(0, i) + pick(WEIRD_STRINGS) + s.slice(i) }
    case 1: return pick(WEIRD_STRINGS)
    case 2: return s.length < 1000 ? s.repeat(between(2, 50)) : s + s
    default: return s.toUpperCase() + pick(WEIRD_STRINGS)
  }
}

const weirdKey = (k = 'k') => choose(['', 'type', 'data', 'buffer', 'value', '0', '1', '-1', '00',
  'constructor', () => k + '\u0000', () => k.toUpperCase(), () => 'é'.repeat(300),
  () => 'k'.repeat(between(100, 70000)), () => weirdString(k)])

function badByte(m) {
  return choose([256, -1, 1.5, '7', null, [1], {}, true, 1e21, 255, 0, -0,
    () => m.raw(pick(NUMBER_LITERALS)), () => ({ type: 'Buffer', data: 'AA==' })])
}

function mutateBase64(s) {
  switch (int(13)) {
    case 0: { const i = int(s.length + 1); return s.slice(0, i) + pick(BAD_BASE64_CHARS) + s.slice(i) }
    case 1: return s.slice(0, int(s.length))
    case 2: return s.replace(/\+/g, '-').replace(/\//g, '_')
    case 3: return s.replace(/=+$/, '')
    case 4: return randomBytes(pick([3000, 30000, 100000, 150000])).toString('base64')
    case 5: return ''
    case 6: return s + pick(['=', '==', '===', 'A', 'AA', 'AAA', '=A', 'A='])
    case 7: {
      // bits past the last byte not zero: decodes, is not canonical
      const p = s.indexOf('=')
      return p > 0 ? s.slice(0, p - 1) + pick(['B', 'D', 'P', '/', '9', 'z']) + s.slice(p) : s + 'AB=='
    }
    case 8: return pick(['=', '==', '===', '====', 'A', 'AAAAA', 'A===', 'AA=A', '=AAA', 'A=A=', '-_-_'])
    case 9: return s.replace(/(.{8})/g, '$1\n')
    case 10: return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')
    case 11: { const i = int(s.length + 1); return s.slice(0, i) + '==' + s.slice(i) }
    default: return s + s
  }
}

function mutateByteArray(m, bytes) {
  if (chance(0.08)) return []
  if (chance(0.04)) return Array.from({ length: pick([70000, 200000]) }, () => int(256))
  const arr = [...bytes]
  for (let k = between(0, 3); k > 0; k--) arr[int(arr.length || 1)] = badByte(m)
  return arr
}

// Node's Uint8Array-as-object form {"0":b0,...}, mutated or not
function byteObject(m, bytes) {
  const o = {}
  bytes.forEach((b, i) => { o[i] = b })
  const n = bytes.length
  switch (int(9)) {
    case 0: break
    case 1: delete o[int(n)]; break
    case 2: o[n] = int(256); break
    case 3: delete o[0]; o['00'] = 1; break
    case 4: o[int(n || 1)] = badByte(m); break
    case 5: return {}
    case 6: o['-1'] = 1; break
    case 7: o[pick(['4294967296', '99999999999999999999', '1e3', ' 1', '１', '0.0', String(n + 1)])] = 1; break
    default: return { 0: int(256) }
  }
  return o
}

function legacyNode(m, data, bytes) {
  const node = {
    buffer: pick([true, true, true, 'true', 1, false, null]),
    value: choose([data, () => [...bytes], () => mutateBase64(data), () => mutateByteArray(m, bytes)]),
  }
  if (chance(0.15)) delete node.value
  if (chance(0.15)) node[weirdKey()] = randomScalar(m)
  return node
}

// A replacement for a Buffer node {"type":"Buffer","data":"<base64>"}
function mutateBuffer(m, node) {
  const bytes = Buffer.from(node.data, 'base64')
  switch (int(11)) {
    case 0: case 1: return { ...node, data: mutateBase64(node.data) }
    case 2: return { ...node, data: mutateByteArray(m, bytes) }
    case 3: { const n = { ...node }; delete n[pick(['type', 'data'])]; return n }
    case 4: return { ...node, [pick(['extra', 'length', '0', 'buffer', 'value', 'Type', 'data '])]: randomScalar(m) }
    case 5: return {
      ...node,
      type: pick(['buffer', 'BUFFER', 'Buffer ', '', 'Uint8Array', 'Bufer', 'Buffer\u0000', 1, null,
        true, [], {}, ['Buffer'], { type: 'Buffer' }]),
    }
    case 6: return { ...node, data: pick([null, 0, 1.5, true, {}, { type: 'Buffer', data: node.data }, { 0: 1 }, [[1]]]) }
    case 7: return legacyNode(m, node.data, bytes)
    case 8: return byteObject(m, bytes)
    case 9: return { ...node, data: [...bytes] }
    default: return { ...node, data: weirdString(node.data) }
  }
}

function typeSwap(v) {
  const alt = Array.isArray(v) ? { ...v } : isObject(v) ? Object.values(v) : [v]
  return pick([alt, JSON.stringify(v) ?? 'x', 42, -1, 0.5, null, true, false, {}, [], 'string'])
}

function nest(m, v) {
  const depth = pick([2, 10, 100, 1000, 5000, 20000, 100000])
  if (depth <= 1000) {
    const asArray = chance(0.5)
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v }
    return v
  }
  return chance(0.5)
    ? m.raw('['.repeat(depth) + '1' + ']'.repeat(depth))
    : m.raw('{"a":'.repeat(depth) + '{"type":"Buffer","data":"AA=="}' + '}'.repeat(depth))
}

function mutateNode(m, pos) {
  const v = pos.value
  switch (int(9)) {
    case 0: m.set(pos, typeSwap(v)); break
    case 1: m.set(pos, null); break
    case 2: m.set(pos, nest(m, v)); break
    case 3: m.set(pos, typeof v === 'string' ? weirdString(v) : pick(WEIRD_STRINGS)); break
    case 4:
      if (Array.isArray(v) && v.length) v.splice(int(v.length), 1)
      else if (isObject(v) && Object.keys(v).length) delete v[pick(Object.keys(v))]
      else m.set(pos, randomScalar(m))
      break
    case 5:
      if (Array.isArray(v)) v.push(randomScalar(m))
      else if (isObject(v)) v[weirdKey()] = randomScalar(m)
      else m.set(pos, [v, randomScalar(m)])
      break
    case 6:
      if (isObject(v) && Object.keys(v).length) {
        const k = pick(Object.keys(v))
        const value = v[k]
        delete v[k]
        v[weirdKey(k)] = value
      } else m.set(pos, { [weirdKey()]: v })
      break
    case 7: m.set(pos, m.raw(pick(NUMBER_LITERALS))); break
    default: m.set(pos, choose([[], {}, () => 'x'.repeat(between(1, 200000)), () => ({ type: 'Buffer', data: v })]))
  }
}

// count mutations, mostly on Buffer nodes where there are some
function mutate(m, count) {
  for (let i = 0; i < count; i++) {
    const all = positions(m.root)
    const buffers = all.filter((p) => isBufferNode(p.value))
    if (buffers.length && chance(0.55)) {
      const p = pick(buffers)
      m.set(p, mutateBuffer(m, p.value))
    } else mutateNode(m, pick(all))
  }
}

const mutationCount = () => (chance(0.15) ? 0 : between(1, 3))

// Raw text mutations: most break the JSON and fail at the jsonb cast.
function mutateText(t) {
  const i = int(t.length + 1)
  switch (int(6)) {
    case 0: {
      for (let k = between(1, 3); k > 0; k--) { const j = int(t.length); t = t.slice(0, j) + pick(TEXT_FLIPS) + t.slice(j + 1) }
      return t
    }
    case 1: return t.slice(0, i)
    case 2: return t.slice(0, i) + t.slice(i + between(1, 40))
    case 3: return t.slice(0, i) + t.slice(int(t.length), int(t.length) + between(1, 200)) + t.slice(i)
    case 4: {
      const q = t.indexOf('"', i)
      return q < 0 ? t : t.slice(0, q + 1) + pick(['\\u0000', '\\ud800', '\\udc00x', '\\u', '\\x41', '\\']) + t.slice(q + 1)
    }
    default: { const j = int(t.length); const a = t[i] ?? ''; const b = t[j] ?? ''; return t.slice(0, i) + b + t.slice(i + 1, j) + a + t.slice(j + 1) }
  }
}

// jsonb in the binary protocol: version byte 1, then the text, bytes flipped
function binaryJsonb(t) {
  const bytes = Buffer.concat([Buffer.from([1]), Buffer.from(t, 'utf8')])
  for (let k = between(0, 3); k > 0; k--) bytes[between(1, bytes.length - 1)] = int(256)
  return bytes
}

// A jsonb parameter from a Mutant: its text, or that text mutated, or binary, or NULL
function jsonbParam(m) {
  const text = m.text()
  const r = rand()
  if (r < 0.08) return { param: mutateText(text), raw: 'text' }
  if (r < 0.11) return { param: binaryJsonb(text), raw: 'binary' }
  if (r < 0.13) return { param: null }
  return { param: text }
}

function mutatedValue(value = realValue()) {
  const m = new Mutant(value)
  mutate(m, mutationCount())
  return m
}

//
// Mutated identifiers
//
const BAD_ID_CHARS = [' ', '.', 'é', '/', "'", '"', '\\', '%', '\u0000', '🙂', '\n', '*', ':', '\u200b', 'İ']

function company({ base = 0.6 } = {}) {
  const r = rand()
  if (r < base) return BASE
  if (r < base + 0.15) return track(`${BASE}_${validChars(between(1, 50 - BASE.length - 1))}`)
  if (r < base + 0.2) return null // the rest (about 20 %) is malformed
  return track(choose([
    () => BASE + pick(BAD_ID_CHARS),
    () => pick(BAD_ID_CHARS) + BASE,
    '',
    () => validChars(pick([51, 52, 100, 1000, 100000])),
    () => BASE.padEnd(50, 'z'),
    () => BASE.padEnd(51, 'z'),
    () => BASE.toUpperCase(),
    () => weirdString(BASE),
    () => BASE + '\u0000',
  ]))
}

function keyType({ star = false } = {}) {
  const r = rand()
  if (r < 0.65) return pick(keyTypes)
  if (r < 0.75) return pick(['foo', 'x', 'a-b-c', '0', '-', 'k'.repeat(64)])
  if (r < 0.78) return null
  return choose(['', 'Session', 'pre_key', 'pre key', 'k'.repeat(65), star ? '*' : '**', 'é', 'pre-key\u0000',
    () => weirdString(pick(keyTypes)), () => 'x'.repeat(10000), 'PRE-KEY', '*', '%'])
}

function keyId(type = pick(keyTypes)) {
  const r = rand()
  if (r < 0.75) return pick(keyIds[type] ?? keyIds['pre-key'])
  if (r < 0.88) return choose([() => `id${int(1e6)}`, 'é'.repeat(255), '𝄞'.repeat(255), 'x'.repeat(255), 'ø✓', '*', ' '])
  return choose(['', 'x'.repeat(256), 'é'.repeat(256), '𝄞'.repeat(256), () => 'x'.repeat(100000),
    () => weirdString(pick(keyIds[type] ?? ['k'])), () => (chance(0.3) ? 'a\u0000b' : '\ud800')])
}

function idArray(type) {
  const r = rand()
  if (r < 0.05) return null
  if (r < 0.1) return []
  if (r < 0.15) return [[keyId(type), keyId(type)], [keyId(type), keyId(type)]]
  if (r < 0.18) return [[keyId(type)], [keyId(type), keyId(type)]]
  if (r < 0.2) return Array.from({ length: 2000 }, () => pick(keyIds[type] ?? keyIds['pre-key']))
  if (r < 0.25) return pick(['{a,b', '{"a"', '[0:1]={a,b}', '[5:5]={x}', '{}', '{{}}', '{NULL}', '{a,NULL}', '{{a}}', 'a', '{"\\"}'])
  return Array.from({ length: between(1, 8) }, () => (chance(0.04) ? null : keyId(type)))
}

// A Baileys SignalDataSet {type: {id: value|null}} built of real keys, then mutated
function keysDocument() {
  const doc = {}
  for (let t = between(1, 3); t > 0; t--) {
    const real = pick(keyTypes)
    const type = chance(0.85) ? real : (keyType() ?? 'x')
    doc[type] ??= {}
    for (let i = between(1, 4); i > 0; i--) {
      const id = chance(0.85) ? pick(keyIds[real]) : (keyId(real) ?? 'n')
      doc[type][id] = chance(0.15) ? null : session.keys[real][pick(keyIds[real])]
    }
  }
  return mutatedValue(doc)
}

//
// Calling, classifying, tallying
//
const tally = {}
const failures = [] // XX***, crash-ish codes, untyped errors, timeouts
const invariants = [] // results that contradict the store
const lost = [] // connection losses
let client
let round = 0

// Keep the report readable: long params shortened, Buffers as base64
function preview(v, max = 200) {
  if (Buffer.isBuffer(v)) return `<binary ${v.length} bytes>`
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s === undefined ? String(v) : s.length > max ? `${s.slice(0, max)}... (${s.length} chars)` : s
}

function saveInput(fn, sql, params, err) {
  const file = join(tmpdir(), `whatsapp_auth-mutation-${SEED}-${round}-${fn}.json`)
  try {
    writeFileSync(file, JSON.stringify({
      seed: SEED, round, fn, sql, code: err?.code, message: err?.message,
      params: params.map((p) => (Buffer.isBuffer(p) ? { binary: p.toString('base64') } : p)),
    }))
  } catch { /* the report below still names the call */ }
  return file
}

// A crash ends every connection: 57P02 to the others, a reset socket to the crashed one
const isConnectionLoss = (err) => err instanceof pg.DatabaseError
  ? /^(08|57P0)/.test(err.code)
  : /terminat|ECONNRESET|ECONNREFUSED|EPIPE|not queryable|closed/i.test(`${err.code} ${err.message}`)
const isTyped = (code) => typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) &&
  !/^(XX|58)/.test(code) && code !== '57014'

class ConnectionLost extends Error {}

// Run one call; returns the first row, or undefined when it raised a typed error.
async function call(fn, sql, params, raw) {
  const t = tally[fn] ??= { calls: 0, ok: 0, errors: {}, cast: {}, raw: 0, rawCast: 0 }
  t.calls++
  if (raw) t.raw++
  try {
    const { rows } = await client.query(sql, params)
    t.ok++
    return rows[0]
  } catch (err) {
    // anything else not from the server is a bug of this test
    if (!(err instanceof pg.DatabaseError) && !isConnectionLoss(err)) throw err
    if (isConnectionLoss(err)) {
      lost.push({ fn, round, code: err.code, message: err.message, file: saveInput(fn, sql, params, err) })
      throw new ConnectionLost(`${fn}: ${err.message}`)
    }
    if (!isTyped(err.code)) {
      failures.push({ fn, round, code: err.code, message: err.message, params: params.map((p) => preview(p)),
        file: saveInput(fn, sql, params, err) })
      return undefined
    }
    // rejected while the parameters were converted, before the function ran
    const atCast = /portal parameter/.test(err.where ?? '')
    const bucket = atCast ? t.cast : t.errors
    bucket[err.code] = (bucket[err.code] ?? 0) + 1
    if (atCast && raw) t.rawCast++
    return undefined
  }
}

function invariant(fn, what, params) {
  invariants.push({ fn, round, what, params: params.map((p) => preview(p)) })
}

//
// One mutated call per function
//
let exported // session_export() of SOURCE, the document session_import is fed

const CALLS = {
  async creds_set() {
    const m = mutatedValue(session.creds)
    if (chance(0.03)) m.root = pick([[], 'creds', 1, null, [session.creds]])
    const { param, raw } = jsonbParam(m)
    await call('creds_set', 'SELECT whatsapp_auth.creds_set($1, $2)', [company(), param], raw)
  },

  async creds_get() {
    await call('creds_get', 'SELECT whatsapp_auth.creds_get($1)', [company()])
  },

  async keys_set() {
    const m = keysDocument()
    if (chance(0.03)) m.root = pick([[], 'keys', 1, null, [m.root]])
    const { param, raw } = jsonbParam(m)
    await call('keys_set', 'SELECT * FROM whatsapp_auth.keys_set($1, $2)', [company(), param], raw)
  },

  // the same documents as text, walked as they are parsed
  async keys_set_text() {
    const m = keysDocument()
    if (chance(0.03)) m.root = pick([[], 'keys', 1, null, [m.root]])
    const { param, raw } = jsonbParam(m)
    await call('keys_set_text', 'SELECT * FROM whatsapp_auth.keys_set_text($1, $2)', [company(), param], raw)
  },

  async keys_upsert() {
    const type = keyType()
    const real = keyTypes.includes(type) ? type : pick(keyTypes)
    const ids = idArray(real)
    const n = Array.isArray(ids) ? ids.length + (chance(0.1) ? pick([-1, 1]) : 0) : between(0, 3)
    let raw
    // a few mutated values, reused when there are many ids (then small ones)
    const source = n > 16 ? 'pre-key' : real
    const texts = Array.from({ length: Math.min(Math.max(n, 0), 6) }, () => {
      const m = mutatedValue(session.keys[source][pick(keyIds[source])])
      const text = m.text()
      if (n > 16 && text.length > 2000) return '{"k":1}'
      if (chance(0.05)) { raw = 'text'; return mutateText(text) }
      return text
    })
    let vals = Array.from({ length: Math.max(n, 0) }, (_, i) => {
      const r = rand()
      if (r < 0.08) return null
      if (r < 0.14) return 'null'
      return texts[i % texts.length]
    })
    if (chance(0.04)) vals = null
    else if (chance(0.03) && vals.length >= 2) vals = [vals.slice(0, 1), vals.slice(1, 2)]
    await call('keys_upsert', 'SELECT whatsapp_auth.keys_upsert($1, $2, $3, $4)', [company(), type, ids, vals], raw)
  },

  async keys_delete() {
    const type = keyType()
    await call('keys_delete', 'SELECT whatsapp_auth.keys_delete($1, $2, $3)',
      [company(), type, idArray(keyTypes.includes(type) ? type : pick(keyTypes))])
  },

  // checked against the table: the hand-built jsonb must equal jsonb_object_agg's
  async keys_get() {
    const type = keyType()
    const params = [company({ base: 0.7 }), type, idArray(keyTypes.includes(type) ? type : pick(keyTypes))]
    const row = await call('keys_get',
      `SELECT g, g = e AS same, g::text = e::text AS same_text
         FROM (SELECT whatsapp_auth.keys_get($1, $2, $3) AS g) a,
              (SELECT COALESCE(jsonb_object_agg(k.key_id, k.value), '{}') AS e
                 FROM whatsapp_auth.keys k
                WHERE k.company_id = $1 AND k.key_type = $2 AND k.key_id = ANY ($3)
                  AND (k.expires_at IS NULL OR k.expires_at > now())) b`, params)
    if (row && row.g !== null && !(row.same && row.same_text)) invariant('keys_get', 'differs from the rows in whatsapp_auth.keys', params)
  },

  // checked against keys_get: the same object, each value in jsonb's own text
  async keys_get_json() {
    const type = keyType()
    const params = [company({ base: 0.7 }), type, idArray(keyTypes.includes(type) ? type : pick(keyTypes))]
    const row = await call('keys_get_json',
      `SELECT j IS NULL AS isnull, j::jsonb = g AS same,
              (SELECT count(*) FROM json_each(j)) = (SELECT count(*) FROM jsonb_each(g))
              AND (SELECT COALESCE(bool_and(x.value::text = y.value::text), true)
                     FROM json_each(j) x JOIN jsonb_each(g) y USING (key)) AS same_text
         FROM (SELECT whatsapp_auth.keys_get_json($1, $2, $3) AS j, whatsapp_auth.keys_get($1, $2, $3) AS g) a`, params)
    if (row && !row.isnull && !(row.same && row.same_text)) invariant('keys_get_json', 'differs from keys_get', params)
  },

  async keys_clear() {
    await call('keys_clear', 'SELECT whatsapp_auth.keys_clear($1)', [company({ base: 0.05 })])
  },

  async session_remove() {
    await call('session_remove', 'SELECT whatsapp_auth.session_remove($1)', [company({ base: 0.03 })])
  },

  async key_ttl() {
    await call('key_ttl', 'SELECT whatsapp_auth.key_ttl($1)', [keyType({ star: true })])
  },

  async buffer_decode() {
    const value = realValue()
    const buffers = positions(value).filter((p) => isBufferNode(p.value))
    const m = mutatedValue(buffers.length && chance(0.8) ? pick(buffers).value : value)
    const { param, raw } = jsonbParam(m)
    await call('buffer_decode', 'SELECT whatsapp_auth.buffer_decode($1)', [param], raw)
  },

  // checked: buffer_decode(buffer_encode(b)) = b
  async buffer_encode() {
    const param = choose([
      () => randomBytes(pick([0, 1, 2, 3, 4, between(5, 100), between(100, 5000)])),
      () => randomBytes(chance(0.1) ? 1000000 : 100000),
      () => pick(['\\x', '\\x00ff', '\\xZZ', '\\x0', 'abc\\', '\\\\', '\\123', '\\999', 'plain', '\\x' + 'ab'.repeat(1000), '']),
      null,
    ])
    const row = await call('buffer_encode',
      'SELECT whatsapp_auth.buffer_encode($1) AS node, whatsapp_auth.buffer_decode(whatsapp_auth.buffer_encode($1)) = $1 AS same', [param])
    if (row && row.node !== null && row.same !== true) invariant('buffer_encode', 'buffer_decode(buffer_encode(b)) <> b', [param])
  },

  // checked: normalising twice changes nothing
  async buffers_normalize() {
    const { param, raw } = jsonbParam(mutatedValue())
    const row = await call('buffers_normalize',
      'SELECT n IS NOT NULL AS done, whatsapp_auth.buffers_normalize(n) = n AS idempotent FROM (SELECT whatsapp_auth.buffers_normalize($1) AS n) s',
      [param], raw)
    if (row && row.done && row.idempotent !== true) invariant('buffers_normalize', 'not idempotent', [param])
  },

  async jsonb_buffer() {
    const value = realValue()
    const buffers = positions(value).filter((p) => isBufferNode(p.value))
    let path = buffers.length ? [...pick(buffers).path] : positions(value).map((p) => p.path).at(-1)
    if (chance(0.4)) {
      const i = int(path.length + 1)
      switch (int(6)) {
        case 0: path[Math.min(i, path.length)] = choose(['-1', '1e0', ' 0', '99999999999999999999', '', '0x1', '00', '+1', () => weirdKey()]); break
        case 1: path.push(pick(['data', '0', 'type', 'x'])); break
        case 2: path = path.slice(0, i); break
        case 3: path[Math.min(i, path.length)] = null; break
        case 4: path = pick([[], [[...path]], [path, path], Array.from({ length: 1000 }, () => '0')]); break
        default: path = null
      }
    }
    const { param, raw } = jsonbParam(mutatedValue(value))
    await call('jsonb_buffer', 'SELECT whatsapp_auth.jsonb_buffer($1, VARIADIC $2)', [param, path], raw)
  },

  async session_export() {
    await call('session_export', 'SELECT whatsapp_auth.session_export($1)', [company()])
  },

  async session_import() {
    const m = new Mutant(exported)
    mutate(m, mutationCount())
    // a well-formed company_id the mutations made up must still be ours
    const cid = m.root?.company_id
    if (typeof cid === 'string' && COMPANY_RE.test(cid) && !cid.startsWith(BASE)) m.root.company_id = IMPORTED
    track(m.root?.company_id)
    let { param, raw } = jsonbParam(m)
    if (raw === 'text') {
      let doc
      try { doc = JSON.parse(param) } catch { /* fails at the cast */ }
      const c = doc?.company_id
      if (typeof c === 'string' && COMPANY_RE.test(c) && !touched.has(c)) { param = m.text(); raw = undefined }
    } else if (raw === 'binary') {
      // byte flips could name another company: the binary form, unflipped
      param = Buffer.concat([Buffer.from([1]), Buffer.from(m.text(), 'utf8')])
    }
    await call('session_import', 'SELECT whatsapp_auth.session_import($1, $2)', [param, pick([true, true, true, false, false, null])], raw)
  },

  // a useMultiFileAuthState folder of real files: texts mutated as JSON or
  // as raw text, names mutated, leftovers, creds.json sometimes missing
  async session_import_files() {
    const fileText = (value) => (chance(0.9) ? mutatedValue(value).text() : mutateText(JSON.stringify(value)))
    const files = {}
    if (chance(0.9)) files['creds.json'] = fileText(session.creds)
    for (let i = between(0, 5); i > 0; i--) {
      const { type, id, value } = realKey()
      let name = `${type}-${id}.json`.replace(/\//g, '__').replace(/:/g, '-')
      if (chance(0.1)) name = choose([() => weirdString(name), () => name.replace('-', pick(['', '--', '_', ':'])),
        () => `${keyType() ?? 'x'}-${keyId(type) ?? ''}.json`, () => name.toUpperCase(), () => `${name}.bak`, 'creds.json'])
      files[name] = chance(0.03) ? pick([0, null, true, [], {}]) : fileText(value)
    }
    if (chance(0.1)) files[pick(['creds.json.bak', 'x.json.tmp', '.DS_Store'])] = pick(['', '{', 'x'])
    const { param, raw } = jsonbParam(new Mutant(files))
    await call('session_import_files', 'SELECT whatsapp_auth.session_import_files($1, $2, $3)',
      [company(), param, pick([true, true, false, null])], raw)
  },

  async session_export_files() {
    await call('session_export_files', 'SELECT count(*) FROM whatsapp_auth.session_export_files($1)', [company()])
  },

  async keys_page() {
    const type = keyType()
    await call('keys_page', 'SELECT count(*) FROM whatsapp_auth.keys_page($1, $2, $3, $4, $5)',
      [company(), type, chance(0.3) ? null : keyId(keyTypes.includes(type) ? type : undefined),
        pick([1, 2, 1000, 10000, 0, -1, 10001, null, 2147483647, '1.5']), pick([true, false, null])])
  },

  async health() {
    await call('health', 'SELECT whatsapp_auth.health($1)', [company()])
  },

  // dry runs only: mutated arguments, nothing deleted
  async purge_expired() {
    await call('purge_expired', 'SELECT whatsapp_auth.purge_expired($1, $2, $3, dry_run => true)', [
      pick(['0', '1 day', '-1 day', '1000000 years', '178000000 years', 'infinity', '-infinity', 'P1D',
        'abc', null, '1 mon', '2147483647 days', '-2147483648 days', '00:00:00.000001']),
      pick([1, 0, -1, 5000, 2147483647, -2147483648, null, '1.5', 'x', '2147483648']),
      pick([null, 0, -1, 1, '9223372036854775807', '-9223372036854775808', '9223372036854775808']),
    ])
  },
}

async function connect() {
  const c = new pg.Client(CONFIG)
  c.on('error', () => { /* a lost connection surfaces in the next query */ })
  await c.connect()
  for (const sql of SESSION_SETTINGS) await c.query(sql).catch(() => {})
  return c
}

// A fresh connection still gets an answer: the server did not crash or restart.
async function serverUp() {
  let c
  try {
    c = await connect()
    await c.query('SELECT 1')
    return true
  } catch (err) {
    return err
  } finally {
    await c?.end().catch(() => {})
  }
}

after(async () => {
  await client?.end().catch(() => {})
  // after a crash the server refuses connections until it has recovered
  let c
  for (let attempt = 0; !c; attempt++) {
    try { c = await connect() } catch (err) {
      if (attempt === 40 || err.code !== '57P03') throw err
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  try {
    for (const company of touched) await c.query('SELECT whatsapp_auth.session_remove($1)', [company])
  } finally {
    await c.end()
  }
})

function report(elapsed) {
  const fmt = (o) => Object.entries(o).sort().map(([code, n]) => `${code}:${n}`).join(' ') || '-'
  const lines = [`seed ${SEED}, ${round} rounds, ${(elapsed / 1000).toFixed(1)} s`,
    'function            calls     ok  errors raised by the call / rejected at the parameter cast (raw-mutated inputs)']
  for (const fn of Object.keys(CALLS)) {
    const t = tally[fn] ?? { calls: 0, ok: 0, errors: {}, cast: {} }
    lines.push(`${fn.padEnd(17)} ${String(t.calls).padStart(6)} ${String(t.ok).padStart(6)}  ${fmt(t.errors)} / ${fmt(t.cast)}` +
      (t.raw ? ` (raw ${t.raw}, ${t.rawCast} at the cast)` : ''))
  }
  return lines
}

test('mutated real values: every call succeeds or fails with a typed SQLSTATE', async (t) => {
  console.log(`mutation seed ${SEED} (MUTATION_SEED), ${ROUNDS} rounds (MUTATION_ROUNDS)`)
  client = await connect()
  for (const company of touched) await client.query('SELECT whatsapp_auth.session_remove($1)', [company])

  // the document session_import is fed: real creds and a few keys of every type
  await client.query('SELECT whatsapp_auth.creds_set($1, $2)', [SOURCE, JSON.stringify(session.creds)])
  const sample = Object.fromEntries(keyTypes.map((type) =>
    [type, Object.fromEntries(keyIds[type].slice(0, 4).map((id) => [id, session.keys[type][id]]))]))
  await client.query('SELECT whatsapp_auth.keys_set($1, $2)', [SOURCE, JSON.stringify(sample)])
  exported = (await client.query('SELECT whatsapp_auth.session_export($1) AS doc', [SOURCE])).rows[0].doc
  exported.company_id = IMPORTED

  const started = Date.now()
  try {
    for (round = 0; round < ROUNDS; round++) {
      for (const fn of shuffled(Object.keys(CALLS))) await CALLS[fn]()
      if ((round + 1) % BATCH === 0 || round + 1 === ROUNDS) {
        const up = await serverUp()
        if (up !== true) {
          lost.push({ fn: '(server check)', round, code: up.code, message: up.message })
          break
        }
      }
    }
  } catch (err) {
    if (!(err instanceof ConnectionLost)) throw err
    const up = await serverUp()
    if (up !== true) lost.push({ fn: '(server check)', round, code: up.code, message: up.message })
  }
  const elapsed = Date.now() - started

  for (const line of report(elapsed)) t.diagnostic(line)
  for (const f of [...failures, ...lost, ...invariants].slice(0, 20)) t.diagnostic(JSON.stringify(f))

  assert.deepEqual(lost, [], 'a connection was lost: the server crashed or restarted')
  assert.deepEqual(failures, [], 'errors that are not a typed SQLSTATE (XX***, 58***, timeouts)')
  assert.deepEqual(invariants, [], 'results that contradict the store')
  // The mutations still reach the C code and still leave it room to
  // succeed (a short run, below 100 rounds, is not held to this).
  if (ROUNDS < 100) return
  for (const fn of Object.keys(CALLS)) {
    const calls = tally[fn]
    assert.ok(calls?.ok > 0, `${fn} never succeeded`)
    if (fn !== 'buffer_encode') // takes any bytea: nothing to refuse past the cast
      assert.ok(Object.keys(calls.errors).length > 0, `${fn} never raised an error itself`)
  }
  for (const fn of ['creds_set', 'keys_set', 'keys_set_text', 'keys_upsert', 'buffer_decode', 'buffers_normalize', 'jsonb_buffer', 'session_import',
    'session_import_files'])
    assert.ok(tally[fn].errors['22P02'] > 0, `${fn} never refused a malformed Buffer node`)
  for (const fn of ['creds_set', 'keys_set', 'keys_set_text', 'keys_upsert', 'keys_delete', 'keys_get', 'keys_get_json', 'session_remove', 'health',
    'session_import_files', 'session_export_files', 'keys_page'])
    assert.ok(tally[fn].errors['22023'] > 0, `${fn} never refused an identifier`)
})
