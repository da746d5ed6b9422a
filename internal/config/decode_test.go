package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The types below stand for sections later issues will add, to show that
// decoding and validation need no per-key code.
type testTree struct {
	Auth testAuth  `yaml:"auth"`
	Opt  *testZone `yaml:"opt"`
	Nil  *testZone `yaml:"nil"`
}

type testAuth struct {
	Realm   string              `yaml:"realm"`
	Users   []testUser          `yaml:"users"`
	Zones   map[string]testZone `yaml:"zones"`
	Timeout Duration            `yaml:"timeout"`
	Skip    string              `yaml:"-"`
	Plain   int
}

type testUser struct {
	Name string `yaml:"name"`
	Pass string `yaml:"password"`
}

type testZone struct {
	TTL Duration `yaml:"ttl"`
}

func (a testAuth) Validate() error {
	if a.Realm == "" {
		return fieldErr("realm", errors.New("required"))
	}
	return nil
}

func (z *testZone) Validate() error { return errors.New("zone says no") }

func TestDecodeNestedSections(t *testing.T) {
	in := `auth:
  realm: example.com
  plain: 7
  timeout: 2s
  users:
    - name: alice
      password: x
  zones:
    a: {ttl: 1m}
opt: {ttl: 5s}
`
	var v testTree
	pos, err := decodeYAML([]byte(in), "t.yaml", &v)
	if err != nil {
		t.Fatal(err)
	}
	if v.Auth.Plain != 7 || v.Auth.Users[0].Pass != "x" || v.Auth.Zones["a"].TTL.Std() != time.Minute ||
		v.Opt == nil || v.Opt.TTL.Std() != 5*time.Second || v.Auth.Timeout.Std() != 2*time.Second {
		t.Errorf("decoded %+v", v)
	}
	if got := pos.lookup("auth.users[0].password"); got != "t.yaml:7" {
		t.Errorf("origin of auth.users[0].password = %q", got)
	}
	if got := pos.lookup("auth.zones.a.ttl.deeper"); got != "t.yaml:9" {
		t.Errorf("origin of a path below a leaf = %q, want its nearest ancestor", got)
	}
}

func TestDecodeNestedUnknownKeys(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"list element", "auth:\n  users:\n    - name: a\n    - passwd: b\n", `t.yaml:4: unknown key "passwd" in section auth.users[1]`},
		{"map value", "auth:\n  zones:\n    a: {tll: 1s}\n", `t.yaml:3: unknown key "tll" in section auth.zones.a`},
		{"dash tag", "auth:\n  skip: x\n", `t.yaml:2: unknown key "skip" in section auth`},
		{"pointer", "opt:\n  ttl: 1s\n  x: 1\n", `t.yaml:3: unknown key "x" in section opt`},
		{"map duplicate", "auth:\n  zones:\n    a: {}\n    a: {}\n", `t.yaml:4: auth.zones: duplicate key "a" (first at line 3)`},
		{"map key type", "auth:\n  zones:\n    [a]: {}\n", `t.yaml:3: auth.zones: cannot unmarshal !!seq into string`},
		{"nested duration", "auth:\n  zones:\n    a: {ttl: 3}\n", `t.yaml:3: auth.zones.a.ttl: invalid duration "3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v testTree
			_, err := decodeYAML([]byte(tt.in), "t.yaml", &v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant substring %s", err, tt.want)
			}
		})
	}
}

func TestValidateSections(t *testing.T) {
	v := testTree{Opt: &testZone{}}
	errs := validateSections(reflectValue(&v))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{"auth.realm: required", "opt: zone says no"} // nil pointer section skipped
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
