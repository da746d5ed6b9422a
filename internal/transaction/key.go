package transaction

import (
	"github.com/parley-sip/parley/internal/sip"
)

// serverKey appends the server transaction key of req (§17.2.3). With an RFC 3261
// branch it is the branch, the Via sent-by and the method, with ACK matching
// INVITE. For an RFC 2543 request it is built from Call-ID, CSeq number, From
// tag, the top Via and the method (§17.2.3, second half, simplified: the To tag
// and Request-URI are left out so that the ACK matches the INVITE).
func serverKey(b []byte, req *sip.Message) []byte {
	method := req.MethodName()
	if req.Method() == sip.ACK {
		method = []byte("INVITE")
	}
	b = append(b, 's')
	b = append(b, method...)
	b = append(b, '|')
	if req.Via.IsRFC3261Branch() {
		b = append(b, req.Via.Branch...)
		b = append(b, '|')
		b = append(b, req.Via.Host...)
		b = append(b, ':')
		return appendPort(b, req.Via.Port)
	}
	b = append(b, req.CallID...)
	b = append(b, '|')
	b = appendPort(b, int(req.CSeq))
	b = append(b, '|')
	b = append(b, req.FromTag...)
	b = append(b, '|')
	return append(b, req.Via.Raw...)
}

// cancelTargetKey is the key of the INVITE server transaction a CANCEL matches (§9.2).
func cancelTargetKey(b []byte, cancel *sip.Message) []byte {
	b = append(b, "sINVITE|"...)
	if cancel.Via.IsRFC3261Branch() {
		b = append(b, cancel.Via.Branch...)
		b = append(b, '|')
		b = append(b, cancel.Via.Host...)
		b = append(b, ':')
		return appendPort(b, cancel.Via.Port)
	}
	b = append(b, cancel.CallID...)
	b = append(b, '|')
	b = appendPort(b, int(cancel.CSeq))
	b = append(b, '|')
	b = append(b, cancel.FromTag...)
	b = append(b, '|')
	return append(b, cancel.Via.Raw...)
}

// clientKey is the branch of the top Via and the CSeq method (§17.1.3).
func clientKey(b []byte, branch, method []byte) []byte {
	b = append(b, 'c')
	b = append(b, method...)
	b = append(b, '|')
	return append(b, branch...)
}

func appendPort(b []byte, n int) []byte {
	var d [10]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}
