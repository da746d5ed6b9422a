package config

import (
	"reflect"
	"testing"
)

func TestCloneIsDeep(t *testing.T) {
	c := Default()
	c.Domain = []string{"example.com"}
	c.ReasonPhrases = map[int]string{404: "No Such User"}
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, d)
	}
	d.Listen[0] = "udp:127.0.0.1:1"
	d.Domain[0] = "other.example"
	d.SIP.Supported[0] = "gruu"
	d.ReasonPhrases[404] = "Changed"
	if c.Listen[0] != "udp:0.0.0.0:5060" || c.Domain[0] != "example.com" ||
		c.SIP.Supported[0] != "path" || c.ReasonPhrases[404] != "No Such User" {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
	if (*Config)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
}

func TestCloneKeepsNil(t *testing.T) {
	c := &Config{}
	if d := c.Clone(); d.Listen != nil || d.ReasonPhrases != nil {
		t.Errorf("Clone turned nil into empty: %+v", d)
	}
	v := testTree{Opt: &testZone{TTL: 5}}
	var w testTree
	deepCopy(reflect.ValueOf(&w).Elem(), reflect.ValueOf(v))
	if w.Opt == v.Opt || w.Opt.TTL != 5 || w.Nil != nil {
		t.Errorf("pointer sections not copied deeply: %+v", w)
	}
}
