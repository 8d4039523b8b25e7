// typage.mjs runs age-encryption (typage, the TypeScript implementation of
// age by age's author, from npm) on files, so that Go tests can check the
// project's envelopes against an age implementation that is not the one
// the project links.
//
//   node typage.mjs version                          print age-encryption's version
//   node typage.mjs decrypt IDENTITY_FILE            age file on stdin, plaintext on stdout
//   node typage.mjs encrypt [-armor] RECIPIENT...    plaintext on stdin, age file on stdout
//
// IDENTITY_FILE is an age identity file as `age-keygen` and `hotline
// keygen` write it: one identity per line (AGE-SECRET-KEY-PQ-1… or
// AGE-SECRET-KEY-1…), with blank lines and lines starting with # ignored.
// Errors go to stderr with exit status 1.
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Decrypter, Encrypter, armor } from "age-encryption"

async function stdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return new Uint8Array(Buffer.concat(chunks))
}

function write(bytes) {
  return new Promise((resolve, reject) =>
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())))
}

async function identities(path) {
  const ids = (await readFile(path, "utf8"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
  if (ids.length === 0) throw new Error(`no identity in ${path}`)
  return ids
}

const [cmd, ...args] = process.argv.slice(2)
try {
  switch (cmd) {
    case "version": {
      // The package exports only its code: its package.json is found
      // beside the folder the code is in.
      const main = createRequire(import.meta.url).resolve("age-encryption")
      const pkg = JSON.parse(await readFile(join(dirname(main), "..", "package.json"), "utf8"))
      await write(`${pkg.name} ${pkg.version}\n`)
      break
    }
    case "decrypt": {
      if (args.length !== 1) throw new Error("usage: typage.mjs decrypt IDENTITY_FILE")
      const d = new Decrypter()
      for (const id of await identities(args[0])) d.addIdentity(id)
      await write(await d.decrypt(await stdin()))
      break
    }
    case "encrypt": {
      const armored = args[0] === "-armor"
      const recipients = armored ? args.slice(1) : args
      if (recipients.length === 0) throw new Error("usage: typage.mjs encrypt [-armor] RECIPIENT...")
      const e = new Encrypter()
      for (const r of recipients) e.addRecipient(r)
      const out = await e.encrypt(await stdin())
      await write(armored ? armor.encode(out) : out)
      break
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)}: want version, decrypt or encrypt`)
  }
} catch (err) {
  process.stderr.write(`typage.mjs: ${err && err.message ? err.message : err}\n`)
  process.exit(1)
}
