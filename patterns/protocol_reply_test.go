package patterns

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/exchange"
)

// A plain Call to a stream or interaction controller gets
// ErrUnexpectedReply, never an internal protocol message, and the stream
// or interaction it opened is ended, not left waiting.
func TestCallToOtherPatternsIsRefused(t *testing.T) {
	t.Run("stream", func(t *testing.T) {
		ended := make(chan error, 1)
		cl, ex, _ := streamOneNode(t, func(ctx context.Context, _ *exchange.Request, send func(any) error) error {
			for {
				if err := send(wrapperspb.String("chunk")); err != nil {
					ended <- err
					return err
				}
			}
		})
		for _, all := range []bool{false, true} {
			var err error
			if all {
				var rs []Reply
				rs, err = cl.CallAll(ctxT(t), ex, wrapperspb.String("x"))
				if err == nil && len(rs) == 1 {
					err = rs[0].Err
				}
			} else {
				_, err = cl.Call(ctxT(t), ex, wrapperspb.String("x"))
			}
			if !errors.Is(err, ErrUnexpectedReply) {
				t.Fatalf("all=%v: Call to a stream controller = %v", all, err)
			}
			select {
			case err := <-ended:
				if !errors.Is(err, ErrStreamCancelled) {
					t.Fatalf("all=%v: the stream ended with %v; want ErrStreamCancelled", all, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("all=%v: the stream a Call opened was not cancelled within 10 s", all)
			}
		}
	})
	bothWays(t, func(t *testing.T, remote bool) {
		asked := make(chan error, 1)
		cl, ex, _, _ := interactSetup(t, remote, func(ctx context.Context, _ *exchange.Request, ask Ask) (any, error) {
			_, err := ask(ctx, wrapperspb.String("name?"))
			asked <- err
			return nil, err
		})
		if _, err := cl.Call(ctxT(t), ex, wrapperspb.String("x")); !errors.Is(err, ErrUnexpectedReply) {
			t.Fatalf("Call to an interaction controller = %v", err)
		}
		select {
		case err := <-asked:
			if !errors.Is(err, ErrAnswerFailed) {
				t.Fatalf("the question got %v; want ErrAnswerFailed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the question a Call received was not answered within 10 s")
		}
	})
}
