// Package browsertest tests the dashboard in a real headless browser:
// Debian's chromium, driven by chromedp, showing a cluster of nodes in
// OS processes of their own, one of which is killed with SIGKILL.
//
// scripts/chromium.sh installs chromium if it is missing
// (scripts/test.sh runs it and passes its path in SWITCHBOARD_CHROMIUM);
// without a browser the test skips and says so. With
// SWITCHBOARD_SCREENSHOTS=DIR it writes the page's screenshots there
// (docs/ holds the ones of docs/operations.md).
package browsertest
