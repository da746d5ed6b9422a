package auth

import "context"

type ctxKey struct{}

// caller is what the middleware learned about the sender of a request.
type caller struct {
	user, domain string
	trusted      bool
}

func withUser(ctx context.Context, user, domain string) context.Context {
	return context.WithValue(ctx, ctxKey{}, &caller{user: user, domain: domain})
}

func withTrusted(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, &caller{trusted: true})
}

// UserFromContext returns the user and domain a request was authenticated as.
// ok is false when the request was not authenticated (not challenged, or from
// a trusted network).
func UserFromContext(ctx context.Context) (user, domain string, ok bool) {
	c, _ := ctx.Value(ctxKey{}).(*caller)
	if c == nil || c.trusted {
		return "", "", false
	}
	return c.user, c.domain, true
}

// TrustedFromContext reports whether a request came from a Config.Trusted
// network and was therefore let through without a challenge.
func TrustedFromContext(ctx context.Context) bool {
	c, _ := ctx.Value(ctxKey{}).(*caller)
	return c != nil && c.trusted
}
