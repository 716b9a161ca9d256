package topic

import (
	"fmt"
	"testing"
)

// BenchmarkMatch: one key against 100,000 subscriptions (hosts of many
// types, with "*" and "#" patterns mixed in), and fan-out to 10,000
// subscribers of one pattern.
func BenchmarkMatch(b *testing.B) {
	var tr Trie[int]
	id := 0
	for t := 0; t < 100; t++ {
		for h := 0; h < 990; h++ {
			if _, err := tr.Add(fmt.Sprintf("type%d.host%d", t, h), id); err != nil {
				b.Fatal(err)
			}
			id++
		}
		tr.Add(fmt.Sprintf("type%d.*", t), id)
		id++
		tr.Add(fmt.Sprintf("type%d.#", t), id)
		id++
	}
	for i := 0; i < 800; i++ {
		tr.Add(fmt.Sprintf("#.host%d", i), id)
		id++
	}
	b.Logf("%d subscriptions", tr.Len())
	b.Run("100k-subscriptions", func(b *testing.B) {
		n := 0
		for b.Loop() {
			_ = tr.Match("type42.host7", func(int) { n++ })
		}
		if n == 0 {
			b.Fatal("no match")
		}
	})
	var fan Trie[int]
	for i := 0; i < 10000; i++ {
		fan.Add("metrics.*", i)
	}
	b.Run("fanout-10k", func(b *testing.B) {
		n := 0
		for b.Loop() {
			_ = fan.Match("metrics.cpu", func(int) { n++ })
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
	})
}
