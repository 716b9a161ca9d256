package access

import (
	"errors"
	"testing"
)

func TestParseClientFrame(t *testing.T) {
	for _, ok := range []string{`{"subscribe":"u3"}`, `{"unsubscribe":"user-42_x"}`} {
		if _, err := ParseClientFrame([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"subscribe":""}`, `{"subscribe":"a.b"}`, `{"subscribe":"#"}`,
		`{"subscribe":"u1","unsubscribe":"u2"}`, `{"nosuch":1}`, `{"subscribe":3}`, "\xff"} {
		if _, err := ParseClientFrame([]byte(bad)); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%q: %v, want ErrBadFrame", bad, err)
		}
	}
}

// FuzzParseClientFrame: no input panics, and a frame accepted names a
// user that is a valid routing key word.
func FuzzParseClientFrame(f *testing.F) {
	for _, s := range []string{`{"subscribe":"u3"}`, `{"unsubscribe":"u9"}`, `{}`, `{"subscribe":"a.b"}`, `not json`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseClientFrame(b)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("error %v is not ErrBadFrame", err)
			}
			return
		}
		u := fr.GetSubscribe() + fr.GetUnsubscribe()
		if !validUser(u) {
			t.Fatalf("accepted user %q", u)
		}
	})
}
