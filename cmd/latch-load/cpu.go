package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// USER_HZ: /proc reports CPU time in clock ticks of 1/100 s on every Linux
// configuration Go supports.
const tick = 10 * time.Millisecond

// processCPU is the user+system CPU time a process has used.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces; the fields after it start
	// with the state (field 3), so utime and stime (14 and 15) are the
	// 12th and 13th after the parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * tick
}

// machineBusy is the CPU time all processes of the machine have used
// (everything but idle and iowait), plus time stolen by the hypervisor.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var total int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		var n int64
		fmt.Sscan(v, &n)
		total += n
	}
	return time.Duration(total) * tick
}

// cpuSnap is a reading of the CPU time of the machine, the server and
// this process.
type cpuSnap struct {
	at                 time.Time
	machine, srv, self time.Duration
}

func snapCPU(serverPID int) cpuSnap {
	return cpuSnap{at: time.Now(), machine: machineBusy(), srv: processCPU(serverPID), self: processCPU(os.Getpid())}
}

// CPUUse is how many cores were busy, on average, between two readings:
// the server, the load generator, and everything else on the machine
// (other processes, the hypervisor's steal). "Other" much above zero means
// the machine was not quiet and the figures of that phase are suspect.
type CPUUse struct {
	Server float64 `json:"server_cores"`
	Load   float64 `json:"loadgen_cores"`
	Other  float64 `json:"other_cores"`
}

func (a cpuSnap) to(b cpuSnap) CPUUse {
	el := b.at.Sub(a.at).Seconds()
	if el <= 0 {
		return CPUUse{}
	}
	srv, self := (b.srv - a.srv).Seconds(), (b.self - a.self).Seconds()
	other := (b.machine - a.machine).Seconds() - srv - self
	return CPUUse{Server: srv / el, Load: self / el, Other: max(0, other/el)}
}

// add accumulates CPU use over several windows, weighted by their length.
type cpuAcc struct {
	server, load, other, secs float64
}

func (c *cpuAcc) add(u CPUUse, secs float64) {
	c.server += u.Server * secs
	c.load += u.Load * secs
	c.other += u.Other * secs
	c.secs += secs
}

func (c *cpuAcc) use() CPUUse {
	if c.secs == 0 {
		return CPUUse{}
	}
	return CPUUse{Server: c.server / c.secs, Load: c.load / c.secs, Other: c.other / c.secs}
}

// Waiting for a quiet machine: on a shared machine, other processes' CPU
// use would be measured as latch's. Before each window the load waits
// until everything else together uses less than quietCores for a second,
// for at most quietWait (then it goes ahead and the "other" column shows
// the damage).
var (
	quietCores float64
	quietWait  time.Duration
	quietTotal time.Duration // how long the run waited
)

func waitQuiet(serverPID int) {
	if quietCores <= 0 {
		return
	}
	t0 := time.Now()
	deadline := t0.Add(quietWait)
	warned := false
	for {
		a := snapCPU(serverPID)
		time.Sleep(time.Second)
		u := a.to(snapCPU(serverPID))
		if u.Other < quietCores || time.Now().After(deadline) {
			quietTotal += time.Since(t0)
			return
		}
		if !warned && time.Since(t0) > 5*time.Second {
			progress("waiting for the machine to quiet down (other processes use %.2f cores)", u.Other)
			warned = true
		}
	}
}
