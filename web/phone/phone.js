// phone.js: Parley's web phone. JsSIP (vendor/jssip.min.js, the global
// JsSIP) speaks SIP over WebSocket (RFC 7118) to Parley; the browser's
// WebRTC carries the audio and video. No build step, nothing from elsewhere.
//
// State a test or a curious person can read: #reg[data-state] is signed-out,
// connecting, registered or failed; #call[data-state] is idle, calling,
// ringing, incoming, active, ended or failed; window.parleyPhone.session is
// the JsSIP session of the current call (its .connection the RTCPeerConnection).
import { callError, duration, endText, registrationError } from "./messages.js";

const $ = (id) => document.getElementById(id);

const phone = {
  config: { domains: [], websockets: [], ice_servers: [] },
  ua: null,
  session: null,     // the call in progress, if any
  aor: "",           // user@domain once signed in
  domain: "",
  server: "",
  registered: false,
  peer: "",          // the other party of the current call, for messages
  outgoing: false,
  answeredAt: 0,
  timer: 0,
  local: null,       // our MediaStream during a call
};
window.parleyPhone = phone;

// ---- Small view helpers ----

function log(text) {
  const li = document.createElement("li");
  const t = document.createElement("time");
  t.textContent = new Date().toLocaleTimeString();
  li.append(t, text);
  const list = $("log");
  list.append(li);
  while (list.children.length > 50) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function setReg(state, text) {
  $("reg").dataset.state = state;
  $("reg-text").textContent = text;
}

function showError(id, text) {
  const el = $(id);
  el.textContent = text || "";
  el.hidden = !text;
}

// setCall shows the call panel in one state with the given buttons.
function setCall(state, text, buttons = []) {
  $("call").dataset.state = state;
  $("call-status").textContent = text;
  for (const id of ["answer", "answer-video", "decline", "mute", "hangup"]) $(id).hidden = !buttons.includes(id);
  const busy = ["calling", "ringing", "incoming", "active"].includes(state);
  $("call-button").disabled = busy;
  document.title = state === "incoming" ? `Incoming call from ${phone.peer} — Parley Phone`
    : state === "active" ? `In call with ${phone.peer} — Parley Phone` : "Parley Phone";
}

// ---- Configuration from the server ----

// defaultServer picks the WebSocket URL: wss when the page came over https,
// else ws, else whatever exists; a listener on a wildcard address is
// reached through the host name this page was loaded from.
function defaultServer(cfg) {
  const socks = cfg.websockets || [];
  const want = location.protocol === "https:" ? "wss" : "ws";
  const s = socks.find((x) => x.proto === want) || socks.find((x) => x.proto === "wss") || socks[0];
  if (!s) return "";
  let host = s.host || location.hostname;
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return `${s.proto}://${host}:${s.port}${s.path || "/"}`;
}

async function loadConfig() {
  try {
    const r = await fetch("/phone/config.json", { cache: "no-store" });
    if (r.ok) phone.config = await r.json();
  } catch (e) {
    log("Could not read the server's settings: " + e.message);
  }
  const saved = localStorage.getItem("parley-phone-server");
  $("server").value = saved || defaultServer(phone.config);
  if (!$("server").value) {
    $("server-hint").textContent = "This server has no WebSocket listener (ws: or wss:); ask your administrator.";
    $("server-box").open = true;
  }
  $("user").value = localStorage.getItem("parley-phone-user") || "";
}

// ---- Signing in ----

function signIn(ev) {
  ev.preventDefault();
  showError("signin-error", "");
  const user = $("user").value.trim();
  const password = $("password").value;
  const server = $("server").value.trim();
  if (!user) return fail("Enter your SIP user, such as alice or alice@example.com.", "user");
  if (!password) return fail("Enter your password.", "password");
  if (!/^wss?:\/\/./i.test(server)) {
    $("server-box").open = true;
    return fail("The server address must start with ws:// or wss://.", "server");
  }
  const [name, dom] = user.replace(/^sips?:/i, "").split("@");
  phone.domain = dom || phone.config.domains[0] || location.hostname;
  phone.aor = `${name}@${phone.domain}`;
  phone.server = server;
  localStorage.setItem("parley-phone-user", user);
  localStorage.setItem("parley-phone-server", server);
  if (!window.isSecureContext) log("This page is not on https or localhost: the browser may refuse the microphone.");
  try {
    startUA(password);
  } catch (e) {
    fail("Cannot start the phone: " + e.message, "server");
  }
}

function fail(text, focus) {
  showError("signin-error", text);
  if (focus) $(focus).focus();
}

function startUA(password) {
  const socket = new JsSIP.WebSocketInterface(phone.server);
  const ua = new JsSIP.UA({
    sockets: [socket], uri: `sip:${phone.aor}`, password, register: true, register_expires: 300,
    session_timers: false, connection_recovery_min_interval: 2, connection_recovery_max_interval: 30,
  });
  phone.ua = ua;
  phone.registered = false;
  $("signin-button").disabled = true;
  setReg("connecting", `Connecting to ${phone.server}…`);
  log(`Signing in as ${phone.aor}…`);
  ua.on("connected", () => log("Connected to the server."));
  ua.on("disconnected", () => {
    if (ua !== phone.ua) return;
    if (!phone.registered) {
      stopUA();
      showError("signin-error", `Cannot connect to ${phone.server}. Check the server address.`);
      setReg("failed", "Not connected");
      return;
    }
    phone.registered = false;
    setReg("connecting", "Connection lost; reconnecting…");
    log("Connection to the server lost; reconnecting.");
  });
  ua.on("registered", () => {
    phone.registered = true;
    setReg("registered", `Registered as ${phone.aor}`);
    log(`Registered as ${phone.aor}.`);
    if ($("phone").hidden) showPhone();
  });
  ua.on("unregistered", () => log("Unregistered."));
  ua.on("registrationFailed", (e) => {
    const text = registrationError(e, phone.server);
    log("Sign-in failed: " + text);
    stopUA();
    showSignIn();
    setReg("failed", "Sign-in failed");
    showError("signin-error", text);
  });
  ua.on("newRTCSession", (e) => (e.originator === "remote" ? incoming(e.session, e.request) : null));
  ua.start();
}

function stopUA() {
  const ua = phone.ua;
  phone.ua = null;
  phone.registered = false;
  $("signin-button").disabled = false;
  if (ua) ua.stop();
}

function showPhone() {
  $("signin").hidden = true;
  $("phone").hidden = false;
  $("me").textContent = phone.aor;
  $("password").value = "";
  setCall("idle", "No call");
  $("target").focus();
}

function showSignIn() {
  $("phone").hidden = true;
  $("signin").hidden = false;
  $("password").focus();
}

function signOut() {
  if (phone.session) phone.session.terminate();
  stopUA();
  showSignIn();
  setReg("signed-out", "Not signed in");
  log("Signed out.");
}

// ---- Calls ----

// targetURI turns what was typed into a SIP URI in our domain by default.
function targetURI(text) {
  const t = text.trim();
  if (/^sips?:/i.test(t)) return t;
  return t.includes("@") ? `sip:${t}` : `sip:${t}@${phone.domain}`;
}

async function media(video) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: !!video });
  phone.local = stream;
  if (video) {
    $("local-video").srcObject = stream;
    $("videos").hidden = false;
  }
  return stream;
}

function mediaError(e) {
  if (!navigator.mediaDevices) return "This page cannot use the microphone: open it over https (or on localhost).";
  if (e.name === "NotAllowedError") return "The browser did not allow the microphone (or camera). Allow it and try again.";
  if (e.name === "NotFoundError") return "No microphone (or camera) was found.";
  return "Cannot open the microphone: " + e.message;
}

async function call(ev) {
  ev.preventDefault();
  showError("call-error", "");
  const typed = $("target").value.trim();
  if (!typed) {
    showError("call-error", "Enter who to call, such as bob.");
    $("target").focus();
    return;
  }
  if (phone.session) return;
  const uri = targetURI(typed);
  const video = $("video").checked;
  phone.peer = typed;
  phone.outgoing = true;
  setCall("calling", `Calling ${typed}…`, ["hangup"]);
  let stream;
  try {
    stream = await media(video);
  } catch (e) {
    return endCall("failed", mediaError(e));
  }
  log(`Calling ${uri}${video ? " with video" : ""}.`);
  try {
    bind(phone.ua.call(uri, {
      mediaStream: stream, pcConfig: { iceServers: phone.config.ice_servers || [] },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: video },
    }));
  } catch (e) {
    endCall("failed", "Cannot place the call: " + e.message);
  }
}

function incoming(session, request) {
  const from = request.from.uri;
  const who = from.user ? `${from.user}@${from.host}` : from.toString();
  if (phone.session) { // one call at a time: the second caller hears busy
    session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
    log(`Missed call from ${who}: you were in another call.`);
    return;
  }
  phone.peer = request.from.display_name || who;
  phone.outgoing = false;
  showError("call-error", "");
  bind(session);
  const video = /\r\nm=video [1-9]/.test(request.body || "");
  setCall("incoming", `Incoming call from ${phone.peer}`, video ? ["answer", "answer-video", "decline"] : ["answer", "decline"]);
  log(`Incoming call from ${who}${video ? " (video)" : ""}.`);
  $("answer").focus();
}

async function answer(video) {
  const s = phone.session;
  if (!s) return;
  setCall("incoming", `Answering ${phone.peer}…`, ["decline"]);
  try {
    const stream = await media(video);
    s.answer({ mediaStream: stream, pcConfig: { iceServers: phone.config.ice_servers || [] } });
  } catch (e) {
    s.terminate({ status_code: 480 });
    endCall("failed", mediaError(e));
  }
}

// bind follows one session's events.
function bind(session) {
  phone.session = session;
  let attached = null;
  const attach = (pc) => {
    if (!pc || pc === attached) return;
    attached = pc;
    const remote = new MediaStream();
    pc.addEventListener("track", (e) => {
      remote.addTrack(e.track);
      $("remote-audio").srcObject = remote;
      if (e.track.kind === "video") {
        $("remote-video").srcObject = remote;
        $("videos").hidden = false;
      }
    });
  };
  session.on("peerconnection", (e) => attach(e.peerconnection));
  attach(session.connection);
  session.on("progress", () => {
    if (phone.outgoing) setCall("ringing", `Ringing ${phone.peer}…`, ["hangup"]);
  });
  session.on("confirmed", () => {
    attach(session.connection);
    phone.answeredAt = Date.now();
    setCall("active", `In call with ${phone.peer}`, ["mute", "hangup"]);
    log(`Call with ${phone.peer} connected.`);
    phone.timer = setInterval(tick, 1000);
    tick();
  });
  session.on("ended", (e) => {
    if (session !== phone.session) return;
    const secs = (Date.now() - phone.answeredAt) / 1000;
    endCall("ended", endText(e, phone.peer, secs));
  });
  session.on("failed", (e) => {
    if (session !== phone.session) return;
    endCall("failed", callError(e, phone.peer, phone.outgoing));
  });
}

function tick() {
  $("call-timer").textContent = duration((Date.now() - phone.answeredAt) / 1000);
}

// endCall releases the call's media and shows how it ended.
function endCall(state, text) {
  clearInterval(phone.timer);
  $("call-timer").textContent = "";
  if (phone.local) phone.local.getTracks().forEach((t) => t.stop());
  phone.local = null;
  phone.session = null;
  for (const id of ["remote-audio", "remote-video", "local-video"]) $(id).srcObject = null;
  $("videos").hidden = true;
  $("mute").setAttribute("aria-pressed", "false");
  $("mute").textContent = "Mute";
  if (state === "failed") {
    setCall("failed", phone.outgoing ? `Call to ${phone.peer} failed` : "Call failed");
    showError("call-error", text);
  } else {
    setCall(state, text);
  }
  log(text);
}

function hangup() {
  if (phone.session) phone.session.terminate();
}

function decline() {
  if (phone.session) phone.session.terminate({ status_code: 603, reason_phrase: "Decline" });
}

function toggleMute() {
  const s = phone.session;
  if (!s) return;
  const muted = $("mute").getAttribute("aria-pressed") === "true";
  if (muted) s.unmute({ audio: true }); else s.mute({ audio: true });
  $("mute").setAttribute("aria-pressed", String(!muted));
  $("mute").textContent = muted ? "Mute" : "Unmute";
  log(muted ? "Microphone on." : "Microphone muted.");
}

// ---- Wiring ----

$("signin-form").addEventListener("submit", signIn);
$("signout").addEventListener("click", signOut);
$("dial-form").addEventListener("submit", call);
$("answer").addEventListener("click", () => answer(false));
$("answer-video").addEventListener("click", () => answer(true));
$("decline").addEventListener("click", decline);
$("hangup").addEventListener("click", hangup);
$("mute").addEventListener("click", toggleMute);
window.addEventListener("pagehide", () => phone.ua && phone.ua.stop());
if (!window.JsSIP) {
  showError("signin-error", "The SIP library did not load; reload the page.");
} else {
  loadConfig();
}
