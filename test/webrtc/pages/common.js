// common.js: what both library pages share. window.t is driven by
// webrtc_test.go through page.evaluate; every call returns at once and the
// test polls the state fields.
window.t = {
  reg: "none",        // none, registered, unregistered, failed:<cause>
  state: "idle",      // idle, incoming, progress, confirmed, ended, failed
  cause: "",          // JsSIP/SIP.js cause or status of the last end
  code: 0,            // status code of the last failure response, if any
  endedBy: "",        // local or remote
  incoming: 0,        // incoming calls seen
  reinvites: 0,       // re-INVITEs completed (sent or received)
  log: [],
  note(...a) {
    const s = a.join(" ");
    this.log.push(s);
    console.log(s);
  },
  // stats sums RTP counters of the current call's peer connection.
  async stats() {
    const pc = this.pc();
    const out = { audioIn: 0, audioOut: 0, videoIn: 0, bytesIn: 0 };
    if (!pc) return out;
    const r = await pc.getStats();
    r.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") { out.audioIn += s.packetsReceived || 0; out.bytesIn += s.bytesReceived || 0; }
      if (s.type === "outbound-rtp" && s.kind === "audio") out.audioOut += s.packetsSent || 0;
      if (s.type === "inbound-rtp" && s.kind === "video") out.videoIn += s.packetsReceived || 0;
    });
    return out;
  },
  // remoteSDP returns the remote description the page's peer connection holds.
  remoteSDP() {
    const pc = this.pc();
    return pc && pc.remoteDescription ? pc.remoteDescription.sdp : "";
  },
};
