package access

import (
	"context"
	"fmt"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
)

// Client is a Go WebSocket client of an access node, as a browser would
// be: Subscribe, then Next for each frame.
type Client struct {
	ws *websocket.Conn
}

// Dial connects to the access node whose HTTP server is at addr
// (host:port).
func Dial(ctx context.Context, addr string) (*Client, error) {
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	return &Client{ws: ws}, nil
}

// Subscribe asks for the profile events of user; the confirmation comes
// as a frame (Next) with Subscribed set.
func (c *Client) Subscribe(ctx context.Context, user string) error {
	b, err := protojson.Marshal(&ClientFrame{Op: &ClientFrame_Subscribe{Subscribe: user}})
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// Next returns the next frame from the access node.
func (c *Client) Next(ctx context.Context) (*ServerFrame, error) {
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f ServerFrame
	if err := protojson.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("access: bad frame from the server: %w", err)
	}
	return &f, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.ws.Close(websocket.StatusNormalClosure, "") }
