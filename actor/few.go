package actor

import "iter"

// few is a map for the links and monitors of one process: nothing until
// the first entry, then a short slice searched in order, and a Go map once
// it outgrows fewMax entries. Most processes hold none or a couple (a
// controller monitors its exchange, which monitors it back), and a Go map
// of one entry costs 200–400 B; a supervisor or an exchange with
// thousands gets the map's constant time. The zero value is empty. It is
// not safe for concurrent use: the process's lock guards it.
type few[K comparable, V any] struct{ b *fewBody[K, V] }

type fewBody[K comparable, V any] struct {
	s []fewEntry[K, V] // while there are at most fewMax entries
	m map[K]V          // beyond: every entry, s is nil
}

type fewEntry[K comparable, V any] struct {
	k K
	v V
}

const fewMax = 8

func (f *few[K, V]) put(k K, v V) {
	if f.b == nil {
		f.b = &fewBody[K, V]{}
	}
	b := f.b
	if b.m != nil {
		b.m[k] = v
		return
	}
	for i := range b.s {
		if b.s[i].k == k {
			b.s[i].v = v
			return
		}
	}
	if len(b.s) < fewMax {
		b.s = append(b.s, fewEntry[K, V]{k, v})
		return
	}
	b.m = make(map[K]V, 2*fewMax)
	for _, e := range b.s {
		b.m[e.k] = e.v
	}
	b.s = nil
	b.m[k] = v
}

// get returns what k holds.
func (f *few[K, V]) get(k K) (V, bool) {
	var v V
	if f.b == nil {
		return v, false
	}
	if f.b.m != nil {
		v, ok := f.b.m[k]
		return v, ok
	}
	for _, e := range f.b.s {
		if e.k == k {
			return e.v, true
		}
	}
	return v, false
}

// del removes k and returns what it held.
func (f *few[K, V]) del(k K) (V, bool) {
	var v V
	if f.b == nil {
		return v, false
	}
	b := f.b
	if b.m != nil {
		v, ok := b.m[k]
		delete(b.m, k)
		return v, ok
	}
	for i := range b.s {
		if b.s[i].k == k {
			v = b.s[i].v
			last := len(b.s) - 1
			b.s[i] = b.s[last]
			b.s[last] = fewEntry[K, V]{}
			b.s = b.s[:last]
			return v, true
		}
	}
	return v, false
}

func (f *few[K, V]) len() int {
	switch {
	case f.b == nil:
		return 0
	case f.b.m != nil:
		return len(f.b.m)
	}
	return len(f.b.s)
}

// all yields every entry; the loop must not change f (see delFunc).
func (f *few[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		if f.b == nil {
			return
		}
		if f.b.m != nil {
			for k, v := range f.b.m {
				if !yield(k, v) {
					return
				}
			}
			return
		}
		for _, e := range f.b.s {
			if !yield(e.k, e.v) {
				return
			}
		}
	}
}

// delFunc removes the entries for which drop returns true.
func (f *few[K, V]) delFunc(drop func(K, V) bool) {
	if f.b == nil {
		return
	}
	b := f.b
	if b.m != nil {
		for k, v := range b.m {
			if drop(k, v) {
				delete(b.m, k)
			}
		}
		return
	}
	kept := b.s[:0]
	for _, e := range b.s {
		if !drop(e.k, e.v) {
			kept = append(kept, e)
		}
	}
	clear(b.s[len(kept):])
	b.s = kept
}
