package patterns

import "maps"

// WithHeader sets a header of the request: it travels with the request
// through the exchange to the controllers (exchange.Request.Headers),
// across nodes too, for middleware to read (a trace context, say).
func WithHeader(key, value string) RequestOption {
	return func(o *requestOptions) {
		if o.headers == nil {
			o.headers = map[string]string{}
		}
		o.headers[key] = value
	}
}

// WithHeaders sets the request's headers from h (copied).
func WithHeaders(h map[string]string) RequestOption {
	return func(o *requestOptions) {
		if len(h) == 0 {
			return
		}
		if o.headers == nil {
			o.headers = make(map[string]string, len(h))
		}
		maps.Copy(o.headers, h)
	}
}
