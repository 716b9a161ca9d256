package exchange

import "maps"

// Header returns the request's header key, "" if it has none.
func (r *Request) Header(key string) string { return r.Headers[key] }

// SetHeader sets the request's header key to value in a copy of its
// headers, leaving the map it had (perhaps the client's, in one node)
// as it was.
func (r *Request) SetHeader(key, value string) {
	h := make(map[string]string, len(r.Headers)+1)
	maps.Copy(h, r.Headers)
	h[key] = value
	r.Headers = h
}
