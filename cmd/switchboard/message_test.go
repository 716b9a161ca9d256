package main

import (
	"errors"
	"testing"
)

// FuzzMessage: any type name and text give a message or errBadMessage,
// never a panic.
func FuzzMessage(f *testing.F) {
	for _, s := range [][2]string{
		{defaultType, `"hi"`}, {"google.protobuf.Struct", `{"a":[1,{"b":null}]}`},
		{"google.protobuf.Int64Value", `"7"`}, {"google.protobuf.Any", `{"@type":"x"}`}, {"no.Such", "{"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, typ, text string) {
		m, err := message(typ, text)
		if err != nil && !errors.Is(err, errBadMessage) {
			t.Fatalf("%q %q: untyped error %v", typ, text, err)
		}
		if err == nil && m == nil {
			t.Fatalf("%q %q: no message and no error", typ, text)
		}
	})
}
