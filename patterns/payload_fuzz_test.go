package patterns

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
)

// FuzzUnpackPayload: any type URL and value of an interaction's payload
// unpack to a message or exchange.ErrBadRequest, never a panic.
func FuzzUnpackPayload(f *testing.F) {
	p, _ := anypb.New(wrapperspb.String("x"))
	f.Add(p.GetTypeUrl(), p.GetValue())
	f.Add(p.GetTypeUrl(), []byte{0xff})
	f.Add("type.googleapis.com/no.such.Type", []byte{})
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, url string, value []byte) {
		m, err := unpackPayload(&anypb.Any{TypeUrl: url, Value: value})
		if err != nil {
			if !errors.Is(err, exchange.ErrBadRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("no error and no message")
		}
	})
}
