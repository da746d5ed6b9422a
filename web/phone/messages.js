// messages.js: what the page tells a person when something goes wrong, from
// the SIP status code of the response (RFC 3261 §21) or JsSIP's cause.

// registrationError explains a failed REGISTER or a lost connection.
export function registrationError(e, server) {
  const code = e && e.response ? e.response.status_code : 0;
  const reason = e && e.response ? e.response.reason_phrase : "";
  const C = window.JsSIP.C.causes;
  if (code === 403 || (e && e.cause === C.AUTHENTICATION_ERROR)) {
    return "Wrong user name or password." + status(code, reason);
  }
  if (code === 404) return "This server does not know that user or domain." + status(code, reason);
  if (code === 503) return "The server is busy or shutting down; try again in a moment." + status(code, reason);
  if (code >= 300) return `The server refused the sign-in.${status(code, reason)}`;
  if (e && e.cause === C.CONNECTION_ERROR) return `Cannot connect to ${server}. Check the server address.`;
  if (e && e.cause === C.REQUEST_TIMEOUT) return "The server did not answer in time.";
  return "Sign-in failed" + (e && e.cause ? `: ${e.cause}` : ".");
}

// callError explains why a call ended before or without being answered,
// for the person who placed it (outgoing) or received it.
export function callError(e, peer, outgoing) {
  const msg = e.message && e.message.status_code ? e.message : null;
  const code = msg ? msg.status_code : 0;
  const reason = msg ? msg.reason_phrase : "";
  const C = window.JsSIP.C.causes;
  if (!outgoing) {
    if (e.cause === C.CANCELED || e.cause === C.NO_ANSWER) return `Missed call from ${peer}.`;
    if (e.originator === "local") return `You declined the call from ${peer}.`;
  }
  switch (code) {
    case 404: return `${peer} does not exist or is not online.${status(code, reason)}`;
    case 480: return `${peer} is not online right now.${status(code, reason)}`;
    case 486: case 600: return `${peer} is busy.${status(code, reason)}`;
    case 603: return `${peer} declined the call.${status(code, reason)}`;
    case 408: return `${peer} did not answer.${status(code, reason)}`;
    case 487: return "Call cancelled.";
    case 488: case 606:
      return `The call's audio or video could not be set up.${status(code, reason)}`;
    case 403: return `The server does not allow this call.${status(code, reason)}`;
    case 484: case 416: return `That address is not valid.${status(code, reason)}`;
    case 500: case 503: case 504:
      return `The server could not complete the call; try again later.${status(code, reason)}`;
  }
  if (code >= 300) return `The call failed.${status(code, reason)}`;
  switch (e.cause) {
    case C.CANCELED: return "Call cancelled.";
    case C.NO_ANSWER: return `${peer} did not answer.`;
    case C.USER_DENIED_MEDIA_ACCESS:
      return "The browser did not allow the microphone (or camera). Allow it in the address bar and try again.";
    case C.CONNECTION_ERROR: return "The connection to the server was lost.";
    case C.REQUEST_TIMEOUT: return "The server did not answer in time.";
    case C.BAD_MEDIA_DESCRIPTION: case C.INCOMPATIBLE_SDP: case C.WEBRTC_ERROR:
      return "The browser could not set up the call's media.";
    case C.RTP_TIMEOUT: return "The call's audio stopped arriving.";
  }
  return "The call failed" + (e.cause ? `: ${e.cause}.` : ".");
}

// endText says how an answered call ended.
export function endText(e, peer, seconds) {
  const who = e.originator === "remote" ? `${peer} hung up` : "You hung up";
  return `${who}. Call ended after ${duration(seconds)}.`;
}

// duration formats seconds as m:ss or h:mm:ss.
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

function status(code, reason) {
  return code ? ` (${code}${reason ? " " + reason : ""})` : "";
}
