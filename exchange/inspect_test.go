package exchange

import (
	"reflect"
	"testing"
)

// TestInfoProtoRoundTrip: every counter of Stats (KeyStats included)
// survives Info's protobuf form, so that Inspect says the same from any
// node: each is set to a value of its own, and a counter added without
// its place in inspectpb fails here.
func TestInfoProtoRoundTrip(t *testing.T) {
	in := Info{Name: "x", Strategy: LeaderRoundRobin}
	next := uint64(1)
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			switch f := v.Field(i); f.Kind() {
			case reflect.Uint64:
				f.SetUint(next)
				next++
			case reflect.Struct:
				fill(f)
			}
		}
	}
	fill(reflect.ValueOf(&in.Stats).Elem())
	if out := infoFromProto(in.proto()); out.Stats != in.Stats || out.Name != in.Name || out.Strategy != in.Strategy {
		t.Fatalf("%+v became %+v", in, out)
	}
}
