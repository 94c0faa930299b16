// Both Baileys majors, installed side by side under npm aliases, and the
// sample session the tests replay.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export const MAJORS = [6, 7]

// ../shared/data/session.json beside the repository, or WHATSAPP_AUTH_SESSION
const sessionPath = process.env.WHATSAPP_AUTH_SESSION ??
  fileURLToPath(new URL('../../../shared/data/session.json', import.meta.url))
export const sessionText = readFileSync(sessionPath, 'utf8')
// the Baileys 7 sample beside it: all ten key types
export const sessionV7Text = () => readFileSync(join(dirname(sessionPath), 'session-v7.json'), 'utf8')

export async function loadBaileys(major) {
  const mod = await import(major === 6 ? 'baileys6' : 'baileys7')
  // 6.x is CommonJS: its exports are on the default export
  return mod.default?.BufferJSON ? mod.default : mod
}
