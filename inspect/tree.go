package inspect

import (
	"context"

	"github.com/switchboard-go/switchboard/actor"
	"github.com/switchboard-go/switchboard/supervisor"
)

// Tree is a supervision tree: a supervisor and its children, the
// supervisors among them with their own children.
type Tree struct {
	// The supervisor's own record in its parent (ID, Type, Restart,
	// Restarts); for the root, only PID is set.
	supervisor.ChildInfo
	// Strategy and SupRestarts are the supervisor's, for a child that is
	// a running supervisor.
	Strategy    supervisor.Strategy
	SupRestarts uint64
	Children    []Tree
}

// AppTree is an application's supervision tree.
type AppTree struct {
	App  supervisor.AppInfo
	Tree Tree
}

// SupervisionTree walks the supervision tree under the supervisor sup, on
// any node. A supervisor that is gone is actor.ErrNoProcess; one that goes
// during the walk leaves its subtree without children.
func SupervisionTree(ctx context.Context, n *actor.Node, sup *actor.PID) (Tree, error) {
	t := Tree{ChildInfo: supervisor.ChildInfo{Child: supervisor.Child{PID: sup, Type: supervisor.TypeSupervisor}}}
	return t, walk(ctx, n, &t, true)
}

func walk(ctx context.Context, n *actor.Node, t *Tree, root bool) error {
	info, err := supervisor.Inspect(ctx, n, t.PID)
	if err != nil {
		if root {
			return err
		}
		return nil
	}
	t.Strategy, t.SupRestarts = info.Strategy, info.Restarts
	for _, c := range info.Children {
		child := Tree{ChildInfo: c}
		if c.Type == supervisor.TypeSupervisor && c.PID != nil {
			if err := walk(ctx, n, &child, false); err != nil {
				return err
			}
		}
		t.Children = append(t.Children, child)
	}
	return ctx.Err()
}

// Trees walks the supervision tree of every application running on the
// node at address, as its inspector lists them.
func Trees(ctx context.Context, n *actor.Node, address string) ([]AppTree, error) {
	info, err := Node(ctx, n, address)
	if err != nil {
		return nil, err
	}
	out := make([]AppTree, 0, len(info.Applications))
	for _, a := range info.Applications {
		t, err := SupervisionTree(ctx, n, a.Supervisor)
		if err != nil {
			return out, err
		}
		out = append(out, AppTree{App: a, Tree: t})
	}
	return out, nil
}
