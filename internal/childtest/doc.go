// Package childtest runs nodes of a test in OS processes of their own: the
// test binary started again with an environment that tells its TestMain
// (or an init) to play a child instead of running tests. A child says
// what it sees as lines on stdout, stops cleanly when its stdin closes,
// and dies with the test process; a test reads its lines with Expect and
// ends it with Stop, Kill or its own cleanup.
package childtest
