package topic

// Trie maps topic patterns to the subscribers that hold them and finds the
// subscribers a routing key matches. It is not safe for concurrent use:
// its owner (an exchange process) serialises access.
type Trie[V comparable] struct {
	root  node[V]
	subs  int
	epoch uint64
	memo  map[visit[V]]struct{}
	hits  []*node[V]
	words []string // the words of the key being matched
}

type node[V comparable] struct {
	parent *node[V]
	word   string // the edge from parent: a word, "*" or "#"
	words  map[string]*node[V]
	star   *node[V]
	hash   *node[V]
	subs   map[V]struct{}
	seen   uint64 // the epoch of the last match that collected this node
}

type visit[V comparable] struct {
	n *node[V]
	i int
}

// Len returns the number of subscriptions (pattern, subscriber pairs).
func (t *Trie[V]) Len() int { return t.subs }

// Add subscribes v to pattern; false if it already was. Errors wrap
// ErrInvalidPattern.
func (t *Trie[V]) Add(pattern string, v V) (bool, error) {
	words, err := ParsePattern(pattern)
	if err != nil {
		return false, err
	}
	n := &t.root
	for _, w := range words {
		n = n.child(w, true)
	}
	if _, ok := n.subs[v]; ok {
		return false, nil
	}
	if n.subs == nil {
		n.subs = map[V]struct{}{}
	}
	n.subs[v] = struct{}{}
	t.subs++
	return true, nil
}

// Remove unsubscribes v from pattern; false if it was not subscribed.
func (t *Trie[V]) Remove(pattern string, v V) bool {
	words, err := ParsePattern(pattern)
	if err != nil {
		return false
	}
	n := &t.root
	for _, w := range words {
		if n = n.child(w, false); n == nil {
			return false
		}
	}
	if _, ok := n.subs[v]; !ok {
		return false
	}
	delete(n.subs, v)
	t.subs--
	for n.parent != nil && n.empty() { // prune the branch that holds nothing
		n.parent.drop(n)
		n = n.parent
	}
	return true
}

// Match calls fn once for every subscriber with a pattern that key
// matches (once even if several of its patterns match). Errors wrap
// ErrInvalidKey; fn is then not called.
func (t *Trie[V]) Match(key string, fn func(V)) error {
	words, err := appendKey(t.words[:0], key)
	if err != nil {
		return err
	}
	t.words = words // kept for the next key: a match allocates no words
	t.epoch++
	t.hits = t.hits[:0]
	clear(t.memo)
	t.walk(&t.root, words, 0)
	clear(words)
	switch len(t.hits) {
	case 0:
	case 1:
		for v := range t.hits[0].subs {
			fn(v)
		}
	default: // a subscriber may hold several matching patterns
		seen := make(map[V]struct{})
		for _, n := range t.hits {
			for v := range n.subs {
				if _, dup := seen[v]; !dup {
					seen[v] = struct{}{}
					fn(v)
				}
			}
		}
	}
	return nil
}

// walk collects the nodes whose pattern matches words[i:] from n.
func (t *Trie[V]) walk(n *node[V], words []string, i int) {
	if n.hash != nil || n.parent != nil && n.word == "#" {
		// "#" can reach one node at many positions: visit each pair once,
		// so patterns like "#.#.#" stay linear in the key.
		if t.memo == nil {
			t.memo = map[visit[V]]struct{}{}
		}
		k := visit[V]{n, i}
		if _, done := t.memo[k]; done {
			return
		}
		t.memo[k] = struct{}{}
	}
	if i == len(words) {
		if len(n.subs) > 0 && n.seen != t.epoch {
			n.seen = t.epoch
			t.hits = append(t.hits, n)
		}
	} else {
		if c := n.words[words[i]]; c != nil {
			t.walk(c, words, i+1)
		}
		if n.star != nil {
			t.walk(n.star, words, i+1)
		}
	}
	if n.hash != nil {
		for j := i; j <= len(words); j++ { // "#" takes zero or more words
			t.walk(n.hash, words, j)
		}
	}
}

func (n *node[V]) child(w string, create bool) *node[V] {
	var c *node[V]
	switch w {
	case "*":
		c = n.star
	case "#":
		c = n.hash
	default:
		c = n.words[w]
	}
	if c != nil || !create {
		return c
	}
	c = &node[V]{parent: n, word: w}
	switch w {
	case "*":
		n.star = c
	case "#":
		n.hash = c
	default:
		if n.words == nil {
			n.words = map[string]*node[V]{}
		}
		n.words[w] = c
	}
	return c
}

func (n *node[V]) empty() bool {
	return len(n.subs) == 0 && len(n.words) == 0 && n.star == nil && n.hash == nil
}

func (n *node[V]) drop(c *node[V]) {
	switch c.word {
	case "*":
		n.star = nil
	case "#":
		n.hash = nil
	default:
		delete(n.words, c.word)
	}
}
