package cluster

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/clusterpb"
)

// FuzzDecodeRouteRequest: any bytes a node receives as a RouteRequest
// decode to a call or ErrBadRouteRequest, never a panic.
func FuzzDecodeRouteRequest(f *testing.F) {
	p, _ := anypb.New(wrapperspb.String("x"))
	for _, m := range []*clusterpb.RouteRequest{
		{Key: "k", Hops: 1, Payload: p, DeadlineUnixNano: 1},
		{Key: "k"},
		{Key: "k", Payload: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}},
		{Key: "k", Payload: &anypb.Any{TypeUrl: p.GetTypeUrl(), Value: []byte{0xff}}},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m clusterpb.RouteRequest
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		req, err := decodeRouteRequest(&m)
		if err != nil {
			if !errors.Is(err, ErrBadRouteRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if req.msg == nil || req.key != m.GetKey() {
			t.Fatalf("decoded %+v from %v", req, &m)
		}
	})
}
