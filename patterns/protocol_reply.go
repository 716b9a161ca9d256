package patterns

import (
	"fmt"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/exchange"
	"github.com/switchboard-go/switchboard/internal/patternspb"
)

// notAReply turns the opening of another pattern, answered to a plain
// Call, into ErrUnexpectedReply, so that no internal protocol message
// reaches the caller: a stream controller's opening (the stream is
// cancelled) or an interaction controller's question (answered with
// ErrAnswerFailed, which ends the interaction). Other values pass.
func (c *Client) notAReply(ex exchange.Address, v any) error {
	switch m := v.(type) {
	case *patternspb.StreamOpen:
		c.n.Reply(actor.NewReplyTo(m.GetAddress(), m.GetRef()), &patternspb.StreamCancel{}, nil)
		return fmt.Errorf("%w: %q answers with streams (use Client.Stream)", ErrUnexpectedReply, ex.Name)
	}
	if _, rt, ok, _ := readQuestion(v); ok {
		c.n.Reply(rt, nil, fmt.Errorf("%w: the caller used Call, not Interact", ErrAnswerFailed))
		return fmt.Errorf("%w: %q asks back (use Client.Interact)", ErrUnexpectedReply, ex.Name)
	}
	return nil
}
