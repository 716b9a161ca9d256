package patterns

// RequestOption sets a field of one request.
type RequestOption func(*requestOptions)

type requestOptions struct {
	tag, service, key, idem string
	headers                 map[string]string
}

// WithTag labels the reply (the request tag); asynchronous replies carry it.
func WithTag(tag string) RequestOption { return func(o *requestOptions) { o.tag = tag } }

// WithServiceTag sends the request to the controllers of one service group.
func WithServiceTag(tag string) RequestOption { return func(o *requestOptions) { o.service = tag } }

// WithRoutingKey sets the request's routing key: its signature for sticky
// exchanges.
func WithRoutingKey(key string) RequestOption { return func(o *requestOptions) { o.key = key } }

// WithIdempotencyKey sets the request's idempotency key.
func WithIdempotencyKey(key string) RequestOption { return func(o *requestOptions) { o.idem = key } }
