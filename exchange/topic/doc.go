// Package topic parses routing keys and topic patterns and matches keys
// against many patterns at once, with the semantics of AMQP's topic
// exchange (RabbitMQ's): a key is a list of words separated by dots; in a
// pattern "*" stands for exactly one word and "#" for zero or more. So
// "TYPE.*" matches every "TYPE.host", "*.*" every two-word key, "a.#"
// matches "a" and "a.b.c", and "#" everything. Words may be empty ("a..b"
// has three words, the middle one empty); the empty string is the key of
// no words.
//
// A Trie holds the patterns of many subscriptions and finds those a key
// matches in time that depends on the key and the patterns it touches, not
// on the number of subscriptions.
package topic
