package transaction

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"strconv"
	"sync"

	"github.com/parley-sip/parley/internal/sip"
)

// Signed branches let Parley tell a response to one of its own requests from
// a forged one. A response that matches no client transaction is relayed to
// the Via below the top one (§16.7 step 2, §16.11), so a server that trusted
// the top Via's sent-by would reflect anything naming its address to any
// target. Instead, each branch Parley puts in a Via carries a keyed
// signature over the branch and over the Via it sits on top of, the one a
// relayed response goes to: a response is ours to relay only if its top
// branch verifies against the Via below it.
//
// A signed branch is the unsigned one (RFC 3261 §8.1.1.7: magic cookie,
// unique part) followed by "." and 16 hex digits of
// HMAC-SHA256(key, unsigned branch, branch and lowercase sent-by of the Via
// below). The key is derived from the configured secret, so the same secret
// can serve other purposes.

// branchSigLen is the length of the signature part, in hex digits.
const branchSigLen = 16

// branchSigner computes branch signatures; safe for concurrent use.
type branchSigner struct {
	macs sync.Pool // hash.Hash: HMAC-SHA256 with the branch key
}

// newBranchSigner derives the branch key from secret; an empty secret gets
// a random one, good for this process only.
func newBranchSigner(secret []byte) *branchSigner {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	kdf := hmac.New(sha256.New, secret)
	kdf.Write([]byte("parley branch signature v1"))
	key := kdf.Sum(nil)
	s := &branchSigner{}
	s.macs.New = func() any { return hmac.New(sha256.New, key) }
	return s
}

// sum appends the hex signature of unsigned over prev (nil: no Via below) to dst.
func (s *branchSigner) sum(dst []byte, unsigned []byte, prev *sip.Via) []byte {
	h := s.macs.Get().(hash.Hash)
	defer s.macs.Put(h)
	h.Reset()
	h.Write(unsigned)
	h.Write([]byte{0})
	if prev != nil {
		h.Write(prev.Branch)
		h.Write([]byte{0})
		var lb [256]byte
		h.Write(lowerASCII(lb[:0], prev.Host))
		h.Write([]byte{0})
		h.Write(strconv.AppendInt(lb[:0], int64(prev.Port), 10))
	}
	var sb [sha256.Size]byte
	return appendHexBytes(dst, h.Sum(sb[:0])[:branchSigLen/2])
}

// SignBranch returns branch, an RFC 3261 branch this server made for a
// request it sends, with the signature that makes it recognisably Parley's
// (see OwnBranch). prev is the top Via of the request being forwarded, the
// Via a relayed response goes to; nil for a request Parley originates.
// The proxy calls it for every Via it pushes, stateful or stateless.
func (l *Layer) SignBranch(prev *sip.Via, branch string) string {
	b := make([]byte, 0, len(branch)+1+branchSigLen)
	b = append(b, branch...)
	b = append(b, '.')
	return string(l.branches.sum(b, []byte(branch), prev))
}

// OwnBranch reports whether branch (the top Via's of a response) was made
// by SignBranch with this layer's secret for prev (the Via below it in the
// response; nil when there is none).
func (l *Layer) OwnBranch(branch []byte, prev *sip.Via) bool {
	dot := len(branch) - branchSigLen - 1
	if dot <= len(sip.BranchMagic) || string(branch[:len(sip.BranchMagic)]) != sip.BranchMagic || branch[dot] != '.' {
		return false
	}
	var want, got [branchSigLen]byte
	return hmac.Equal(l.branches.sum(want[:0], branch[:dot], prev), lowerASCII(got[:0], branch[dot+1:]))
}

// lowerASCII appends s lowercased to dst.
func lowerASCII(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func appendHexBytes(dst, b []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&0xf])
	}
	return dst
}
