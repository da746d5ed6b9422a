package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/rtpengine"
)

// mediaClient returns the rtpengine client of media.rtpengine, or nil when
// no relay is configured (calls between WebRTC and plain RTP then get 488).
// It pings rtpengine once in the background, so that an address nobody
// answers on is in the log before the first such call gets 503.
func mediaClient(m config.Media, log *slog.Logger) *rtpengine.Client {
	if m.RTPEngine == "" {
		return nil
	}
	c, err := rtpengine.New(m.RTPEngine, rtpengine.Options{Timeout: m.Timeout.Std(), Tries: m.Tries})
	if err != nil { // Validate checked the address already
		log.Error("media relay not usable", "rtpengine", m.RTPEngine, "err", err)
		return nil
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Ping(ctx); err != nil {
			log.Warn("rtpengine does not answer: calls between WebRTC and plain RTP will get 503 until it does",
				"rtpengine", m.RTPEngine, "err", err)
			return
		}
		log.Info("media relay ready", "rtpengine", m.RTPEngine)
	}()
	return c
}
