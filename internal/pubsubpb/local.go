package pubsubpb

// PublishLocal is a publish within one node: the value travels unencoded.
// Between nodes the same publish is a *Publish.
type PublishLocal struct {
	Key   string
	Value any
	Hops  uint32
}
