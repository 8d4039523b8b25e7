// puppeteer.mjs files a report through a partner page with Puppeteer
// (puppeteer-core, from npm) driving Chromium, the way anyone would write
// it who knows only what the page shows: the button by its name, the
// fields by their labels, the keyboard to type, the option by its text,
// Send, then the receipt. It knows nothing of the form's code.
//
//   node puppeteer.mjs < job.json
//
// job.json: {"chromium": path, "partner": the partner page's address,
// "frame": the start of the report frame's address, "profile": a folder
// for Chromium's profile, "screenshot": where to save one on failure,
// "button": the report button's name, "labels": the field labels and
// button names (see below), "report": {"locations": [two], "seen_on",
// "content", "category": the options' texts, "description"}, "late_module":
// whether the form's module arrives only after the first address is typed}.
//
// It prints {"reference": what the receipt shows, "errors": [what the
// page or the frame logged as an error]}; a failure exits 1, with the
// reason on stderr.
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

  // A reporter on a slow connection reaches the form before its module
  // has arrived: with "late_module", the module is held back until the
  // reporter goes for a second address (below).
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

  // The address: its field is named by the group's legend.
  await frame.locator(aria(L.locations, "textbox")).click()
  await page.keyboard.type(job.report.locations[0])
  // A second address: the new row takes the focus.
  const add = frame.locator(aria(L.add, "button")).click()
  // A late module arrives once the click on the button has happened, or,
  // if there is no button to click yet, once the reporter waits for it.
  await Promise.race([add, frame.waitForSelector(aria(L.add, "button"), { hidden: true })])
  release()
  await add
  await page.keyboard.type(job.report.locations[1])

  for (const [field, option] of [["seen_on", job.report.seen_on], ["content", job.report.content], ["category", job.report.category]]) {
    const select = await frame.locator(aria(L[field], "combobox")).waitHandle()
    const value = await select.evaluate(
      (el, text) => [...el.options].find((o) => o.textContent.trim() === text)?.value,
      option,
    )
    if (value === undefined) throw new Error(`the list "${L[field]}" has no option "${option}"`)
    await select.select(value)
  }

  // A click on the label moves the focus to its text box.
  await frame.locator(`label ::-p-text(${L.description})`).click()
  await page.keyboard.type(job.report.description)

  await frame.locator(aria(L.submit, "button")).click()
  await frame.locator(aria(L.receipt, "heading")).wait()
  const reference = await frame.$eval(`p ::-p-text(${L.reference})`, (el) => el.closest("p").innerText)
  process.stdout.write(JSON.stringify({ reference: reference.replace(L.reference, "").trim(), errors }) + "\n")
} catch (err) {
  if (page) await page.screenshot({ path: job.screenshot }).catch(() => {})
  process.stderr.write(`puppeteer.mjs: ${err && err.stack ? err.stack : err}\n${errors.join("\n")}\n`)
  process.exitCode = 1
} finally {
  await browser.close()
}
