// Seed corpus for the buffer_codec fuzzer.
//   node make_seeds.mjs SESSION_JSON OUT_DIR
// Writes each distinct base64 "data" string of the session's Buffer nodes
// (BufferJSON form) as one file, plus hand-made edge cases.  SESSION_JSON
// may be "" to write only the edge cases.  Output is generated: keep it
// out of git.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'

const MAX_FROM_SESSION = 300

const [sessionPath, outDir] = process.argv.slice(2)
if (sessionPath === undefined || !outDir) {
  console.error('usage: node make_seeds.mjs SESSION_JSON OUT_DIR')
  process.exit(2)
}

// Inputs the session is unlikely to hold but the decoder must judge.
const edgeCases = [
  '', '=', '==', '===', '====', 'A', 'AA', 'AAA', 'AA==', 'AAA=', 'AB==',
  'AAB=', 'A===', 'AAAA', 'AAAAA', 'AA=A', '=AAA', '-_', '-_-_', '+/+/',
  'QUJD', 'QUI', 'QQ', 'QUJDRA', 'QU JD', 'QUJD\n', '\nQUJD', 'QU\tJD',
  'QUJD\r\nRA==', 'Q\0JD', '\u00ff\u00fe==',
]

// Walk the tree; order of discovery keeps the output deterministic.
function collect(node, found) {
  if (node === null || typeof node !== 'object') return
  if (node.type === 'Buffer' && typeof node.data === 'string') {
    found.add(node.data)
    return
  }
  for (const key of Object.keys(node)) collect(node[key], found)
}

let fromSession = []
if (sessionPath !== '') {
  const found = new Set()
  collect(JSON.parse(readFileSync(sessionPath, 'utf8')), found)
  // One of each length first, so the cap trims repeats rather than shapes.
  const all = [...found]
  const seenLen = new Set()
  const firsts = all.filter((s) => !seenLen.has(s.length) && seenLen.add(s.length))
  const firstSet = new Set(firsts)
  const rest = all.filter((s) => !firstSet.has(s))
  fromSession = [...firsts, ...rest].slice(0, MAX_FROM_SESSION)
}

mkdirSync(outDir, { recursive: true })
const names = new Set()
for (const s of [...fromSession, ...edgeCases]) {
  const bytes = Buffer.from(s, 'latin1')
  // Content-addressed names, as libFuzzer names its own corpus files.
  const name = createHash('sha1').update(bytes).digest('hex')
  if (names.has(name)) continue
  names.add(name)
  writeFileSync(join(outDir, name), bytes)
}
console.log(`${names.size} seeds (${fromSession.length} from session) in ${outDir}`)
