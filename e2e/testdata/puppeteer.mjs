// puppeteer.mjs drives the report form on a partner page with Puppeteer
// (puppeteer-core, from npm) in Chromium, the way anyone would write it
// who knows only what the page shows: the button by its name, the fields
// by their labels, the keyboard to type, an option by its text, Send,
// then the receipt. It knows nothing of the form's code.
//
//   node puppeteer.mjs < job.json
//
// job.json: {"chromium": path, "partner": the partner page's address,
// "frame": the start of the report frame's address, "profile": a folder
// for Chromium's profile, "screenshot": where to save one on failure,
// "button": the report button's name, "flow": what to do (below),
// "labels": the names it looks for, "late_module": whether the form's
// module arrives only once the reporter has done the flow's first step,
// as on a slow connection}, and for each flow:
//
//   "report": files "report" ({"locations": [two], "seen_on", "content",
//   "category": the options' texts, "description"}); prints the
//   receipt's "reference".
//   "language": picks "language" (the option's text) in the language
//   menu, then waits for the form to speak it ("title", "locations":
//   the heading and first field's names in that language).
//   "code": presses "I have a receipt code" and waits for the field to
//   type it in.
//
// It prints {"reference": …, "errors": [what the frame logged as an
// error]}; a failure exits 1, with the reason on stderr.
import puppeteer from "puppeteer-core"

const job = await new Promise((resolve, reject) => {
  let s = ""
  process.stdin.setEncoding("utf8")
  process.stdin.on("data", (c) => (s += c))
  process.stdin.on("end", () => resolve(JSON.parse(s)))
  process.stdin.on("error", reject)
})
const L = job.labels
// A machine under load is slow: each wait may take this long.
const wait = 90_000

const aria = (name, role) => `::-p-aria([name=${JSON.stringify(name)}][role=${JSON.stringify(role)}])`

// choose picks the option with the visible text in the menu named name.
async function choose(frame, name, text) {
  const select = await frame.locator(aria(name, "combobox")).waitHandle()
  const value = await select.evaluate((el, t) => [...el.options].find((o) => o.textContent.trim() === t)?.value, text)
  if (value === undefined) throw new Error(`the menu "${name}" has no option "${text}"`)
  await select.select(value)
}

// press clicks the button named name. With a late module, the module
// arrives once the click has happened, or, if there is no such button to
// click yet, once the reporter waits for it.
async function press(frame, name, release) {
  const click = frame.locator(aria(name, "button")).click()
  await Promise.race([click, frame.waitForSelector(aria(name, "button"), { hidden: true })])
  release()
  await click
}

const flows = {
  async report(page, frame, release) {
    // The address: its field is named by the group's legend.
    await frame.locator(aria(L.locations, "textbox")).click()
    await page.keyboard.type(job.report.locations[0])
    // A second address: the new row takes the focus.
    await press(frame, L.add, release)
    await page.keyboard.type(job.report.locations[1])
    await choose(frame, L.seen_on, job.report.seen_on)
    await choose(frame, L.content, job.report.content)
    await choose(frame, L.category, job.report.category)
    // A click on the label moves the focus to its text box.
    await frame.locator(`label ::-p-text(${L.description})`).click()
    await page.keyboard.type(job.report.description)
    await frame.locator(aria(L.submit, "button")).click()
    await frame.locator(aria(L.receipt, "heading")).wait()
    const line = await frame.$eval(`p ::-p-text(${L.reference})`, (el) => el.closest("p").innerText)
    return line.replace(L.reference, "").trim()
  },
  async language(page, frame, release) {
    await choose(frame, L.language, job.language)
    release()
    await frame.locator(aria(L.title, "heading")).wait()
    await frame.locator(aria(L.locations, "textbox")).wait()
    return ""
  },
  async code(page, frame, release) {
    await press(frame, L.have_code, release)
    await frame.locator(aria(L.code, "textbox")).wait()
    return ""
  },
}

const flow = flows[job.flow]
if (!flow) throw new Error(`unknown flow ${JSON.stringify(job.flow)}`)
const browser = await puppeteer.launch({
  executablePath: job.chromium,
  headless: true,
  userDataDir: job.profile,
  timeout: wait,
  protocolTimeout: 3 * wait,
  args: ["--no-sandbox", "--disable-gpu", "--lang=en-US", "--accept-lang=en-US", "--window-size=1280,900"],
  defaultViewport: { width: 1280, height: 900 },
})
const errors = []
let page
try {
  page = await browser.newPage()
  page.setDefaultTimeout(wait)
  // Errors of the form's frame and of what it loads; the partner page's
  // own (it has no favicon) are not the form's.
  const frameOrigin = new URL(job.frame).origin
  page.on("console", (m) => {
    const where = m.location().url || ""
    if (m.type() === "error" && where.startsWith(frameOrigin)) errors.push(`console: ${m.text()} ${where}`)
  })
  page.on("pageerror", (e) => errors.push(`exception: ${e.message}`))

  let release = () => {}
  if (job.late_module) {
    const arrived = new Promise((resolve) => (release = resolve))
    await page.setRequestInterception(true)
    page.on("request", (req) => {
      if (req.isInterceptResolutionHandled()) return
      if (new URL(req.url()).pathname.endsWith(".wasm")) arrived.then(() => req.continue())
      else req.continue()
    })
  }

  await page.goto(job.partner)
  await page.locator(aria(job.button, "button")).click()
  const frame = await page.waitForFrame((f) => f.url().startsWith(job.frame), { timeout: wait })
  const reference = await flow(page, frame, release)
  process.stdout.write(JSON.stringify({ reference, errors }) + "\n")
} catch (err) {
  if (page) await page.screenshot({ path: job.screenshot }).catch(() => {})
  process.stderr.write(`puppeteer.mjs: ${err && err.stack ? err.stack : err}\n${errors.join("\n")}\n`)
  process.exitCode = 1
} finally {
  await browser.close()
}
