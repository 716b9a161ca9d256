// Package browsertest tests the dashboard in a real headless browser:
// Debian's chromium, driven by chromedp. TestDashboardInBrowser shows a
// small cluster of nodes in OS processes of their own (this test binary
// started again), one of which is killed with SIGKILL;
// TestDashboardOfTheUmbrella shows the umbrella example's seven nodes
// (its binary built once with go build, each node in a process group of
// its own, as make demo runs them) from a node of the test, and the
// failover of the users core after kill -9 of core-a.
//
// scripts/chromium.sh installs chromium if it is missing
// (scripts/test.sh runs it and passes its path in SWITCHBOARD_CHROMIUM);
// without a browser the tests skip and say so. With
// SWITCHBOARD_SCREENSHOTS=DIR (a directory of the repository if
// relative: docs) the umbrella's test writes the page's screenshots
// there (docs/ holds the ones of docs/operations.md).
package browsertest
