package auth

import "testing"

// RFC 7616 §3.9.1, RFC 2617 §3.5, and a SIP REGISTER computed independently
// (Python hashlib) for bob / biloxi.com / zanzibar.
var digestVectors = []struct {
	name                                string
	alg                                 Algorithm
	user, realm, pw                     string
	method, uri, nonce, nc, cnonce, qop string
	wantHA1, wantResponse               string
}{
	{"RFC 7616 MD5", MD5, "Mufasa", "http-auth@example.org", "Circle of Life",
		"GET", "/dir/index.html", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
		"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth",
		"3d78807defe7de2157e2b0b6573a855f", "8ca523f5e9506fed4657c9700eebdbec"},
	{"RFC 7616 SHA-256", SHA256, "Mufasa", "http-auth@example.org", "Circle of Life",
		"GET", "/dir/index.html", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
		"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth",
		"7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
		"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	{"RFC 2617 MD5", MD5, "Mufasa", "testrealm@host.com", "Circle Of Life",
		"GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
		"939e7578ed9e3c518a452acee763bce9", "6629fae49393a05397450978507c4ef1"},
	{"SIP REGISTER MD5", MD5, "bob", "biloxi.com", "zanzibar",
		"REGISTER", "sip:biloxi.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
		"12af60467a33e8518da5c68bbff12b11", "9e2d1006810044fd79f39476209ae31a"},
	{"SIP REGISTER SHA-256", SHA256, "bob", "biloxi.com", "zanzibar",
		"REGISTER", "sip:biloxi.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
		"e65db393e748c5228939a6b4b2879e9ea5625cd79fd5267868cb568d69f6b97e",
		"93e0e23c30bf2e3b139a3410a7edc9a5b15b1cfd8fd557ca8ee303e4372339a1"},
	{"SIP INVITE MD5 without qop (RFC 2069)", MD5, "bob", "biloxi.com", "zanzibar",
		"INVITE", "sip:alice@atlanta.com", "ea9c8e88df84f1cec4341ae6cbe5a359", "", "", "",
		"12af60467a33e8518da5c68bbff12b11", "92c4ed7ee02c8d1b2096668218a792fa"},
	{"SIP INVITE SHA-256 without qop", SHA256, "bob", "biloxi.com", "zanzibar",
		"INVITE", "sip:alice@atlanta.com", "ea9c8e88df84f1cec4341ae6cbe5a359", "", "", "",
		"e65db393e748c5228939a6b4b2879e9ea5625cd79fd5267868cb568d69f6b97e",
		"955b82ffbc12244d685179ac03deb7082b2651712766e44c554ffa03b6d398b8"},
}

func TestDigestVectors(t *testing.T) {
	for _, v := range digestVectors {
		t.Run(v.name, func(t *testing.T) {
			ha1 := HA1(v.alg, v.user, v.realm, v.pw)
			if ha1 != v.wantHA1 {
				t.Fatalf("HA1 = %s, want %s", ha1, v.wantHA1)
			}
			got := RequestDigest(v.alg, ha1, v.nonce, v.nc, v.cnonce, v.qop, v.method, v.uri)
			if got != v.wantResponse {
				t.Fatalf("response = %s, want %s", got, v.wantResponse)
			}
			r := &Response{Username: v.user, Realm: v.realm, Nonce: v.nonce, URI: v.uri, Response: got,
				Algorithm: v.alg, QOP: v.qop, NC: v.nc, CNonce: v.cnonce}
			if !r.Verify(ha1, v.method) {
				t.Error("Verify rejected the right HA1")
			}
			if r.Verify(HA1(v.alg, v.user, v.realm, "wrong"), v.method) {
				t.Error("Verify accepted a wrong password")
			}
			if r.Verify(ha1, "BYE") {
				t.Error("Verify accepted another method")
			}
			if r.Verify("", v.method) {
				t.Error("Verify accepted an empty HA1")
			}
		})
	}
}

// TestVerifyParsed runs the RFC 7616 §3.9.1 Authorization header through the
// parser and the check.
func TestVerifyParsed(t *testing.T) {
	for _, v := range digestVectors[:2] {
		h := `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ` +
			`algorithm=` + v.alg.String() + `, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ` +
			`cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="` + v.wantResponse + `", ` +
			`opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
		r, err := ParseCredentials([]byte(h))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Verify(v.wantHA1, "GET") {
			t.Errorf("%s: parsed RFC 7616 example does not verify", v.name)
		}
	}
}

func TestAlgorithmString(t *testing.T) {
	if MD5.String() != "MD5" || SHA256.String() != "SHA-256" {
		t.Fatal(MD5.String(), SHA256.String())
	}
}

// BenchmarkVerify measures the digest check of one parsed response.
func BenchmarkVerify(b *testing.B) {
	for _, v := range digestVectors[3:5] {
		r := &Response{Username: v.user, Realm: v.realm, Nonce: v.nonce, URI: v.uri, Response: v.wantResponse,
			Algorithm: v.alg, QOP: v.qop, NC: v.nc, CNonce: v.cnonce}
		b.Run(v.alg.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !r.Verify(v.wantHA1, v.method) {
					b.Fatal("no match")
				}
			}
		})
	}
}
