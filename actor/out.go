package actor

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// outFrame is the frame of a call or a reply to another node with all its
// parts in one block, reused: the transport encodes a frame before Send
// returns, so once sendFrame is back nothing refers to it any more. A
// round trip then allocates no frame, body, Any or payload buffer.
type outFrame struct {
	f       wire.Frame
	call    wire.Frame_Call
	c       wire.Call
	reply   wire.Frame_Reply
	r       wire.Reply
	from    wire.Pid
	payload anypb.Any
	buf     []byte
}

var outFrames = sync.Pool{New: func() any { return new(outFrame) }}

func getOut() *outFrame { return outFrames.Get().(*outFrame) }

// put clears what o refers to and gives it back; a buffer grown past
// keepPayloadBuf is left to the collector.
func (o *outFrame) put() {
	o.f.From, o.f.To, o.f.Body = nil, "", nil
	o.c.Payload, o.c.ReplyAddress = nil, ""
	o.r.Payload, o.r.Error = nil, nil
	o.from.Address, o.from.Id = "", ""
	o.payload.TypeUrl, o.payload.Value = "", nil
	if cap(o.buf) > keepPayloadBuf {
		o.buf = nil
	}
	outFrames.Put(o)
}

// pack encodes msg into o's buffer and Any.
func (o *outFrame) pack(msg any) (*anypb.Any, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrNotSerializable, msg)
	}
	b, err := wire.AppendPacked(o.buf[:0], m)
	if err != nil {
		return nil, err
	}
	o.buf = b
	o.payload.TypeUrl, o.payload.Value = wire.TypeURL(m), b
	return &o.payload, nil
}

// sender sets the frame's sender to pid, or none.
func (o *outFrame) sender(pid *PID) {
	if pid == nil {
		return
	}
	o.from.Address, o.from.Id = pid.Address, pid.Id
	o.f.From = &o.from
}
