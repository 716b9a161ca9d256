package exchange

import (
	"errors"
	"strings"
	"testing"
)

// A Func strategy's decision is checked before anything is sent: exactly
// one of targets, redirect and reject, and targets among the connections
// of the requested service group in the member table.
func TestFuncDecisionIsChecked(t *testing.T) {
	m := &members{}
	a, b := Member{PID: pid("a"), ServiceTag: "x"}, Member{PID: pid("b"), ServiceTag: "y", ConnTag: "c1"}
	m.join(a)
	m.join(b)
	m.appoint()
	var decide func(members []Member) Decision
	r := newRouter(&Spec{Strategy: Func, Route: func(req *Request, members []Member) Decision {
		d := decide(members)
		req.ServiceTag = "y" // a rewrite: the check keeps to the group Route was shown
		return d
	}}, m)
	for _, tc := range []struct {
		name    string
		tag     string
		d       func(members []Member) Decision
		mention string // in the error, if the decision is bad
	}{
		{"targets and redirect", "", func(ms []Member) Decision { return Decision{Targets: ms[:1], Redirect: "other"} }, "2 of targets, redirect and reject"},
		{"targets and reject", "", func(ms []Member) Decision { return Decision{Targets: ms[:1], Reject: errors.New("no")} }, "2 of targets, redirect and reject"},
		{"redirect and reject", "", func([]Member) Decision { return Decision{Redirect: "other", Reject: errors.New("no")} }, "2 of targets, redirect and reject"},
		{"all three", "", func(ms []Member) Decision { return Decision{Targets: ms, Redirect: "o", Reject: errors.New("no")} }, "3 of targets"},
		{"unknown controller", "", func([]Member) Decision { return Decision{Targets: []Member{{PID: pid("z")}}} }, "z"},
		{"known controller, unknown connection", "", func([]Member) Decision { return Decision{Targets: []Member{{PID: pid("b"), ConnTag: "c2"}}} }, `connection "c2"`},
		{"member of another group", "x", func([]Member) Decision { return Decision{Targets: []Member{b}} }, `service group "x"`},
		{"one good target and one bad", "", func(ms []Member) Decision { return Decision{Targets: []Member{ms[0], {PID: pid("z")}}} }, "z"},
		{"a changed slice", "x", func(ms []Member) Decision { ms[0] = b; return Decision{Targets: ms[:1]} }, `service group "x"`},
	} {
		decide = tc.d
		targets, redirect, err := r.route(&Request{ServiceTag: tc.tag})
		if !errors.Is(err, ErrBadDecision) || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: route = %v, %q, %v; want ErrBadDecision mentioning %q", tc.name, targets, redirect, err, tc.mention)
		}
	}
	for _, tc := range []struct {
		name     string
		tag      string
		d        func(members []Member) Decision
		targets  int
		redirect string
		err      error
	}{
		{"all members", "", func(ms []Member) Decision { return Decision{Targets: ms} }, 2, "", nil},
		{"a member of the group", "y", func(ms []Member) Decision { return Decision{Targets: ms} }, 1, "", nil},
		{"a copy of a member", "", func([]Member) Decision { return Decision{Targets: []Member{{PID: pid("b"), ConnTag: "c1"}}} }, 1, "", nil},
		{"redirect", "", func([]Member) Decision { return Decision{Redirect: "other"} }, 0, "other", nil},
		{"reject", "", func([]Member) Decision { return Decision{Reject: errors.New("no")} }, 0, "", ErrRejected},
		{"nothing", "", func([]Member) Decision { return Decision{} }, 0, "", ErrNoController},
	} {
		decide = tc.d
		targets, redirect, err := r.route(&Request{ServiceTag: tc.tag})
		if len(targets) != tc.targets || redirect != tc.redirect || !errors.Is(err, tc.err) || errors.Is(err, ErrBadDecision) {
			t.Errorf("%s: route = %v, %q, %v; want %d targets, redirect %q, error %v", tc.name, targets, redirect, err, tc.targets, tc.redirect, tc.err)
		}
	}
}
