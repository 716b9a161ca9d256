package topic_test

import (
	"fmt"
	"slices"

	"github.com/switchboard-go/switchboard/exchange/topic"
)

func Example() {
	var subs topic.Trie[string]
	subs.Add("TYPE.*", "every host of TYPE")
	subs.Add("*.*", "every two-word key")
	subs.Add("TYPE.#", "TYPE and below")
	subs.Add("audit.#", "audit")
	var got []string
	_ = subs.Match("TYPE.host1", func(s string) { got = append(got, s) })
	slices.Sort(got)
	fmt.Println(got)
	_, err := subs.Add("TYPE*", "bad")
	fmt.Println(err)
	// Output:
	// [TYPE and below every host of TYPE every two-word key]
	// topic: invalid pattern: "TYPE*": word 1 ("TYPE*") mixes a wildcard with text
}
