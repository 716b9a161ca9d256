package patterns

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/patternspb"
)

// interaction is the controller's side of one interaction: where its next
// message to the client goes, which changes with every answer.
type interaction struct {
	n   *actor.Node
	max int

	mu   sync.Mutex
	cur  actor.ReplyTo // the client's request for the next question or the final reply
	err  error         // the interaction broke: the client no longer waits at cur
	done bool          // the handler returned
	// late is the request of a question the handler stopped waiting for
	// (its ctx ended): the client may still answer it, and the answer says
	// where the final reply can reach it.
	late *actor.Pending
}

// questionMsg and answerMsg are the in-node forms of InteractQuestion and
// InteractAnswer: the payload is handed over as it is.
type questionMsg struct {
	payload any
	rt      actor.ReplyTo
}

type answerMsg struct {
	payload any
	next    actor.ReplyTo
}

// run runs the handler with the request's deadline and sends its final
// reply. A panic is the interaction's crash, not the controller's.
func (s *interaction) run(life context.Context, h InteractHandler, req *exchange.Request) {
	ctx, cancel := life, context.CancelFunc(func() {})
	if !req.Deadline.IsZero() {
		ctx, cancel = context.WithDeadline(life, req.Deadline)
	}
	defer cancel()
	var v any
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				pe := &actor.PanicError{Value: r, Stack: debug.Stack()}
				s.n.Logger().Error("interaction handler crashed", "exchange", req.Exchange, "reason", pe, "stack", string(pe.Stack))
				v, err = nil, fmt.Errorf("%w: %w", ErrInteractionCrashed, pe)
			}
		}()
		v, err = h(ctx, req, s.ask)
	}()
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, actor.ErrTimeout):
		err = fmt.Errorf("%w: %w", actor.ErrTimeout, err) // one error to test for, on any node
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		err = context.Cause(ctx) // the controller exited
	}
	s.mu.Lock()
	s.done = true
	cur, broken := s.cur, s.err != nil
	late := s.late
	s.mu.Unlock()
	if late != nil {
		cur, broken = s.lateAnswer(late, req.Deadline)
	}
	if !broken {
		s.n.Reply(cur, v, err)
	}
}

// lateAnswer waits, until the request's deadline, for the answer to a
// question the handler gave up on, so that the final reply (most likely
// the error that made it give up) still reaches the client.
func (s *interaction) lateAnswer(late *actor.Pending, deadline time.Time) (actor.ReplyTo, bool) {
	defer late.Release()
	if deadline.IsZero() {
		deadline = time.Now().Add(s.n.CallTimeout())
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	v, err := late.Wait(ctx)
	if err != nil {
		return actor.ReplyTo{}, true
	}
	a, err := s.readAnswer(v)
	if err != nil {
		return actor.ReplyTo{}, true
	}
	return a.next, false
}

// ask sends a question to the client and waits for its answer: a call to
// the client, whose answer also says where the next message goes.
func (s *interaction) ask(ctx context.Context, q any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInteractionOver, s.err)
	}
	if s.done {
		return nil, fmt.Errorf("%w: the handler has returned", ErrInteractionOver)
	}
	if err := ctx.Err(); err != nil { // nothing sent: the final reply can still say why
		if err == context.DeadlineExceeded {
			err = fmt.Errorf("%w: %w", actor.ErrTimeout, err)
		}
		return nil, err
	}
	pend := s.n.NewPending(ctx, s.cur.Address(), false)
	var msg any = &questionMsg{payload: q, rt: pend.ReplyTo()}
	if s.cur.Address() != s.n.Address() {
		payload, err := packPayload(q)
		if err != nil {
			pend.Release()
			return nil, err // nothing was sent: the interaction goes on
		}
		msg = &patternspb.InteractQuestion{Payload: payload, Address: s.n.Address(), Ref: pend.ReplyTo().Ref()}
	}
	s.n.Reply(s.cur, msg, nil)
	v, err := pend.Wait(ctx)
	if err != nil && ctx.Err() != nil {
		s.late, s.err = &pend, err // the client may still answer; run waits for it
		return nil, err
	}
	pend.Release()
	if err != nil {
		s.err = err
		return nil, err
	}
	a, err := s.readAnswer(v)
	if err != nil {
		s.err = err
		return nil, err
	}
	s.cur = a.next
	return a.payload, nil
}

// readAnswer takes an answer in either form.
func (s *interaction) readAnswer(v any) (*answerMsg, error) {
	switch m := v.(type) {
	case *answerMsg:
		return m, nil
	case *patternspb.InteractAnswer:
		max := s.max
		if max <= 0 {
			max = exchange.DefaultMaxPayload
		}
		if p := m.GetPayload(); p != nil && len(p.GetValue()) > max {
			return nil, fmt.Errorf("%w: answer of %d bytes, limit %d", exchange.ErrTooLarge, len(p.GetValue()), max)
		}
		payload, err := unpackPayload(m.GetPayload())
		if err != nil {
			return nil, err
		}
		return &answerMsg{payload: payload, next: actor.NewReplyTo(m.GetAddress(), m.GetRef())}, nil
	}
	return nil, fmt.Errorf("%w: %T is no answer", ErrUnexpectedReply, v)
}

// packPayload wraps a question or answer for another node; nil stays nil.
func packPayload(v any) (*anypb.Any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T", actor.ErrNotSerializable, v)
	}
	return anypb.New(m)
}

func unpackPayload(a *anypb.Any) (any, error) {
	if a == nil {
		return nil, nil
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", exchange.ErrBadRequest, err)
	}
	return m, nil
}
