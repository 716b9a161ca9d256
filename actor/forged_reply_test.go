package actor

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// A cookie holder that sees the id of a call sent to it cannot answer
// another call of the same node: request ids are not derived from each
// other, so the ids around the one it saw name nothing. Three nodes over
// loopback: the victim calls the impostor (which learns that call's id),
// then calls an honest node that holds its reply; the impostor sends
// replies under the 2,048 ids around the one it saw. The honest reply must
// be the one the victim gets.
func TestForgedRepliesMatchNoCall(t *testing.T) {
	victim := newNode(t, Config{Name: "victim@localhost", Listen: "127.0.0.1:0"})
	impostor := newNode(t, Config{Name: "impostor@localhost", Listen: "127.0.0.1:0"})
	honest := newNode(t, Config{Name: "honest@localhost", Listen: "127.0.0.1:0"})

	seen := make(chan ReplyTo, 1)
	trap := spawn(t, impostor, &fn{call: func(p *Process, _ any) (any, error) {
		rt := p.DeferReply()
		seen <- rt
		return nil, nil
	}})
	held := make(chan ReplyTo, 1)
	slow := spawn(t, honest, &fn{call: func(p *Process, _ any) (any, error) {
		held <- p.DeferReply()
		return nil, nil
	}})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	trapped := make(chan error, 1)
	go func() { _, err := victim.Call(ctx, trap, wrapperspb.String("to the impostor")); trapped <- err }()
	var saw ReplyTo
	select {
	case saw = <-seen:
	case <-ctx.Done():
		t.Fatal("the impostor got no call")
	}
	answer := make(chan any, 1)
	go func() {
		v, err := victim.Call(ctx, slow, wrapperspb.String("to the honest node"))
		if err != nil {
			v = err
		}
		answer <- v
	}()
	var rt ReplyTo
	select {
	case rt = <-held:
	case <-ctx.Done():
		t.Fatal("the honest node got no call")
	}

	forged := 0
	for d := -1024; d <= 1024; d++ {
		ref := saw.Ref() + uint64(d)
		if ref == saw.Ref() || ref == 0 {
			continue
		}
		payload, err := pack(wrapperspb.String("forged"))
		if err != nil {
			t.Fatal(err)
		}
		if err := impostor.sendFrame(victim.Address(), &wire.Frame{Body: &wire.Frame_Reply{Reply: &wire.Reply{Ref: ref, Payload: payload}}}); err != nil {
			t.Fatalf("forged reply %d: %v", d, err)
		}
		forged++
	}
	// The forged replies are on the impostor's connection before this one,
	// which answers the call it was sent: once it arrived, so had they.
	impostor.Reply(saw, wrapperspb.String("the impostor's own"), nil)
	if err := <-trapped; err != nil {
		t.Fatalf("the call to the impostor: %v", err)
	}
	select {
	case v := <-answer:
		t.Fatalf("the call to the honest node ended before its reply, with %v (%d forged replies sent)", v, forged)
	default:
	}
	honest.Reply(rt, wrapperspb.String("honest"), nil)
	select {
	case v := <-answer:
		if s, ok := v.(*wrapperspb.StringValue); !ok || s.GetValue() != "honest" {
			t.Fatalf("the call to the honest node got %v", v)
		}
	case <-ctx.Done():
		t.Fatal("no reply from the honest node")
	}
}
