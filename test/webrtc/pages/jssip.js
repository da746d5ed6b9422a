// jssip.js: the JsSIP side of window.t (see common.js).
(() => {
  const t = window.t;
  let ua = null;
  let session = null;

  t.pc = () => session && session.connection;

  t.register = (o) => {
    JsSIP.debug.enable(o.debug ? "JsSIP:*" : "");
    const socket = new JsSIP.WebSocketInterface(o.ws);
    ua = new JsSIP.UA({
      sockets: [socket], uri: `sip:${o.user}@${o.domain}`, password: o.password,
      register: true, register_expires: o.expires || 300, session_timers: false,
      connection_recovery_min_interval: 1, connection_recovery_max_interval: 2,
    });
    ua.on("registered", () => { t.reg = "registered"; t.note("registered"); });
    ua.on("unregistered", () => { t.reg = "unregistered"; });
    ua.on("registrationFailed", (e) => {
      t.reg = "failed:" + e.cause + (e.response ? ":" + e.response.status_code : "");
      t.note("registration failed", t.reg);
    });
    ua.on("disconnected", (e) => t.note("ws disconnected", e && e.code));
    ua.on("newRTCSession", (e) => {
      if (e.originator !== "remote") return;
      t.incoming++;
      bind(e.session);
      t.state = "incoming";
      t.note("incoming call from", e.request.from.uri.toString());
    });
    ua.start();
  };

  function bind(s) {
    session = s;
    s.on("progress", () => { if (t.state === "calling") t.state = "progress"; });
    s.on("confirmed", () => { t.state = "confirmed"; t.note("confirmed"); });
    s.on("peerconnection", (e) => attach(e.peerconnection));
    s.on("ended", (e) => end("ended", e));
    s.on("failed", (e) => end("failed", e));
    s.on("reinvite", (e) => t.note("re-INVITE received"));
    if (s.connection) attach(s.connection);
  }

  function attach(pc) {
    pc.addEventListener("track", (e) => {
      const el = document.getElementById("remote");
      el.srcObject = e.streams[0];
    });
  }

  function end(state, e) {
    t.state = state;
    t.cause = e.cause;
    t.endedBy = e.originator;
    t.code = e.message && e.message.status_code ? e.message.status_code : 0;
    t.note("call", state, e.originator, e.cause, t.code);
  }

  const media = (video) => ({
    mediaConstraints: { audio: true, video: !!video },
    pcConfig: { iceServers: [] },
  });

  t.call = (target, video) => {
    t.state = "calling";
    t.cause = "";
    t.code = 0;
    bind(ua.call(target, media(video)));
  };
  t.answer = (video) => session.answer(media(video));
  t.hangup = () => session.terminate();
  t.reject = (code) => session.terminate({ status_code: code || 486 });
  t.reinvite = () => session.renegotiate({}, () => { t.reinvites++; t.note("re-INVITE done"); });
  t.stop = () => ua.stop();
  t.closeSocket = () => ua._transport.socket._ws.close();
})();
