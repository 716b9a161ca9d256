package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// With Config.TLS set, the listener accepts TLS only and every dial is a TLS
// client with the same config: Certificates is the node's own certificate,
// presented as a server and, when the listener asks for one, as a client;
// RootCAs verifies the peers it dials; ClientCAs with ClientAuth set to
// tls.RequireAndVerifyClientCert makes it mutual. The cookie handshake runs
// inside the TLS connection.

// checkTLS reports a TLS config that could never accept a connection.
func checkTLS(c *tls.Config) error {
	if c == nil {
		return nil
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return errors.New("transport: the TLS config has no certificate to serve")
	}
	return nil
}

// dialConn opens a connection to addr, and the TLS session on it if the
// transport uses TLS. A failed TLS handshake wraps ErrHandshake (or
// ErrHandshakeClosed, if the listener closed the connection).
func (t *Transport) dialConn(ctx context.Context, addr string) (net.Conn, error) {
	c, err := t.cfg.dial(ctx, addr)
	if err != nil || t.cfg.TLS == nil {
		return c, err
	}
	tc := tls.Client(c, clientTLS(t.cfg.TLS, addr))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, handshakeErr(fmt.Errorf("tls: %w", err))
	}
	return tc, nil
}

// clientTLS is cfg for dialing addr: the server name to verify defaults to
// addr's host, as tls.Dial does.
func clientTLS(cfg *tls.Config, addr string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	c := cfg.Clone()
	c.ServerName = host
	return c
}

// serverHandshake completes the TLS handshake of an accepted connection, so
// that its failure is told apart from a bad Hello. The connection's deadline
// bounds it.
func serverHandshake(c net.Conn) error {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil
	}
	if err := tc.Handshake(); err != nil {
		return handshakeErr(fmt.Errorf("tls: %w", err))
	}
	return nil
}
