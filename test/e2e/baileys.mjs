// Both Baileys majors, installed side by side under npm aliases.
export const MAJORS = [6, 7]

export async function loadBaileys(major) {
  const mod = await import(major === 6 ? 'baileys6' : 'baileys7')
  // 6.x is CommonJS: its exports are on the default export
  return mod.default?.BufferJSON ? mod.default : mod
}
