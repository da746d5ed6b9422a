package auth

import (
	"errors"
	"strings"
	"testing"
)

const md5Hex = "9e2d1006810044fd79f39476209ae31a"

func TestParseCredentials(t *testing.T) {
	base := `username="bob", realm="biloxi.com", nonce="n1", uri="sip:biloxi.com", response="` + md5Hex + `"`
	tests := []struct {
		name    string
		in      string
		want    Response
		wantErr string // substring; "" means success
	}{
		{name: "minimal RFC 2069 form", in: "Digest " + base,
			want: Response{Username: "bob", Realm: "biloxi.com", Nonce: "n1", URI: "sip:biloxi.com", Response: md5Hex}},
		{name: "qop, nc, cnonce, opaque, algorithm", in: "Digest " + base + `, algorithm=MD5, qop=auth, nc=0000000a, cnonce="c", opaque="o"`,
			want: Response{Username: "bob", Realm: "biloxi.com", Nonce: "n1", URI: "sip:biloxi.com", Response: md5Hex,
				QOP: "auth", NC: "0000000a", NCValue: 10, CNonce: "c", Opaque: "o"}},
		{name: "names in any case, quoted qop and algorithm, tabs", in: "digest\tUserName=\"bob\",REALM=\"biloxi.com\" ,  Nonce = \"n1\",\tURI=\"sip:biloxi.com\", Response=\"" +
			strings.ToUpper(md5Hex) + `", QOP="AUTH", NC=FFFFFFFF, CNonce="c", Algorithm="sha-256"`,
			wantErr: "bad response"}, // a 32-digit response cannot be SHA-256
		{name: "SHA-256 and uppercase hex", in: `Digest username="bob", realm="biloxi.com", nonce="n1", uri="sip:biloxi.com", algorithm=SHA-256, response="` +
			strings.ToUpper(md5Hex+md5Hex) + `", qop="auth", nc=FFFFFFFF, cnonce="c"`,
			want: Response{Username: "bob", Realm: "biloxi.com", Nonce: "n1", URI: "sip:biloxi.com", Response: md5Hex + md5Hex,
				Algorithm: SHA256, QOP: "auth", NC: "FFFFFFFF", NCValue: 0xffffffff, CNonce: "c"}},
		{name: "escapes in quoted strings", in: `Digest username="b\"o\\b", realm="bil\oxi.com", nonce="n,1", uri="sip:biloxi.com", response="` + md5Hex + `"`,
			want: Response{Username: `b"o\b`, Realm: "biloxi.com", Nonce: "n,1", URI: "sip:biloxi.com", Response: md5Hex}},
		{name: "unknown parameters ignored", in: "Digest " + base + `, foo=bar, baz="q"`,
			want: Response{Username: "bob", Realm: "biloxi.com", Nonce: "n1", URI: "sip:biloxi.com", Response: md5Hex}},
		{name: "nc and cnonce ignored without qop", in: "Digest " + base + `, nc=00000001, cnonce="c"`,
			want: Response{Username: "bob", Realm: "biloxi.com", Nonce: "n1", URI: "sip:biloxi.com", Response: md5Hex}},

		{name: "duplicate parameter", in: "Digest " + base + `, nonce="n2"`, wantErr: "duplicate nonce"},
		{name: "duplicate in other case", in: "Digest " + base + `, Realm="x"`, wantErr: "duplicate realm"},
		{name: "duplicate unknown parameter", in: "Digest " + base + `, foo=1, FOO=2`, wantErr: "duplicate foo"},
		{name: "missing nonce", in: `Digest username="bob", realm="biloxi.com", uri="sip:biloxi.com", response="` + md5Hex + `"`, wantErr: "missing nonce"},
		{name: "missing username", in: `Digest realm="biloxi.com", nonce="n", uri="sip:biloxi.com", response="` + md5Hex + `"`, wantErr: "missing username"},
		{name: "empty", in: "Digest", wantErr: "missing username"},
		{name: "unterminated quoted string", in: `Digest username="bob`, wantErr: "unterminated"},
		{name: "backslash at end", in: `Digest username="bob\`, wantErr: "unterminated"},
		{name: "missing comma", in: `Digest username="bob" realm="x"`, wantErr: "expected comma"},
		{name: "trailing comma", in: "Digest " + base + ",", wantErr: "trailing comma"},
		{name: "empty element", in: `Digest username="bob",,realm="x"`, wantErr: "bad parameter name"},
		{name: "missing value", in: `Digest username=, realm="x"`, wantErr: "missing value of username"},
		{name: "no equals", in: `Digest username "bob"`, wantErr: "missing value of username"},
		{name: "unsupported algorithm", in: "Digest " + base + ", algorithm=SHA-512-256", wantErr: "unsupported algorithm"},
		{name: "unsupported qop", in: "Digest " + base + `, qop=auth-int, nc=00000001, cnonce="c"`, wantErr: "unsupported qop"},
		{name: "qop without cnonce", in: "Digest " + base + ", qop=auth, nc=00000001", wantErr: "missing cnonce"},
		{name: "qop without nc", in: "Digest " + base + `, qop=auth, cnonce="c"`, wantErr: "bad nc"},
		{name: "short nc", in: "Digest " + base + `, qop=auth, nc=1, cnonce="c"`, wantErr: "bad nc"},
		{name: "non-hex nc", in: "Digest " + base + `, qop=auth, nc=0000000g, cnonce="c"`, wantErr: "bad nc"},
		{name: "zero nc", in: "Digest " + base + `, qop=auth, nc=00000000, cnonce="c"`, wantErr: "bad nc"},
		{name: "non-hex response", in: `Digest username="bob", realm="b", nonce="n", uri="u", response="` + strings.Repeat("z", 32) + `"`, wantErr: "bad response"},
		{name: "parameters without scheme", in: `username="bob"`, wantErr: "missing scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials([]byte(tt.in))
			if tt.wantErr != "" {
				var fe *FormatError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a FormatError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseCredentialsOtherScheme(t *testing.T) {
	for _, in := range []string{"Basic Ym9iOnphbnppYmFy", `Bearer abc`, `AKAv1 foo="x"`} {
		if _, err := ParseCredentials([]byte(in)); !errors.Is(err, ErrNotDigest) {
			t.Errorf("%q: err = %v, want ErrNotDigest", in, err)
		}
	}
}

// The partial result of a check failure carries the realm, so that a caller
// can ignore broken credentials meant for another server.
func TestParseCredentialsPartial(t *testing.T) {
	r, err := ParseCredentials([]byte(`Digest realm="other.net", username="x"`))
	if err == nil || r == nil || r.Realm != "other.net" {
		t.Fatalf("r = %+v, err = %v", r, err)
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="bob", realm="biloxi.com", nonce="n1", uri="sip:biloxi.com", response="` + md5Hex + `", qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`Digest username="a\"b", realm=x`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCredentials([]byte(s))
		if err == nil && (r.Username == "" || len(r.Response) != r.Algorithm.hexLen()) {
			t.Fatalf("accepted incomplete credentials %+v", r)
		}
	})
}
