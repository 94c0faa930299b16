// The README prints the reference adapter: it must be this very file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

test('the README prints the adapter the tests use, verbatim', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const adapter = readFileSync(new URL('./use-whatsapp-auth-state.mjs', import.meta.url), 'utf8')
  assert.ok(readme.includes('```js\n' + adapter + '```'), 'README.md and test/e2e/use-whatsapp-auth-state.mjs differ')
})
