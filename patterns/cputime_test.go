package patterns

import "github.com/switchboard-go/switchboard/internal/cputime"

// cpuTime is the CPU time this process has used (0 where it is not
// measured): the benchmarks report it per operation.
var cpuTime = cputime.Self
