// sipjs.js: the SIP.js side of window.t (see common.js), on SIP.js's
// UserAgent, Registerer, Inviter and Invitation API.
import { Inviter, Registerer, RegistererState, SessionState, UserAgent } from "/sip.js/index.js";

const t = window.t;
let ua = null;
let session = null;

t.pc = () => session && session.sessionDescriptionHandler && session.sessionDescriptionHandler.peerConnection;

t.register = async (o) => {
  ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${o.user}@${o.domain}`),
    transportOptions: { server: o.ws },
    authorizationUsername: o.user, authorizationPassword: o.password,
    logLevel: o.debug ? "debug" : "warn",
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] } },
    delegate: {
      onInvite(inv) {
        t.incoming++;
        bind(inv);
        t.state = "incoming";
        t.note("incoming call from", inv.remoteIdentity.uri.toString());
      },
    },
  });
  await ua.start();
  const reg = new Registerer(ua, { expires: o.expires || 300 });
  reg.stateChange.addListener((s) => {
    if (s === RegistererState.Registered) t.reg = "registered";
    if (s === RegistererState.Unregistered) t.reg = "unregistered";
    t.note("registerer", s);
  });
  await reg.register({
    requestDelegate: { onReject: (r) => { t.reg = "failed:" + r.message.statusCode; } },
  });
};

function bind(s) {
  session = s;
  s.delegate = {
    onBye: () => { t.endedBy = "remote"; },
    onInvite: () => { t.reinvites++; t.note("re-INVITE received"); },
  };
  s.stateChange.addListener((st) => {
    if (st === SessionState.Established) {
      t.state = "confirmed";
      const el = document.getElementById("remote");
      el.srcObject = s.sessionDescriptionHandler.remoteMediaStream;
    }
    if (st === SessionState.Terminated) {
      if (t.state === "confirmed") {
        t.state = "ended";
        if (!t.endedBy) t.endedBy = "local";
      } else {
        t.state = "failed";
      }
    }
    t.note("session", st);
  });
}

const media = (video) => ({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: !!video } } });

t.call = (target, video) => {
  t.state = "calling";
  t.cause = "";
  t.code = 0;
  t.endedBy = "";
  const inv = new Inviter(ua, UserAgent.makeURI(target), media(video));
  bind(inv);
  inv.invite({
    requestDelegate: {
      onProgress: () => { if (t.state === "calling") t.state = "progress"; },
      onReject: (r) => {
        t.code = r.message.statusCode;
        t.cause = t.code === 487 ? "Canceled" : r.message.reasonPhrase;
      },
    },
  });
};
t.answer = (video) => { t.endedBy = ""; session.accept(media(video)); };
t.hangup = () => {
  if (session.state === SessionState.Established) return session.bye();
  if (session instanceof Inviter) { t.cause = "Canceled"; return session.cancel(); }
  return session.reject({ statusCode: 486 });
};
t.reject = (code) => session.reject({ statusCode: code || 486 });
t.reinvite = () => session.invite({
  requestDelegate: { onAccept: () => { t.reinvites++; t.note("re-INVITE done"); } },
});
t.stop = () => ua.stop();
