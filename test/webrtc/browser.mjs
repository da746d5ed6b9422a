// browser.mjs drives Debian's Chromium for webrtc_test.go through
// playwright-core. It reads one JSON request per line on stdin and answers
// each with one JSON line on stdout, in order:
//
//	{"id":1,"op":"open","name":"alice","url":"http://..."}  a new context and page
//	{"id":2,"op":"eval","name":"alice","expr":"t.state"}     page.evaluate (promises awaited)
//	{"id":3,"op":"close","name":"alice"}                     closes the page's context
//
// Answers are {"id":1,"result":...} or {"id":1,"error":"..."}. Page console
// lines and errors go to stderr. argv[2] is a JSON object of options:
// spki (base64 SHA-256 of the WSS certificate's public key, trusted alone).
// The browser exits when stdin closes.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const opts = JSON.parse(process.argv[2] || "{}");
const args = [
  // This machine's network is closed: no background fetches (see go-svc.md).
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
  // Fake microphone and camera, permission granted without a prompt.
  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  // Media between two pages stays on 127.0.0.1 (see loopbackOnly below).
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate",
];
if (opts.spki) args.push("--ignore-certificate-errors-spki-list=" + opts.spki);

// loopbackOnly keeps the ICE candidates on 127.0.0.1 in every local
// description a page hands to its SIP library, and points c= lines there:
// no media packet is sent to another address of this machine.
function loopbackOnly() {
  const filter = (sdp) => sdp.split("\r\n").filter((l) =>
    !l.startsWith("a=candidate:") || / 127\.0\.0\.1 \d+ typ host/.test(l)
  ).map((l) => l.startsWith("c=IN IP4 ") ? "c=IN IP4 127.0.0.1" : l).join("\r\n");
  const proto = RTCPeerConnection.prototype;
  for (const prop of ["localDescription", "currentLocalDescription", "pendingLocalDescription"]) {
    const d = Object.getOwnPropertyDescriptor(proto, prop);
    if (!d) continue;
    Object.defineProperty(proto, prop, {
      configurable: true,
      get() {
        const v = d.get.call(this);
        return v ? new RTCSessionDescription({ type: v.type, sdp: filter(v.sdp) }) : v;
      },
    });
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args,
});
const pages = new Map();
const err = (...a) => process.stderr.write(a.join(" ") + "\n");

async function handle(req) {
  switch (req.op) {
    case "open": {
      const ctx = await browser.newContext({ permissions: ["microphone", "camera"] });
      await ctx.addInitScript(loopbackOnly);
      const page = await ctx.newPage();
      page.on("console", (m) => err(`[${req.name}] ${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => err(`[${req.name}] pageerror: ${e.message}`));
      await page.goto(req.url);
      pages.set(req.name, { ctx, page });
      return true;
    }
    case "eval": {
      const p = pages.get(req.name);
      if (!p) throw new Error("no page " + req.name);
      return await p.page.evaluate(req.expr);
    }
    case "fill": {
      const p = pages.get(req.name);
      await p.page.fill(req.selector, req.value);
      return true;
    }
    case "click": {
      const p = pages.get(req.name);
      await p.page.click(req.selector);
      return true;
    }
    case "check":
    case "uncheck": {
      const p = pages.get(req.name);
      await p.page[req.op](req.selector);
      return true;
    }
    case "text": {
      const p = pages.get(req.name);
      return await p.page.textContent(req.selector);
    }
    case "screenshot": {
      const p = pages.get(req.name);
      await p.page.screenshot({ path: req.path });
      return true;
    }
    case "close": {
      const p = pages.get(req.name);
      pages.delete(req.name);
      if (p) await p.ctx.close();
      return true;
    }
  }
  throw new Error("unknown op " + req.op);
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  const req = JSON.parse(line);
  chain = chain.then(async () => {
    let out;
    try {
      const result = await handle(req);
      out = { id: req.id, result: result === undefined ? null : result };
    } catch (e) {
      out = { id: req.id, error: String(e && e.message || e) };
    }
    let line;
    try {
      line = JSON.stringify(out);
    } catch (e) {
      line = JSON.stringify({ id: req.id, error: "result not serializable: " + e.message });
    }
    process.stdout.write(line + "\n");
  });
});
rl.on("close", async () => {
  await chain;
  await browser.close();
  process.exit(0);
});
process.stdout.write(JSON.stringify({ id: 0, result: browser.version() }) + "\n");
