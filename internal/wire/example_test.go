package wire_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-go/switchboard/internal/wire"
)

func Example() {
	f := &wire.Frame{
		From: &wire.Pid{Address: "127.0.0.1:4000", Id: "$7"},
		To:   "$3",
		Body: &wire.Frame_Monitor{Monitor: &wire.Monitor{Ref: 42}},
	}
	b, _ := proto.Marshal(f)
	var back wire.Frame
	_ = proto.Unmarshal(b, &back)
	fmt.Println(back.GetTo(), back.GetMonitor().GetRef())
	// Output: $3 42
}
