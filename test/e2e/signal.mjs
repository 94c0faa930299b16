// Helpers to run Baileys' own Signal repository on stores kept in
// whatsapp_auth: accounts, pre-key bundles, and a silent logger.
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
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

// An account on a Baileys auth state ({ state, saveCreds }: whatsapp_auth's
// adapter, or Baileys' own useMultiFileAuthState), opened as a restarted
// process would: keys behind Baileys' cache and transaction layers.
// close() is the adapter's, when it has one.
export async function openState({ state, saveCreds, close }, baileys, major) {
  const keys = baileys.addTransactionCapability(
    baileys.makeCacheableSignalKeyStore(state.keys, silentLogger),
    silentLogger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  const auth = { creds: state.creds, keys }
  const makeRepository = await repositoryFactory(major)
  const repository = makeRepository(auth, silentLogger)
  return { creds: state.creds, keys, saveCreds, repository, close }
}

// An account whose creds and keys live in the database under `company`;
// options go to the adapter (e.g. { lease }).
export async function openAccount(pool, company, baileys, major, options) {
  return openState(await useWhatsappAuthState(pool, company, baileys, options), baileys, major)
}

// A fresh account as Baileys creates one: initAuthCreds() and pre-keys.
export async function initAccount(account, baileys, preKeyCount = 30) {
  await account.saveCreds()
  const { update } = await baileys.getNextPreKeys({ creds: account.creds, keys: account.keys }, preKeyCount)
  Object.assign(account.creds, update)
  await account.saveCreds()
  return account
}

export async function createAccount(pool, company, baileys, major, preKeyCount = 30) {
  return initAccount(await openAccount(pool, company, baileys, major), baileys, preKeyCount)
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

// One message from one account to another; the plaintext must come through.
export async function send(from, to, toJid, fromJid, text) {
  const { type, ciphertext } = await from.repository.encryptMessage({ jid: toJid, data: Buffer.from(text) })
  const plain = await to.repository.decryptMessage({ jid: fromJid, type, ciphertext })
  assert.equal(Buffer.from(plain).toString(), text)
  return type
}

// A group message through sender keys, decrypted by every member; with
// distribute: false the members decrypt from the sender keys they hold.
export async function sendToGroup(from, fromJid, members, text,
  { group = '120363000000000001@g.us', distribute = true } = {}) {
  const { ciphertext, senderKeyDistributionMessage } =
    await from.repository.encryptGroupMessage({ group, meId: fromJid, data: Buffer.from(text) })
  for (const member of members) {
    if (distribute) {
      await member.repository.processSenderKeyDistributionMessage({
        authorJid: fromJid,
        item: { groupId: group, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage },
      })
    }
    const plain = await member.repository.decryptGroupMessage({ group, authorJid: fromJid, msg: ciphertext })
    assert.equal(Buffer.from(plain).toString(), text)
  }
}
