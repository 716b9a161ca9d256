// Package consultest runs a real Consul agent for tests: `consul agent
// -dev` on free loopback ports, from the binary that scripts/consul.sh
// builds (bin/consul, or $SWITCHBOARD_CONSUL). The agent is stopped when the
// test ends, also when it fails.
package consultest
