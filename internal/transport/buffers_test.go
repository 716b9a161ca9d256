package transport

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/switchboard-go/switchboard/internal/wire"
)

// Frame buffers are recycled on both sides (written frames, the reader's
// buffer): frames of mixed sizes, all checked after the last arrived, keep
// their own bytes.
func TestRecycledBuffersKeepFramesApart(t *testing.T) {
	a, _ := listen(t)
	b, sb := listen(t)
	sizes := []int{10, 70000, 3, 1 << 20, 500, 65536}
	const frames = 60
	want := make([][]byte, frames)
	for i := range frames {
		v := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
		want[i] = v
		f := &wire.Frame{To: "x", Body: &wire.Frame_Info{Info: &wire.Payload{Payload: &anypb.Any{TypeUrl: "t", Value: v}}}}
		if err := a.Send(b.Addr(), f); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]*wire.Frame, frames)
	for i := range frames {
		got[i] = wait(t, sb.frames)
	}
	for i, f := range got {
		if v := f.GetInfo().GetPayload().GetValue(); !bytes.Equal(v, want[i]) {
			t.Fatalf("frame %d: %d bytes, first %v; want %d of %d", i, len(v), v[:min(len(v), 1)], len(want[i]), i)
		}
	}
}
