package main

// The published figures the issue asks for, beside the measured ones. They
// were measured on other hardware, years ago, and are shown as such.

// erlangSeed: the Erlang messaging system of the seed article, cycles/s.
// One node: an old mobile Intel i7. Three nodes: Docker containers over
// NAT on a 10G network; CPU never above 250 %.
var erlangSeed = map[Topology]map[Shape]float64{
	OneNode: {
		{Cycles: 10000, Callers: 1}: 26987, {Cycles: 20000, Callers: 1}: 26915, {Cycles: 100000, Callers: 1}: 26957,
		{Cycles: 100000, Callers: 2}: 44240, {Cycles: 100000, Callers: 4}: 53459, {Cycles: 100000, Callers: 10}: 52283, {Cycles: 100000, Callers: 100}: 49317,
	},
	ThreeNodes: {
		{Cycles: 10000, Callers: 1}: 8684, {Cycles: 20000, Callers: 1}: 8424, {Cycles: 100000, Callers: 1}: 8655,
		{Cycles: 100000, Callers: 2}: 15160, {Cycles: 100000, Callers: 4}: 19133, {Cycles: 100000, Callers: 10}: 24399, {Cycles: 100000, Callers: 100}: 34517,
	},
}

// openStackRPC: OpenStack performance-docs, RabbitMQ with oslo.messaging,
// client and server on the master, HA queues off, section "RPC CALL";
// three RabbitMQ nodes on 2× Xeon E5-2680 v3 servers, 10G network.
var openStackRPC = []struct {
	Threads   int
	MsgPerSec float64
	LatencyMs float64
}{
	{50, 2956.7, 13.8},
	{100, 4197.8, 21.5},
	{250, 5122.3, 47.5},
	{350, 5088.6, 67.5},
	{500, 3978.6, 98.3},
}

// openStackCastPeak: the same page's RPC CAST peak (the seed article's
// section number points at the CAST table), msg/s at 100 threads.
const openStackCastPeak = 9372.1
