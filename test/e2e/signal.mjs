// Helpers to run Baileys' own Signal repository on stores kept in
// whatsapp_auth: accounts, pre-key bundles, and a silent logger.
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import { useWhatsappAuthState } from './use-whatsapp-auth-state.mjs'

const require = createRequire(import.meta.url)

export const silentLogger = {
  level: 'silent',
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
  child() { return silentLogger },
}

// makeLibSignalRepository is not re-exported at the top level of Baileys
async function repositoryFactory(major) {
  const pkg = major === 6 ? 'baileys6' : 'baileys7'
  const file = require.resolve(`${pkg}/lib/Signal/libsignal.js`)
  const mod = await import(pathToFileURL(file).href)
  return (mod.makeLibSignalRepository ?? mod.default.makeLibSignalRepository)
}

// An account whose creds and keys live in the database under `company`,
// opened as a restarted process would: everything loaded from the store,
// keys behind Baileys' cache and transaction layers.  options go to the
// adapter (e.g. { lease }); close() is the adapter's, when it has one.
export async function openAccount(pool, company, baileys, major, options) {
  const { state, saveCreds, close } = await useWhatsappAuthState(pool, company, baileys, options)
  const keys = baileys.addTransactionCapability(
    baileys.makeCacheableSignalKeyStore(state.keys, silentLogger),
    silentLogger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  const auth = { creds: state.creds, keys }
  const makeRepository = await repositoryFactory(major)
  const repository = makeRepository(auth, silentLogger)
  return { creds: state.creds, keys, saveCreds, repository, close }
}

// A fresh account as Baileys creates one: initAuthCreds() and pre-keys.
export async function createAccount(pool, company, baileys, major, preKeyCount = 30) {
  const account = await openAccount(pool, company, baileys, major)
  await account.saveCreds()
  const { update } = await baileys.getNextPreKeys({ creds: account.creds, keys: account.keys }, preKeyCount)
  Object.assign(account.creds, update)
  await account.saveCreds()
  return account
}

// What the server would hand out for `creds` with one of its pre-keys.
export function preKeyBundle(baileys, creds, preKeyId, preKey) {
  const pub = baileys.generateSignalPubKey
  return {
    registrationId: creds.registrationId,
    identityKey: pub(creds.signedIdentityKey.public),
    signedPreKey: {
      keyId: creds.signedPreKey.keyId,
      publicKey: pub(creds.signedPreKey.keyPair.public),
      signature: creds.signedPreKey.signature,
    },
    preKey: { keyId: Number(preKeyId), publicKey: pub(preKey.public) },
  }
}
