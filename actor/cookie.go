package actor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// CookieTag returns HMAC-SHA256(cookie, label) in hex, or "" if the node
// has no cookie: a value nodes of one cluster share and others cannot
// forge, for stores outside the transport (Consul's catalog) where a node
// must show it belongs without showing the cookie. Like any MAC, it is as
// strong as the cookie: use a long random one.
func (n *Node) CookieTag(label string) string {
	if n.cfg.Cookie == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(n.cfg.Cookie))
	m.Write([]byte(label))
	return hex.EncodeToString(m.Sum(nil))
}
