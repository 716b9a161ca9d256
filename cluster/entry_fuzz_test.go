package cluster

import (
	"maps"
	"strings"
	"testing"

	"github.com/switchboard-go/switchboard/internal/clusterpb"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodeEntry: any bytes in a directory key decode to a valid entry
// or an error, never a panic; what decodes encodes back to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	good, _ := encodeEntry(Entry{Name: "exchange:orders", Node: "a@host", Address: "10.0.0.1:7000", Created: 42})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x01})
	bad, _ := proto.Marshal(&clusterpb.DirEntry{Name: "a/b", Node: "n", Address: "x"})
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if !validName(e.Name) || !validName(e.Node) || e.Address == "" {
			t.Fatalf("invalid entry accepted: %+v", e)
		}
		again, err := encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if e2, err := decodeEntry(again); err != nil || e2 != e {
			t.Fatalf("round trip: %+v -> %+v, %v", e, e2, err)
		}
	})
}

// FuzzDecodeMember: any bytes in a member record decode to a valid member
// or an error, never a panic; what decodes encodes back to the same member
// and cookie tag.
func FuzzDecodeMember(f *testing.F) {
	good, _ := proto.Marshal(&clusterpb.NodeInfo{Name: "a@host", Address: "10.0.0.1:7000", Started: 42,
		Meta: map[string]string{"zone": "b", metaCookie: "tag"}})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x01})
	bad, _ := proto.Marshal(&clusterpb.NodeInfo{Name: "a/b", Address: "x"})
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, cookie, err := decodeMember(b)
		if err != nil {
			return
		}
		if !validName(m.Name) || m.Address == "" || strings.ContainsRune(m.Address, '/') {
			t.Fatalf("invalid member accepted: %+v", m)
		}
		if _, ok := m.Meta[metaCookie]; ok {
			t.Fatalf("the cookie tag left in the member's meta: %+v", m)
		}
		meta := maps.Clone(m.Meta)
		if cookie != "" {
			meta[metaCookie] = cookie
		}
		again, err := proto.Marshal(&clusterpb.NodeInfo{Name: m.Name, Address: m.Address, Meta: meta, Started: m.Incarnation})
		if err != nil {
			t.Fatal(err)
		}
		m2, cookie2, err := decodeMember(again)
		if err != nil || !m2.equal(m) || !maps.Equal(m2.Meta, m.Meta) || cookie2 != cookie {
			t.Fatalf("round trip: %+v %q -> %+v %q, %v", m, cookie, m2, cookie2, err)
		}
	})
}
