package cluster

import (
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
